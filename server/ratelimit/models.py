"""Rate-limit counters shared by workers (``DatabaseCounterStore``).

Not a store-owned table and not an ``Entity``: a counter is keyed by (``key``, ``window_start``)
and lives two windows (``expires_at``, Unix seconds) before it is purged. Keys look like
``user:<id>``, ``device:<id>``, ``ip:<address>`` or ``login-ip:<address>``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class RateLimitBucket(Base):
    """One key's hit count in one fixed window."""

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # Unix seconds
    count: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_rate_limit_bucket_expires_at", "expires_at"),)

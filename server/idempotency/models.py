"""Idempotency keys (new; Stripe semantics, sync-anchors §1.6).

One row per ``(store, principal, Idempotency-Key)``: the request's fingerprint, whether the
first request is still running (``PENDING``) or finished (``COMPLETED``, with the status and
JSON body to replay), and when the key expires (24 hours after it was first used). The
unique constraint is the atomic claim: a key is taken by inserting its row, never by
checking first.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Entity, StoreOwnedMixin, enum_column


class IdempotencyStatus(enum.StrEnum):
    PENDING = "PENDING"  # the first request is still running (or crashed: see locked_at)
    COMPLETED = "COMPLETED"  # its outcome is stored for replay


class IdempotencyKey(StoreOwnedMixin, Entity):
    """A client's Idempotency-Key and the outcome of the first request that used it."""

    __table_args__ = (
        UniqueConstraint("store_id", "principal", "key"),
        Index("ix_idempotency_key_expires_at", "expires_at"),
    )

    principal: Mapped[str] = mapped_column(String(80))  # "user:<id>" or "device:<id>"
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[IdempotencyStatus] = mapped_column(
        enum_column(IdempotencyStatus), default=IdempotencyStatus.PENDING
    )
    locked_at: Mapped[datetime]  # when the running request claimed the key
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None]
    completed_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]

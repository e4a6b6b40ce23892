"""Point of sale: the seed's ``PosSession`` (#41), and the new ``PosCashMovement`` and
``Device`` tables of product-decisions §2, with ``DeviceStatus``.

Deviations from ``data-model.md`` and why:

PosSession
- ``store_id`` is a real foreign key to the store (the seed has ``storeId`` with no
  relation; the requirements list it as a gap) and ``user_id`` a foreign key to the user.
- Additions (product-decisions §2): ``device_id`` (the terminal whose drawer this is;
  required: a drawer session is always opened at an enrolled terminal, and the terminal
  mints the session's id offline), ``status`` (OPEN/CLOSED), ``counted_by_denomination``
  (the close count, e.g. ``{"20.00": 3, "0.25": 8}``, a JSON object of denomination ->
  count) and ``blind_close`` (default true: the cashier counts before seeing the expected
  figure, product-decisions §3).
- Also added ``closed_by_id`` (a manager may close another cashier's drawer).
- ``opened_at`` and ``closed_at`` are the till's clock (clamped and flagged by the server
  when skewed): a session opened offline reaches the server later, so server receive time
  would misdate it. Nothing is ordered by them; a device's facts are ordered by its push
  sequence.
- The seed's ``cash_difference`` is closing - expected. No unique "one OPEN session per
  device" constraint: sessions are device-authored facts and the server must accept them
  (a session resumed on another device, CHK087, or a late push); the index on
  ``(device_id, status)`` serves the lookup instead.

PosCashMovement (new): PAY_IN / PAY_OUT / DROP in a drawer session, with a positive
``amount``, ``reason``, the staff ``user_id`` and ``occurred_at`` (the till's clock).
Expected cash = opening float + cash sales - cash refunds + pay-ins - pay-outs - drops.

Device (new): an enrolled terminal (sync-anchors §2.4, §2.12).
- ``terminal_number`` is unique per store: it is the ``<terminal no>`` of receipt numbers.
- ``credential_hash`` is NULL until the device has paired; ``pairing_code_hash`` (a
  SHA-256 of a high-entropy one-time code, so it can be looked up; unique) and
  ``pairing_code_expires_at`` are cleared when it pairs.
- Sync position: ``last_pushed_seq`` is the last ``device_seq`` the server applied from
  this device (updated in the same transaction as the op's effects) and
  ``last_pulled_cursor`` the change-log ``seq`` the device last confirmed on pull (used for
  tombstone compaction and "is every till caught up?").
- Also ``last_receipt_counter`` (the highest receipt counter seen from this terminal, so a
  re-installed terminal bound to the same device continues its numbering instead of
  reusing receipt numbers), ``cache_schema_version``, ``paired_at`` and ``revoked_at``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import ID_LENGTH, Entity, Money, StoreOwnedMixin, enum_column, fk, utcnow
from stormcom_pos.domain.enums import CashMovementType, PosSessionStatus

ZERO = Decimal("0")


class DeviceStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"


class Device(StoreOwnedMixin, Entity):
    """An enrolled POS terminal, its credential and its sync position."""

    __table_args__ = (
        UniqueConstraint("store_id", "terminal_number"),
        Index("ix_device_store_id_status", "store_id", "status"),
    )

    name: Mapped[str]
    terminal_number: Mapped[int]  # the <terminal no> in receipt numbers
    status: Mapped[DeviceStatus] = mapped_column(
        enum_column(DeviceStatus), default=DeviceStatus.ACTIVE
    )

    # Credential (hash of the device secret / public-key fingerprint); NULL until paired
    credential_hash: Mapped[str | None] = mapped_column(String(255))
    # One-time pairing code created in the back office: SHA-256, single use, short TTL
    pairing_code_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    pairing_code_expires_at: Mapped[datetime | None]
    paired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    last_seen_at: Mapped[datetime | None]
    app_version: Mapped[str | None] = mapped_column(String(64))
    cache_schema_version: Mapped[int | None]

    # Sync position
    last_pushed_seq: Mapped[int] = mapped_column(BigInteger, default=0)  # last applied device_seq
    last_pulled_cursor: Mapped[int] = mapped_column(BigInteger, default=0)  # change_log seq acked
    last_receipt_counter: Mapped[int] = mapped_column(BigInteger, default=0)


class PosSession(StoreOwnedMixin, Entity):
    """A cash drawer session at a terminal, from opening float to close count."""

    __table_args__ = (
        Index("ix_pos_session_store_id_opened_at", "store_id", "opened_at"),
        Index("ix_pos_session_user_id", "user_id"),
        Index("ix_pos_session_device_id_status", "device_id", "status"),
    )

    # Staff who opened the drawer
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("user"))
    device_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("device"))
    status: Mapped[PosSessionStatus] = mapped_column(
        enum_column(PosSessionStatus), default=PosSessionStatus.OPEN
    )

    # Session timing (the till's clock, see the module docstring)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("user", ondelete="SET NULL")
    )

    # Cash management
    opening_cash: Mapped[Decimal] = mapped_column(Money(10, 2))
    closing_cash: Mapped[Decimal | None] = mapped_column(Money(10, 2))
    expected_cash: Mapped[Decimal | None] = mapped_column(Money(10, 2))
    cash_difference: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # closing - expected
    # Close count by denomination: {"20.00": 3, "0.25": 8}
    counted_by_denomination: Mapped[dict[str, Any] | None]
    blind_close: Mapped[bool] = mapped_column(default=True)

    # Metrics
    transaction_count: Mapped[int] = mapped_column(default=0)
    total_sales: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)

    notes: Mapped[str | None] = mapped_column(Text)

    cash_movements: Mapped[list[PosCashMovement]] = relationship(
        back_populates="pos_session",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="PosCashMovement.occurred_at",
    )


class PosCashMovement(StoreOwnedMixin, Entity):
    """Cash put into or taken out of a drawer outside a sale."""

    __table_args__ = (
        Index("ix_pos_cash_movement_pos_session_id", "pos_session_id"),
        Index("ix_pos_cash_movement_user_id", "user_id"),
    )

    pos_session_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), fk("pos_session", ondelete="CASCADE")
    )
    type: Mapped[CashMovementType] = mapped_column(enum_column(CashMovementType))
    amount: Mapped[Decimal] = mapped_column(Money(10, 2))  # positive; type gives the sign
    reason: Mapped[str | None]
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("user"))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)  # the till's clock

    pos_session: Mapped[PosSession] = relationship(back_populates="cash_movements")


class DeviceToken(StoreOwnedMixin, Entity):
    """A short-lived opaque access token of a paired terminal (new; issue 4 §9).

    A terminal trades its long-lived credential for one of these (15 minutes by default) and
    sends it as ``Authorization: Bearer std_...``. Only the SHA-256 is stored; revoking the
    device deletes its tokens, so they stop working at once. Expired rows are purged whenever
    the device asks for a new token.
    """

    __table_args__ = (Index("ix_device_token_device_id_expires_at", "device_id", "expires_at"),)

    device_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("device", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]

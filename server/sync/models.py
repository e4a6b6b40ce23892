"""Terminal sync tables (product-decisions §2 and §6, sync-anchors §2.4-§2.7, §2.11).
None of them is in the seed.

``ChangeLog`` - the per-store change sequence terminals pull from. Every server write to a
mirrored entity appends ``(store_id, seq, entity_type, entity_id, op)`` in the *same*
transaction; deletes (hard or soft) are ``DELETE`` tombstones. ``seq`` is unique per store
and must be commit-ordered: it is allocated from ``StoreSyncState`` (below), never from
``MAX(seq) + 1``, a database sequence or a clock. The mechanism comes later; this is the
table. ``payload`` is optional (tombstones, small entities); pulls normally send the
entity's current row. The index on ``(store_id, entity_type, entity_id)`` serves
compaction (keep only the newest entry per entity).

``PushInbox`` - the server's record of every terminal outbox entry it has applied
(sync-anchors' ``device_op``), written in the same transaction as the op's effects and kept
permanently (a till can be offline for days). ``op_id`` is the idempotency key, unique
(terminals mint collision-free ids; the server still checks the op belongs to the pushing
device); ``(device_id, device_seq)`` is unique, so a sequence number is applied once.
``request_hash`` detects the same ``op_id`` re-sent with a different payload (a client bug,
422). ``payload`` is kept so a QUARANTINED op (an undecodable or failing op, recorded so the
queue keeps moving) can be re-driven after a fix. ``server_seq`` is the store's change
``seq`` at which the effects committed (the device's write checkpoint).

``StoreSyncState`` - one row per store, holding ``last_seq``. Why a counter row is needed:
allocating ``seq`` with ``UPDATE store_sync_state SET last_seq = last_seq + :k WHERE
store_id = :s RETURNING last_seq`` locks the row until commit, so a second writer of the same
store waits for the first to commit and sequence order equals commit order, on PostgreSQL
and SQLite alike. ``MAX(seq) + 1`` races (duplicates), and a PostgreSQL SEQUENCE is neither
per store nor commit-ordered: a transaction holding 41 can commit after one holding 42, and
a device that already pulled up to 42 would skip 41 forever. The row also holds the store's
``epoch`` (part of every cursor; replacing it, e.g. after a restore, makes old cursors answer
410 resync_required) and ``compacted_below_seq`` (the compaction horizon: cursors below it
must resync). Taking the lock as late as possible in the transaction keeps contention to the
commit tail.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import ID_LENGTH, Entity, StoreOwnedMixin, enum_column, fk, new_id, utcnow

OP_ID_LENGTH = 64  # room for a cuid2 or a UUID in text form


class ChangeOp(enum.StrEnum):
    UPSERT = "UPSERT"
    DELETE = "DELETE"  # tombstone


class PushOpStatus(enum.StrEnum):
    APPLIED = "APPLIED"
    QUARANTINED = "QUARANTINED"  # recorded with its error; the device's queue moves on


class ChangeLog(StoreOwnedMixin, Entity):
    """One change of one mirrored row, in the store's commit order."""

    __table_args__ = (
        UniqueConstraint("store_id", "seq"),
        Index(
            "ix_change_log_store_id_entity_type_entity_id", "store_id", "entity_type", "entity_id"
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger)
    entity_type: Mapped[str] = mapped_column(String(64))  # the entity's table name
    entity_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    op: Mapped[ChangeOp] = mapped_column(enum_column(ChangeOp))
    payload: Mapped[dict[str, Any] | None]
    committed_at: Mapped[datetime] = mapped_column(default=utcnow)  # server clock


class PushInbox(StoreOwnedMixin, Entity):
    """A terminal outbox entry the server has applied (or quarantined), exactly once."""

    __table_args__ = (
        UniqueConstraint("device_id", "device_seq"),
        Index("ix_push_inbox_store_id_status", "store_id", "status"),
    )

    device_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("device", ondelete="CASCADE"))
    op_id: Mapped[str] = mapped_column(String(OP_ID_LENGTH), unique=True)
    device_seq: Mapped[int] = mapped_column(BigInteger)  # gap-free per device
    kind: Mapped[str] = mapped_column(String(64))  # op type: order.submit, drawer.open, ...
    op_version: Mapped[int] = mapped_column(default=1)
    request_hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the op's payload
    payload: Mapped[dict[str, Any] | None]  # kept for re-driving quarantined ops
    staff_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # as sent; not checked
    occurred_at: Mapped[datetime | None]  # the till's clock

    status: Mapped[PushOpStatus] = mapped_column(enum_column(PushOpStatus))
    result: Mapped[dict[str, Any] | None]  # what the push response reports for this op
    error: Mapped[str | None] = mapped_column(Text)
    server_seq: Mapped[int | None] = mapped_column(BigInteger)  # change seq of the effects
    received_at: Mapped[datetime] = mapped_column(default=utcnow)  # server clock


class StoreSyncState(StoreOwnedMixin, Entity):
    """Per-store change-sequence counter; its row lock orders the store's commits."""

    __table_args__ = (UniqueConstraint("store_id"),)

    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    epoch: Mapped[str] = mapped_column(String(ID_LENGTH), default=new_id)
    compacted_below_seq: Mapped[int] = mapped_column(BigInteger, default=0)

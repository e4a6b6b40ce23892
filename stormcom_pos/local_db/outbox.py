"""The outbox: every fact this till recorded, as a push op, in a gap-free device sequence.

An entry is appended in the same local transaction as the fact it records (never with a
network call inside). ``device_seq`` is ``max + 1`` under ``BEGIN IMMEDIATE``, so a rolled-back
transaction gives its number back and the sequence has no gaps. ``op_id`` (a cuid2) and the
payload never change once written: a retry resends exactly the same op.

Entries are never deleted: applied ones are the archive a till re-pushes after a server is
restored from a backup (``requeue_after``), and quarantined or rejected ones stay visible
(``problem_entries``) until someone deals with them on the server. ``subject_id`` is the id of
the fact the op carries (order, refund, drawer session, movement, count, customer); the stock
view joins on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cuid2 import create_id
from pydantic import BaseModel
from sqlalchemy import Connection, func, select, update

from stormcom_pos.domain.sync_protocol import MAX_PUSH_OPS, OpKind, OpResult, OpStatus, PushOp
from stormcom_pos.local_db.codec import dumps, from_iso, loads, to_iso, utcnow
from stormcom_pos.local_db.ledger_tables import outbox

OP_VERSION = 1
PENDING = "pending"
PROBLEM_STATUSES = (OpStatus.QUARANTINED.value, OpStatus.REJECTED.value)

# The payload field that names the fact each kind of op carries.
SUBJECT_FIELDS: dict[OpKind, str] = {
    OpKind.ORDER_SUBMIT: "order_id",
    OpKind.REFUND_SUBMIT: "refund_id",
    OpKind.DRAWER_OPEN: "pos_session_id",
    OpKind.CASH_MOVE: "movement_id",
    OpKind.DRAWER_CLOSE: "pos_session_id",
    OpKind.DRAWER_NO_SALE: "event_id",
    OpKind.STOCK_ADJUST: "movement_id",
    OpKind.STOCK_COUNT: "count_id",
    OpKind.CUSTOMER_CREATE: "customer_id",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboxEntry:
    op_id: str
    device_seq: int
    kind: OpKind
    op_version: int
    occurred_at: datetime
    staff_id: str | None
    payload: dict[str, Any]
    status: str  # pending | applied | duplicate | quarantined | rejected
    error_code: str | None
    error: str | None
    anomalies: list[str]
    attempts: int
    server_seq: int | None

    def to_push_op(self) -> PushOp:
        return PushOp(op_id=self.op_id, device_seq=self.device_seq, kind=self.kind,
                      op_version=self.op_version, occurred_at=self.occurred_at,
                      staff_id=self.staff_id, payload=self.payload)


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    quarantined: int
    rejected: int


_ENTRY_COLUMNS = (outbox.c.op_id, outbox.c.device_seq, outbox.c.kind, outbox.c.op_version,
                  outbox.c.occurred_at, outbox.c.staff_id, outbox.c.payload, outbox.c.status,
                  outbox.c.error_code, outbox.c.error, outbox.c.anomalies, outbox.c.attempts,
                  outbox.c.server_seq)


def _entry(row: Any) -> OutboxEntry:
    occurred_at = from_iso(row.occurred_at)
    assert occurred_at is not None
    return OutboxEntry(
        op_id=row.op_id, device_seq=row.device_seq, kind=OpKind(row.kind),
        op_version=row.op_version, occurred_at=occurred_at, staff_id=row.staff_id,
        payload=loads(row.payload), status=row.status, error_code=row.error_code,
        error=row.error, anomalies=list(loads(row.anomalies) or []), attempts=row.attempts,
        server_seq=row.server_seq)


_LAST_SEQ = select(func.coalesce(func.max(outbox.c.device_seq), 0))
_INSERT = outbox.insert()


def last_device_seq(conn: Connection) -> int:
    """The highest device_seq written so far (0 for a new till)."""
    return int(conn.execute(_LAST_SEQ).scalar_one())


def append(conn: Connection, kind: OpKind, payload: BaseModel, *, staff_id: str | None,
           occurred_at: datetime) -> OutboxEntry:
    """Add an op for a fact recorded in this same transaction; returns the new entry."""
    data = payload.model_dump(mode="json")
    subject = data.get(SUBJECT_FIELDS[kind])
    if not subject:
        raise ValueError(f"{kind} payload has no {SUBJECT_FIELDS[kind]}")
    now = to_iso(utcnow())
    values = {
        "op_id": create_id(), "device_seq": last_device_seq(conn) + 1, "kind": kind.value,
        "op_version": OP_VERSION, "subject_id": subject, "occurred_at": to_iso(occurred_at),
        "staff_id": staff_id, "payload": dumps(data), "status": PENDING, "anomalies": "[]",
        "attempts": 0, "created_at": now, "updated_at": now,
    }
    conn.execute(_INSERT, values)
    return OutboxEntry(
        op_id=values["op_id"], device_seq=values["device_seq"], kind=kind,
        op_version=OP_VERSION, occurred_at=from_iso(values["occurred_at"]) or occurred_at,
        staff_id=staff_id, payload=data, status=PENDING, error_code=None, error=None,
        anomalies=[], attempts=0, server_seq=None)


def next_batch(conn: Connection, limit: int = MAX_PUSH_OPS) -> list[OutboxEntry]:
    """The oldest pending entries, in device_seq order."""
    rows = conn.execute(select(*_ENTRY_COLUMNS).where(outbox.c.status == PENDING)
                        .order_by(outbox.c.device_seq).limit(limit))
    return [_entry(row) for row in rows]


def entry(conn: Connection, op_id: str) -> OutboxEntry | None:
    row = conn.execute(select(*_ENTRY_COLUMNS).where(outbox.c.op_id == op_id)).first()
    return _entry(row) if row is not None else None


def apply_results(conn: Connection, results: Sequence[OpResult]) -> None:
    """Record the server's answer for each op; a duplicate takes its original status."""
    now = to_iso(utcnow())
    for result in results:
        status = result.status
        if status is OpStatus.DUPLICATE and result.original_status is not None:
            status = result.original_status
        done = conn.execute(
            update(outbox).where(outbox.c.op_id == result.op_id).values(
                status=status.value, error_code=result.error_code, error=result.error,
                anomalies=dumps(list(result.anomalies)), server_seq=result.server_seq,
                attempts=outbox.c.attempts + 1, updated_at=now, last_attempt_at=now))
        if done.rowcount == 0:
            log.warning("push result for unknown op %s ignored", result.op_id)


def mark_attempt(conn: Connection, op_ids: Iterable[str]) -> None:
    """Count a push attempt that got no per-op answer (network error, 5xx)."""
    ids = list(op_ids)
    if ids:
        now = to_iso(utcnow())
        conn.execute(update(outbox).where(outbox.c.op_id.in_(ids)).values(
            attempts=outbox.c.attempts + 1, last_attempt_at=now, updated_at=now))


def counts(conn: Connection) -> OutboxCounts:
    """How many entries wait to be pushed, and how many the server refused to apply."""
    by_status: dict[str, int] = dict(conn.execute(select(outbox.c.status, func.count())
                                  .group_by(outbox.c.status)).all())
    return OutboxCounts(pending=by_status.get(PENDING, 0),
                        quarantined=by_status.get(OpStatus.QUARANTINED.value, 0),
                        rejected=by_status.get(OpStatus.REJECTED.value, 0))


def problem_entries(conn: Connection) -> list[OutboxEntry]:
    """Quarantined and rejected entries, oldest first (they stay until dealt with)."""
    rows = conn.execute(select(*_ENTRY_COLUMNS).where(outbox.c.status.in_(PROBLEM_STATUSES))
                        .order_by(outbox.c.device_seq))
    return [_entry(row) for row in rows]


def requeue_after(conn: Connection, device_seq: int) -> int:
    """After a server restore: every entry past the server's last applied seq is pending again.

    Returns how many entries changed back to pending.
    """
    done = conn.execute(
        update(outbox).where(outbox.c.device_seq > device_seq, outbox.c.status != PENDING)
        .values(status=PENDING, error_code=None, error=None, anomalies="[]", server_seq=None,
                updated_at=to_iso(utcnow())))
    return int(done.rowcount)

"""The till's sync state: one row in the ledger (who it is, where the pull stands).

``cursor`` is the opaque pull cursor; it is written in the same transaction as the page it
follows. ``snapshot_*`` is the resume point of an interrupted bootstrap. Clearing the cursor
and ``bootstrap_done`` asks for a resync; the outbox and the facts are never touched by it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from stormcom_pos.local_db.codec import from_iso, to_iso
from stormcom_pos.local_db.ledger_tables import sync_state

_BOOLS = frozenset({"bootstrap_done", "selling_ready"})
_TIMES = frozenset({"last_success_at"})


@dataclass
class SyncState:
    device_id: str | None
    store_id: str | None
    server_url: str | None
    cursor: str | None
    epoch: str | None
    bootstrap_done: bool
    selling_ready: bool
    snapshot_as_of: int | None
    snapshot_entity: str | None
    snapshot_after: str | None
    snapshot_loaded_rows: int
    last_success_at: datetime | None
    last_error: str | None
    clock_offset_seconds: float | None
    server_last_applied_seq: int | None


FIELD_NAMES = tuple(f.name for f in fields(SyncState))
# Built once: read on every scan (the stock shown is the pulled level plus unsynced moves).
_GET_STATE = select(*(sync_state.c[name] for name in FIELD_NAMES)).where(sync_state.c.id == 1)


def get_state(conn: Connection) -> SyncState:
    """The till's sync state."""
    row = conn.execute(_GET_STATE).one()
    values: dict[str, Any] = dict(row._mapping)
    for name in _BOOLS:
        values[name] = bool(values[name])
    for name in _TIMES:
        values[name] = from_iso(values[name])
    return SyncState(**values)


def update_state(conn: Connection, **changes: Any) -> SyncState:
    """Change some fields of the sync state; return the whole state after the change."""
    unknown = set(changes) - set(FIELD_NAMES)
    if unknown:
        raise TypeError(f"unknown sync state fields: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _BOOLS:
            value = int(bool(value))
        elif name in _TIMES and value is not None:
            value = to_iso(value)
        values[name] = value
    if values:
        conn.execute(update(sync_state).where(sync_state.c.id == 1).values(**values))
    return get_state(conn)


def mark_resync(conn: Connection) -> SyncState:
    """Ask for a full resync of the cache: no cursor, no bootstrap, no snapshot progress."""
    return update_state(conn, cursor=None, bootstrap_done=False, selling_ready=False,
                        snapshot_as_of=None, snapshot_entity=None, snapshot_after=None,
                        snapshot_loaded_rows=0)

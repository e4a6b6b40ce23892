"""The sync feed terminals read: pull after a cursor, snapshot pages, and compaction.

**Pull** (sync-anchors §2.7): the store's ``change_log`` after the cursor's seq, in seq order
(commit order, see :mod:`server.sync.changes`), ``limit`` entries a page. Several entries of
one entity in a page collapse into one change carrying the entity's *current* row (an
entity deleted or soft-deleted since is a tombstone). Rows may be newer than the page's last
seq; their own change follows in a later page, and a till applies upserts idempotently. The
cursor is ``(epoch, seq)``: another epoch (the database was restored or reset), a seq below
``compacted_below_seq`` or beyond the head answers 410 ``resync_required``. A device's pull
records the cursor it sent as confirmed (``Device.last_pulled_cursor``, for compaction).

**Snapshot** (§2.8): keyset pages by id of one entity type, for a till's first start. The first
page reads ``as_of_seq`` (the store's ``last_seq``) and its rows in one snapshot; the till
then pulls from ``(epoch, as_of_seq)`` once every entity type is in. Pages are read in a
REPEATABLE READ transaction on PostgreSQL and in an explicit read transaction on SQLite (WAL
gives it one snapshot), each on its own connection. Later pages are read at a later time: a
row changed meanwhile arrives newer than ``as_of`` (harmless) and its change is in the pull
from ``as_of``; a row deleted meanwhile is missing from the page and its tombstone is in that
pull. So nothing is lost, whatever commits during the bootstrap (failure case F14), and an
interrupted bootstrap resumes with ``after`` (F15).

**Compaction** (§2.11): below a horizon ``h``, superseded entries go first, then the rest
(tombstones and last upserts), and ``compacted_below_seq`` moves up to ``h``: a cursor ``c``
needs ``c + 1`` onwards, so one with ``c + 1 < h`` must resync. The horizon is the lowest of:
the caller's ``below_seq``; the first entry younger than the retention period; and the lowest
confirmed cursor (+ 1) of the store's active terminals seen within the retention period (a
till offline longer than that resyncs).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, delete, exists, func, select, update
from sqlalchemy.orm import Session, aliased

from server.audit import service as audit_service
from server.db.base import new_id, utcnow
from server.db.tenancy import apply_pg_setting
from server.errors import ServiceError
from server.pos.models import Device, DeviceStatus
from server.sync import mirror
from server.sync.models import ChangeLog, ChangeOp, StoreSyncState
from stormcom_pos.domain import sync_protocol as proto

RETENTION = timedelta(days=30)
SNAPSHOT_TYPES = (*proto.SNAPSHOT_SELLING, *proto.SNAPSHOT_LATER)
SnapshotType = enum.StrEnum(  # type: ignore[misc]
    "SnapshotType", {t.upper(): t for t in SNAPSHOT_TYPES})


class ResyncRequired(ServiceError):
    status = 410
    default_code = "resync_required"
    default_title = "Resync required"


class BadCursor(ServiceError):
    status = 400
    default_code = "bad_cursor"
    default_title = "Bad cursor"


@dataclass(frozen=True)
class FeedState:
    epoch: str
    last_seq: int
    compacted_below_seq: int


def state(conn: Connection, store_id: str, *, create: bool = True) -> FeedState | None:
    """The store's feed position; the counter row is created (race-free) if missing."""
    t = cast(Table, StoreSyncState.__table__)
    query = select(t.c.epoch, t.c.last_seq, t.c.compacted_below_seq).where(
        t.c.store_id == store_id)
    row = conn.execute(query).first()
    if row is None and not create:
        return None
    if row is None:
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        now = utcnow()
        conn.execute(make(t).values(
            id=new_id(), store_id=store_id, last_seq=0, epoch=new_id(), compacted_below_seq=0,
            created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["store_id"]))
        row = conn.execute(query).one()
    return FeedState(str(row[0]), int(row[1]), int(row[2]))


def _check_cursor(feed: FeedState, epoch: str, seq: int) -> None:
    if epoch != feed.epoch:
        raise ResyncRequired("This cursor is from another epoch of the server's data (it was "
                             "restored or reset). Push your outbox, then start again from a "
                             "snapshot.", server_epoch=feed.epoch)
    if seq + 1 < feed.compacted_below_seq:  # it needs seq + 1 onwards
        raise ResyncRequired("This cursor is older than the change log keeps. Push your "
                             "outbox, then start again from a snapshot.",
                             compacted_below_seq=feed.compacted_below_seq)
    if seq > feed.last_seq:
        raise ResyncRequired("This cursor is ahead of the server's change log (the server "
                             "is behind this terminal). Start again from a snapshot.")


def pull(session: Session, *, store_id: str, cursor: str | None, limit: int, now: datetime,
         device_id: str | None = None) -> proto.PullResponse:
    """One page of the store's changes after ``cursor`` (see the module docstring)."""
    conn = session.connection()
    feed = state(conn, store_id)
    assert feed is not None
    if cursor:
        try:
            epoch, seq = proto.decode_cursor(cursor)
        except proto.BadCursor as exc:
            raise BadCursor(exc.message) from exc
    else:
        epoch, seq = feed.epoch, 0
    _check_cursor(feed, epoch, seq)
    log = cast(Table, ChangeLog.__table__)
    entries = conn.execute(
        select(log.c.seq, log.c.entity_type, log.c.entity_id, log.c.op)
        .where(log.c.store_id == store_id, log.c.seq > seq)
        .order_by(log.c.seq).limit(limit + 1)).all()
    has_more = len(entries) > limit
    entries = entries[:limit]
    latest: dict[tuple[str, str], tuple[int, ChangeOp]] = {}
    for entry_seq, entity_type, entity_id, op in entries:
        latest.pop((entity_type, entity_id), None)
        latest[(entity_type, entity_id)] = (entry_seq, ChangeOp(op))
    wanted: dict[str, list[str]] = {}
    for (entity_type, entity_id), (_, op) in latest.items():
        if op is ChangeOp.UPSERT and entity_type in mirror.ENTITY_TYPES:
            wanted.setdefault(entity_type, []).append(entity_id)
    rows = {et: mirror.current_rows(conn, store_id, et, ids) for et, ids in wanted.items()}
    changes = []
    for (entity_type, entity_id), (entry_seq, _) in sorted(latest.items(), key=lambda i: i[1]):
        data = rows.get(entity_type, {}).get(entity_id)
        changes.append(proto.Change(seq=entry_seq, entity_type=entity_type, id=entity_id,
                                    op="upsert" if data is not None else "delete", data=data))
    if device_id is not None and seq > 0:
        _confirm(session, device_id, seq)
    next_seq = entries[-1][0] if entries else seq
    return proto.PullResponse(changes=changes, next_cursor=proto.encode_cursor(feed.epoch,
                              next_seq), has_more=has_more, server_time=now,
                              server_epoch=feed.epoch)


def _confirm(session: Session, device_id: str, seq: int) -> None:
    """The device holds everything up to the cursor it sent (compaction reads this)."""
    session.execute(update(Device).where(Device.id == device_id,
                                         Device.last_pulled_cursor < seq)
                    .values(last_pulled_cursor=seq)
                    .execution_options(synchronize_session=False))
    audit_service.mark_housekeeping(session, Device)


# ---- snapshot -------------------------------------------------------------------------------


def _snapshot_connection(engine: Engine) -> Any:
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def snapshot(engine: Engine, *, store_id: str, entity_type: str, after: str | None,
             as_of: int | None, limit: int, now: datetime) -> proto.SnapshotPage:
    """One keyset page of ``entity_type`` (see the module docstring)."""
    if entity_type not in SNAPSHOT_TYPES:
        raise ServiceError(f"{entity_type!r} is not a mirrored entity type.",
                           code="unknown_entity_type")
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as writer:  # the counter row of a store that never changed
        if postgres:
            apply_pg_setting(writer, store_id)
        state(writer, store_id)
    with _snapshot_connection(engine) as conn:
        if not postgres:
            conn.exec_driver_sql("BEGIN")  # one read snapshot for the page (WAL)
        try:
            if postgres:
                apply_pg_setting(conn, store_id)
            feed = state(conn, store_id, create=False)
            assert feed is not None
            if as_of is None:
                as_of = feed.last_seq
            elif as_of > feed.last_seq or as_of + 1 < feed.compacted_below_seq:
                raise ResyncRequired("This snapshot's as_of is no longer served (the change "
                                     "log was compacted or reset). Start the snapshot again.",
                                     compacted_below_seq=feed.compacted_below_seq)
            rows = mirror.page_rows(conn, store_id, entity_type, after, limit + 1)
        finally:
            if postgres:
                conn.rollback()
            else:
                conn.exec_driver_sql("ROLLBACK")
    more = len(rows) > limit
    rows = rows[:limit]
    return proto.SnapshotPage(entity_type=entity_type, rows=rows, as_of_seq=as_of,
                              next_after=str(rows[-1]["id"]) if more else None,
                              server_time=now, server_epoch=feed.epoch)


# ---- compaction -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Compaction:
    horizon: int
    superseded: int
    dropped: int


def horizon(session: Session, *, store_id: str, now: datetime,
            retention: timedelta = RETENTION, below_seq: int | None = None) -> int:
    log = ChangeLog.__table__
    feed = state(session.connection(), store_id)
    assert feed is not None
    bounds = [feed.last_seq + 1]
    if below_seq is not None:
        bounds.append(below_seq)
    young = session.connection().execute(
        select(func.min(log.c.seq)).where(log.c.store_id == store_id,
                                          log.c.committed_at > now - retention)).scalar()
    bounds.append(young if young is not None else feed.last_seq + 1)
    cursors = session.scalar(select(func.min(Device.last_pulled_cursor)).where(
        Device.store_id == store_id, Device.status == DeviceStatus.ACTIVE,
        Device.credential_hash.is_not(None), Device.last_pulled_cursor > 0,
        Device.last_seen_at >= now - retention))
    if cursors is not None:
        bounds.append(int(cursors) + 1)  # a till at cursor c needs c + 1 onwards
    return max(min(bounds), feed.compacted_below_seq)


def compact(session: Session, *, store_id: str, now: datetime, retention: timedelta = RETENTION,
            below_seq: int | None = None) -> Compaction:
    """Drop change-log entries below the horizon and move ``compacted_below_seq`` up to it."""
    h = horizon(session, store_id=store_id, now=now, retention=retention, below_seq=below_seq)
    conn = session.connection()
    log = cast(Table, ChangeLog.__table__)
    newer = aliased(log)
    superseded = conn.execute(delete(log).where(
        log.c.store_id == store_id, log.c.seq < h,
        exists().where(and_(newer.c.store_id == log.c.store_id,
                            newer.c.entity_type == log.c.entity_type,
                            newer.c.entity_id == log.c.entity_id, newer.c.seq > log.c.seq)))
    ).rowcount
    dropped = conn.execute(delete(log).where(log.c.store_id == store_id, log.c.seq < h)).rowcount
    t = cast(Table, StoreSyncState.__table__)
    conn.execute(update(t).where(t.c.store_id == store_id, t.c.compacted_below_seq < h)
                 .values(compacted_below_seq=h, updated_at=now))
    return Compaction(horizon=h, superseded=int(superseded or 0), dropped=int(dropped or 0))

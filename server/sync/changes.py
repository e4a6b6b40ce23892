"""Change capture: every write to a mirrored entity becomes a ``ChangeLog`` row, sequenced in
commit order (product-decisions §6, sync-anchors §1.8 fix (a), §2.6 step 4).

How it works (SQLAlchemy session events, registered once for every ``Session``):

- ``before_flush`` notes the rows a hard delete will take with it through the database's
  ``ON DELETE CASCADE`` / ``SET NULL`` (a deleted product's variants, a deleted customer's
  addresses, products whose tax rate is deleted...), which the ORM never sees;
- ``after_flush`` notes ``(store_id, entity_type, entity_id, op)`` for every mirrored object
  inserted, updated (only if a column really changed), soft-deleted (``deleted_at`` set:
  a DELETE tombstone; cleared again: an UPSERT) or deleted. A ``user`` change fans out as a
  ``staff`` change into every store the user is a member of, but only when a staff-facing
  field changed (a login's bookkeeping is not a change);
- ORM bulk statements (``session.execute(update(Variant)...)``, ``insert(Product)`` with a
  list) are caught in ``do_orm_execute`` (:mod:`server.sync.changes_bulk`);
- ``before_commit`` (of the outermost transaction) flushes, then :func:`allocate` takes ``k``
  numbers per store with ``UPDATE store_sync_state SET last_seq = last_seq + k ... RETURNING``
  and inserts the ``ChangeLog`` rows. That row lock is held until commit, so a second writer of
  the same store waits and sequence order is commit order, on PostgreSQL and SQLite alike. A
  missing counter row is created race-free (``INSERT .. ON CONFLICT DO NOTHING``, then the
  UPDATE). Several stores in one transaction are locked in id order (no deadlock).

A SAVEPOINT that rolls back takes its noted changes with it; a rolled-back transaction notes
nothing. Within one transaction the entries of an entity collapse into one (its last op).
Sessions that touch no mirrored entity pay one list check per flush and per commit.

Not captured: raw SQL (``text()``) and statements run on a bare ``Connection``. Write mirrored
tables through an ORM session (or call :func:`record`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Table, event, insert, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from server.db.base import Base, new_id, utcnow
from server.db.tenancy import apply_pg_setting, current_store
from server.sync import mirror
from server.sync.models import ChangeLog, ChangeOp, StoreSyncState

PENDING_KEY = "sync_pending"  # session.info: [(store_id, entity_type, entity_id, op)]
MARKS_KEY = "sync_marks"  # session.info: {id(savepoint transaction): len(pending) at its start}
ALLOCATED_KEY = "sync_allocated"  # session.info: {store_id: last seq allocated this transaction}
EPOCHS_KEY = "sync_epochs"  # session.info: {store_id: epoch} of the stores sequenced

Key = tuple[str, str, str, ChangeOp]


def _pending(session: Session) -> list[Key]:
    pending: list[Key] | None = session.info.get(PENDING_KEY)
    if pending is None:
        pending = session.info[PENDING_KEY] = []
    return pending


def record(session: Session, *, store_id: str, entity_type: str, entity_id: str,
           op: ChangeOp = ChangeOp.UPSERT) -> None:
    """Note a change of a mirrored entity explicitly (for writes the events cannot see)."""
    if entity_type not in mirror.ENTITY_TYPES:
        raise ValueError(f"{entity_type!r} is not a mirrored entity type")
    _pending(session).append((store_id, entity_type, entity_id, op))


def record_many(session: Session, items: Iterable[Key]) -> None:
    _pending(session).extend(items)


# ---- what changed --------------------------------------------------------------------------


@cache
def _children() -> dict[str, tuple[tuple[Table, str, str], ...]]:
    """parent table -> (mirrored child table, fk column, ondelete) for CASCADE / SET NULL."""
    out: dict[str, list[tuple[Table, str, str]]] = defaultdict(list)
    for name in mirror.MIRRORED_TABLES:
        child = Base.metadata.tables[name]
        for fk in child.foreign_keys:
            ondelete = (fk.ondelete or "").upper()
            parent = fk.column.table.name
            if ondelete in ("CASCADE", "SET NULL") and parent != "store":
                out[parent].append((child, fk.parent.name, ondelete))
    return {k: tuple(v) for k, v in out.items()}


def _staff_stores(conn: Connection, user_id: str) -> list[str]:
    member = Base.metadata.tables["user_store"]
    return list(conn.execute(select(member.c.store_id).where(member.c.user_id == user_id))
                .scalars())


def _cascade(session: Session, table_name: str, row_id: str, out: list[Key],
             seen: set[tuple[str, str]]) -> None:
    children = _children().get(table_name)
    if not children or (table_name, row_id) in seen:
        return
    seen.add((table_name, row_id))
    conn = session.connection()
    for child, column, ondelete in children:
        rows = conn.execute(select(child.c.id, child.c.store_id).where(child.c[column] == row_id))
        for child_id, store_id in rows:
            if ondelete == "CASCADE":
                out.append((store_id, child.name, child_id, ChangeOp.DELETE))
                _cascade(session, child.name, child_id, out, seen)
            else:
                out.append((store_id, child.name, child_id, ChangeOp.UPSERT))


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    if not session.deleted:
        return
    out: list[Key] = []
    seen: set[tuple[str, str]] = set()
    for obj in session.deleted:
        name = _table_name(obj)
        if name in _children() and name != "store":
            _cascade(session, name, obj.id, out, seen)
    if out:
        record_many(session, out)


def _staff_changed(obj: Any) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in mirror.STAFF_USER_FIELDS)


def _table_name(obj: Any) -> str | None:
    # ``__table__``, not ``__tablename__``: the latter is a declared attr, derived anew on
    # every read, and a flush asks it of every row.
    table = getattr(type(obj), "__table__", None)
    return table.name if table is not None else None


def _keys_for(session: Session, obj: Any, *, deleted: bool, new: bool) -> list[Key]:
    name = _table_name(obj)
    if name == "user":
        if new or deleted or not _staff_changed(obj):
            return []  # a new user has no store yet; deleting one cascades its memberships
        op = ChangeOp.DELETE if obj.deleted_at is not None else ChangeOp.UPSERT
        return [(s, mirror.STAFF, obj.id, op)
                for s in _staff_stores(session.connection(), obj.id)]
    if name not in mirror.MIRRORED_TABLES:
        return []
    if not (new or deleted) and not session.is_modified(obj, include_collections=False):
        return []
    store_id = obj.id if name == mirror.STORE else obj.store_id
    if deleted and name == mirror.STORE:
        return []  # the store's log goes with it
    soft_deleted = getattr(obj, "deleted_at", None) is not None
    op = ChangeOp.DELETE if deleted or soft_deleted else ChangeOp.UPSERT
    keys: list[Key] = [(store_id, name, obj.id, op)]
    if name == "user_store":
        keys.append((store_id, mirror.STAFF, obj.user_id, op))
    return keys


def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
    out: list[Key] = []
    for obj in session.new:
        out += _keys_for(session, obj, deleted=False, new=True)
    for obj in session.dirty:
        out += _keys_for(session, obj, deleted=False, new=False)
    for obj in session.deleted:
        out += _keys_for(session, obj, deleted=True, new=False)
    if out:
        record_many(session, out)


# ---- savepoints and rollbacks --------------------------------------------------------------


def _after_transaction_create(session: Session, trans: SessionTransaction) -> None:
    if trans.nested:
        session.info.setdefault(MARKS_KEY, {})[id(trans)] = len(_pending(session))


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    if previous.nested:
        mark = session.info.get(MARKS_KEY, {}).pop(id(previous), None)
        if mark is not None:
            del _pending(session)[mark:]


def _after_transaction_end(session: Session, trans: SessionTransaction) -> None:
    if trans.parent is None:  # the outermost transaction is over: committed or rolled back
        session.info.pop(PENDING_KEY, None)
        session.info.pop(MARKS_KEY, None)
        session.info.pop(ALLOCATED_KEY, None)
        session.info.pop(EPOCHS_KEY, None)


# ---- sequencing ----------------------------------------------------------------------------


def _bump(conn: Connection, store_id: str, k: int) -> tuple[int, str] | None:
    """Take k numbers from the store's counter row (locking it until commit): the last one
    and the store's epoch."""
    state = cast(Table, StoreSyncState.__table__)
    stmt = (update(state).where(state.c.store_id == store_id)
            .values(last_seq=state.c.last_seq + k, updated_at=utcnow())
            .returning(state.c.last_seq, state.c.epoch))
    row = conn.execute(stmt).first()
    if row is not None:
        return int(row[0]), str(row[1])
    store = Base.metadata.tables["store"]
    if conn.execute(select(store.c.id).where(store.c.id == store_id)).first() is None:
        return None  # the store is being deleted; its log goes with it
    make = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    now = utcnow()
    conn.execute(make(state).values(
        id=new_id(), store_id=store_id, last_seq=0, epoch=new_id(), compacted_below_seq=0,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["store_id"]))
    row = conn.execute(stmt).one()
    return int(row[0]), str(row[1])


def _collapse(pending: list[Key]) -> dict[str, dict[tuple[str, str], ChangeOp]]:
    by_store: dict[str, dict[tuple[str, str], ChangeOp]] = defaultdict(dict)
    for store_id, entity_type, entity_id, op in pending:
        entities = by_store[store_id]
        entities.pop((entity_type, entity_id), None)  # keep the last op, in last-change order
        entities[(entity_type, entity_id)] = op
    return by_store


def allocate(session: Session) -> dict[str, int]:
    """Flush, then sequence the noted changes: ``{store_id: last seq}`` for this call.

    Called by ``before_commit``; the push service calls it itself at the end of a batch to
    learn its write checkpoint (the lock is then held for the commit tail only). Never call
    it inside a SAVEPOINT that may still roll back."""
    session.flush()
    pending = session.info.get(PENDING_KEY)
    if not pending:
        return {}
    session.info[PENDING_KEY] = []
    session.info.pop(MARKS_KEY, None)  # nothing left to roll back to
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    current = current_store(session)
    log = cast(Table, ChangeLog.__table__)
    allocated: dict[str, int] = {}
    for store_id, entities in sorted(_collapse(pending).items()):
        if postgres and store_id != current:
            apply_pg_setting(conn, store_id)  # row-level security: write this store's log
        bumped = _bump(conn, store_id, len(entities))
        if bumped is not None:
            last, epoch = bumped
            session.info.setdefault(EPOCHS_KEY, {})[store_id] = epoch
            now = utcnow()
            first = last - len(entities) + 1
            conn.execute(insert(log), [
                {"id": new_id(), "store_id": store_id, "seq": first + i, "entity_type": et,
                 "entity_id": eid, "op": op, "payload": None, "committed_at": now,
                 "created_at": now, "updated_at": now}
                for i, ((et, eid), op) in enumerate(entities.items())
            ])
            allocated[store_id] = last
        if postgres and store_id != current:
            apply_pg_setting(conn, current or "")
    session.info.setdefault(ALLOCATED_KEY, {}).update(allocated)
    return allocated


def epoch_of(session: Session, store_id: str) -> str | None:
    """The epoch of a store this transaction has sequenced changes for (else None)."""
    epochs: dict[str, str] = session.info.get(EPOCHS_KEY, {})
    return epochs.get(store_id)


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT release; the outermost commit sequences everything
    allocate(session)


_INSTALLED = False


def install() -> None:
    """Register the capture on every Session (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    from server.sync import changes_bulk

    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", changes_bulk.on_execute)
    event.listen(Session, "after_transaction_create", _after_transaction_create)
    event.listen(Session, "after_soft_rollback", _after_soft_rollback)
    event.listen(Session, "after_transaction_end", _after_transaction_end)
    event.listen(Session, "before_commit", _before_commit)
    _INSTALLED = True


install()

"""Write a session's new rows of some models without the unit of work.

A flush tracks every new object: it collects its values, inserts it, fetches its defaults
back, and registers it as persistent. That bookkeeping cost more than the database did for
a push of a few dozen sales. Their rows (orders, lines, payments, ledger rows, flags, audit
rows) are never read back or changed in that transaction. ``insert_new`` writes such rows
with one Core ``executemany`` per table and drops the objects from the session.

What a flush would check still holds: the tenancy rule for new rows
(``tenancy.check_new``), and the foreign keys. The other pending changes are flushed first,
and the tables go in dependency order. Not for mirrored tables: their changes are captured by
the flush hooks (``server.sync.changes``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Session

from server.db.base import Base
from server.db.tenancy import check_new

_columns: dict[type, list[tuple[str, str]]] = {}
_order: list[Table] = []  # every table, parents first (sorting them costs ~1 ms a call)


def _keys(model: type) -> list[tuple[str, str]]:
    """(attribute, column) pairs of a model's own table."""
    found = _columns.get(model)
    if found is None:
        mapper = inspect(model)
        found = [(attr.key, attr.columns[0].key) for attr in mapper.column_attrs
                 if attr.columns[0].table is mapper.local_table]
        _columns[model] = found
    return found


def insert_new(session: Session, models: tuple[type, ...]) -> int:
    """Insert the session's pending new objects of ``models``; flush the rest first. Returns
    the number of rows written. The objects leave the session (nothing may change them
    afterwards)."""
    pending = list(session.new)
    chosen = [obj for obj in pending if isinstance(obj, models)]
    others = [obj for obj in pending if not isinstance(obj, models)]
    check_new(session, chosen)
    for obj in chosen:
        session.expunge(obj)
    lost = [obj for obj in others if obj not in session]
    if lost:  # an expunge cascaded to a row that is not ours to write
        raise RuntimeError(f"insert_new would drop a new {type(lost[0]).__name__}: "
                           "it hangs off a relationship of a row written in bulk")
    session.flush()  # what these rows refer to (a new customer, a drawer) exists first
    rows: dict[Table, dict[tuple[str, ...], list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list))
    for obj in chosen:
        state = obj.__dict__
        # Only the values set: a column left out gets its default from Core, as in a flush.
        values = {column: state[attr] for attr, column in _keys(type(obj)) if attr in state}
        rows[obj.__table__][tuple(values)].append(values)
    conn = session.connection()
    if not _order:
        _order.extend(Base.metadata.sorted_tables)
    for table in _order:
        for batch in rows.get(table, {}).values():
            conn.execute(table.insert(), batch)
    return len(chosen)

"""A resync that keeps the cache: the till goes on selling from the rows it has while the new
snapshot loads over them.

A first start (nothing to sell from) empties the cache and loads into empty tables. A resync of
a till that could sell (the server's epoch changed, its cursor is too old, a snapshot had to
restart) keeps its rows instead. ``begin`` marks the reload. Every snapshot page notes its ids
(``note``); once an entity type's last page is in, ``sweep`` deletes that type's rows no page
named (deleted on the server meanwhile). ``end`` clears the marks. The marks are in the file,
so a reload cut short by the network or a crash carries on as a reload, and the till sells
throughout.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, select

from stormcom_pos.local_db.cache_apply import table_of
from stormcom_pos.local_db.cache_tables import cache_meta, cache_row, cache_seen

MARK = "reloading"


def begin(conn: Connection) -> None:
    """Start (or start again) a reload over the rows the cache holds."""
    conn.execute(delete(cache_seen))
    conn.execute(delete(cache_meta).where(cache_meta.c.key == MARK))
    conn.execute(cache_meta.insert().values(key=MARK, value="1"))


def active(conn: Connection) -> bool:
    return conn.execute(select(cache_meta.c.value).where(cache_meta.c.key == MARK)).first() \
        is not None


def note(conn: Connection, entity_type: str, ids: Iterable[str]) -> None:
    rows = [(entity_type, i) for i in ids]
    if rows:
        conn.exec_driver_sql("INSERT OR IGNORE INTO cache_seen (entity_type, id) VALUES (?, ?)",
                             rows)


def sweep(conn: Connection, entity_type: str) -> int:
    """Delete the rows of an entity type the new snapshot did not deliver; how many."""
    seen = select(cache_seen.c.id).where(cache_seen.c.entity_type == entity_type)
    table = table_of(entity_type)
    if table is not None:
        stmt = delete(table).where(table.c.id.not_in(seen))
    else:
        stmt = delete(cache_row).where(cache_row.c.entity_type == entity_type,
                                       cache_row.c.id.not_in(seen))
    return conn.execute(stmt).rowcount


def end(conn: Connection) -> None:
    conn.execute(delete(cache_seen))
    conn.execute(delete(cache_meta).where(cache_meta.c.key == MARK))

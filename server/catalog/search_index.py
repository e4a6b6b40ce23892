"""Full-text search over product name and description, per backend.

- PostgreSQL: a stored generated ``tsvector`` column ``search_vector`` (name weighted above
  description) with a GIN index. The ``simple`` configuration, because names are in several
  languages (English, Bengali) and stemming English would mangle the rest.
- SQLite: an FTS5 external-content table ``product_fts`` over ``product``'s rowid, kept in step
  by triggers.

Both are created by the migration (they are not ORM columns) and left out of autogenerate
(``server.db.migrate.include_object``). On SQLite a batch migration that rebuilds ``product``
drops the triggers and renumbers rowids: such a migration must call ``uninstall`` before and
``install`` after.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_SQLITE_INSTALL = [
    "CREATE VIRTUAL TABLE product_fts USING fts5(name, description, content='product', "
    "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER product_fts_ai AFTER INSERT ON product BEGIN "
    "INSERT INTO product_fts(rowid, name, description) "
    "VALUES (new.rowid, new.name, new.description); END",
    "CREATE TRIGGER product_fts_ad AFTER DELETE ON product BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, name, description) "
    "VALUES ('delete', old.rowid, old.name, old.description); END",
    "CREATE TRIGGER product_fts_au AFTER UPDATE OF name, description ON product BEGIN "
    "INSERT INTO product_fts(product_fts, rowid, name, description) "
    "VALUES ('delete', old.rowid, old.name, old.description); "
    "INSERT INTO product_fts(rowid, name, description) "
    "VALUES (new.rowid, new.name, new.description); END",
    "INSERT INTO product_fts(product_fts) VALUES ('rebuild')",
]
_SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS product_fts_au",
    "DROP TRIGGER IF EXISTS product_fts_ad",
    "DROP TRIGGER IF EXISTS product_fts_ai",
    "DROP TABLE IF EXISTS product_fts",
]
_PG_INSTALL = [
    "ALTER TABLE product ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(description, '')), 'B')) STORED",
    "CREATE INDEX ix_product_search_vector ON product USING gin (search_vector)",
]
_PG_UNINSTALL = [
    "DROP INDEX IF EXISTS ix_product_search_vector",
    "ALTER TABLE product DROP COLUMN IF EXISTS search_vector",
]


def install(conn: Connection) -> None:
    for stmt in _PG_INSTALL if conn.dialect.name == "postgresql" else _SQLITE_INSTALL:
        conn.execute(text(stmt))


def uninstall(conn: Connection) -> None:
    for stmt in _PG_UNINSTALL if conn.dialect.name == "postgresql" else _SQLITE_UNINSTALL:
        conn.execute(text(stmt))


def _terms(query: str) -> list[str]:
    return re.findall(r"\w+", query, flags=re.UNICODE)[:8]


def search_product_ids(
    session: Session, *, store_id: str, query: str, limit: int = 20
) -> list[str]:
    """Ids of the store's live products matching every word of ``query`` as a prefix, best first."""
    terms = _terms(query)
    if not terms:
        return []
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{t}:*" for t in terms)
        rows = session.execute(
            text(
                "SELECT id FROM product WHERE store_id = :store AND deleted_at IS NULL "
                "AND search_vector @@ to_tsquery('simple', :q) "
                "ORDER BY ts_rank(search_vector, to_tsquery('simple', :q)) DESC, name LIMIT :n"
            ),
            {"store": store_id, "q": tsquery, "n": limit},
        )
    else:
        match = " ".join(f'"{t}"*' for t in terms)
        rows = session.execute(
            text(
                "SELECT p.id FROM product_fts f JOIN product p ON p.rowid = f.rowid "
                "WHERE product_fts MATCH :q AND p.store_id = :store AND p.deleted_at IS NULL "
                "ORDER BY bm25(product_fts, 10.0, 1.0), p.name LIMIT :n"
            ),
            {"store": store_id, "q": match, "n": limit},
        )
    return [r[0] for r in rows]

"""The cache: the till's read-only mirror of server rows (sync_protocol SNAPSHOT_* types).

The cache is disposable. It is not migrated: its shape is ``CACHE_SCHEMA_VERSION``, and a file
holding another version has its cache dropped and recreated and is marked for a resync
(``database.LocalDb.open``). Bump the version for any change to these tables.

Every mirrored row is kept as the JSON the server sends (``server/sync/mirror.py``), so new
server columns need no local change. The rows the till searches also get columns of their
own: ``cache_variant`` (sku, barcode, PLU, product, price, stock) and ``cache_product``
(name, status) are indexed, ``cache_customer`` is searched by name, email and phone, and
``cache_search`` is an FTS5 index over product name, variant name, SKU, barcode and PLU whose
rowid is the variant's ``key``. Every other entity type lives in ``cache_row``.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Index, Integer, MetaData, String, Table, Text

CACHE_SCHEMA_VERSION = 2  # 2: cache_seen (a resync keeps the cache)

cache_metadata = MetaData()

cache_meta = Table(
    "cache_meta", cache_metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

cache_row = Table(
    "cache_row", cache_metadata,
    Column("entity_type", String, primary_key=True),
    Column("id", String, primary_key=True),
    Column("data", Text, nullable=False),
    sqlite_with_rowid=False,
)

# The ids a resync's snapshot has delivered so far, per entity type (``cache_reload``).
cache_seen = Table(
    "cache_seen", cache_metadata,
    Column("entity_type", String, primary_key=True),
    Column("id", String, primary_key=True),
    sqlite_with_rowid=False,
)

cache_product = Table(
    "cache_product", cache_metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("status", String, nullable=False),
    Column("data", Text, nullable=False),
)

cache_variant = Table(
    "cache_variant", cache_metadata,
    Column("key", Integer, primary_key=True),  # the rowid; also the FTS rowid
    Column("id", String, nullable=False, unique=True),
    Column("product_id", String, nullable=False, index=True),
    Column("name", String, nullable=False),  # from its attributes ("M / Red"), "" if none
    Column("sku", String, nullable=False, index=True),
    Column("barcode", String, index=True),
    Column("plu", String, index=True),
    Column("price", String, nullable=False),
    Column("stock_quantity", Integer, nullable=False),
    Column("is_active", Integer, nullable=False),
    Column("data", Text, nullable=False),
)

cache_product_category = Table(
    "cache_product_category", cache_metadata,
    Column("id", String, primary_key=True),
    Column("product_id", String, nullable=False, index=True),
    Column("category_id", String, nullable=False, index=True),
    Column("data", Text, nullable=False),
)

cache_customer = Table(
    "cache_customer", cache_metadata,
    Column("id", String, primary_key=True),
    Column("first_name", String(collation="NOCASE"), nullable=False),
    Column("last_name", String(collation="NOCASE")),
    Column("email", String(collation="NOCASE")),
    Column("phone", String),
    Column("data", Text, nullable=False),
    Index("ix_cache_customer_last_name", "last_name"),
    Index("ix_cache_customer_first_name", "first_name"),
    Index("ix_cache_customer_email", "email"),
    Index("ix_cache_customer_phone", "phone"),
)

SEARCH_TABLE = "cache_search"
_CREATE_SEARCH = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
    "text, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
)


def create_cache(conn: Connection) -> None:
    """Create every cache table that is missing."""
    cache_metadata.create_all(conn, checkfirst=True)
    conn.exec_driver_sql(_CREATE_SEARCH)


def drop_cache(conn: Connection) -> None:
    """Drop every cache table, including ones an older cache version had."""
    names = [name for (name,) in conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'cache\\_%' ESCAPE '\\'"
        " AND name NOT LIKE 'cache\\_search\\_%' ESCAPE '\\'")]
    for name in names:
        conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}"')


def stored_version(conn: Connection) -> int | None:
    """The cache schema version the file holds; None when it has no cache."""
    exists = conn.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cache_meta'").first()
    if exists is None:
        return None
    value = conn.execute(
        cache_meta.select().with_only_columns(cache_meta.c.value)
        .where(cache_meta.c.key == "schema_version")).scalar()
    return int(value) if value is not None else None


def write_version(conn: Connection) -> None:
    conn.execute(cache_meta.delete().where(cache_meta.c.key == "schema_version"))
    conn.execute(cache_meta.insert().values(key="schema_version",
                                            value=str(CACHE_SCHEMA_VERSION)))

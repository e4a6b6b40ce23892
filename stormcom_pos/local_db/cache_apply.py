"""Writing server rows into the cache: pull pages, snapshot pages, a full clear.

Upserts replace the whole row (the server sends an entity's current row); tombstones delete
it. Changes are applied in order, in runs of one entity type and op, with executemany. The
search index (``cache_search``) is rebuilt for every variant touched, directly or through its
product's name, once per call; a bootstrap instead builds it once, after its last variant
page. Entity types this till does not mirror are ignored (logged), so a newer server can add
types without breaking older tills.

Call these inside ``db.write()``; the caller stores the new cursor or snapshot position in
the same transaction (``sync_state.update_state``), so data and position move together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, Table, bindparam, delete, select, text

from stormcom_pos.domain.sync_protocol import SNAPSHOT_LATER, SNAPSHOT_SELLING, Change
from stormcom_pos.local_db.cache_tables import (
    SEARCH_TABLE,
    cache_customer,
    cache_meta,
    cache_product,
    cache_product_category,
    cache_row,
    cache_seen,
    cache_variant,
)
from stormcom_pos.local_db.codec import decimal_text, to_decimal

MIRRORED = frozenset((*SNAPSHOT_SELLING, *SNAPSHOT_LATER))
# Attribute keys that describe how a variant is sold, not what it is.
SELLING_ATTRIBUTES = frozenset({"sold_by", "unit", "plu"})
_CHUNK = 500
_UNINDEX = text(
    f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN (SELECT key FROM cache_variant WHERE id IN :ids)"
).bindparams(bindparam("ids", expanding=True))
_INDEX_ALL = text(
    f"INSERT INTO {SEARCH_TABLE} (rowid, text) "
    "SELECT v.key, coalesce(p.name, '') || ' ' || v.name || ' ' || v.sku || ' ' || "
    "coalesce(v.barcode, '') || ' ' || coalesce(v.plu, '') "
    "FROM cache_variant v LEFT JOIN cache_product p ON p.id = v.product_id")
_INDEX = text(f"{_INDEX_ALL.text} WHERE v.id IN :ids").bindparams(
    bindparam("ids", expanding=True))

log = logging.getLogger(__name__)


def variant_name(attributes: Any) -> str:
    """A variant's own name from its attributes ("M / Red"); "" when it has none."""
    if not isinstance(attributes, dict):
        return ""
    return " / ".join(str(v) for k, v in attributes.items()
                      if k not in SELLING_ATTRIBUTES and v not in (None, ""))


def _json(row: dict[str, Any]) -> str:
    # pydantic-core's encoder: the same compact JSON as codec.dumps, several times faster,
    # which matters when a bootstrap stores hundreds of thousands of rows.
    return to_json(row).decode()


def _variant_values(row: dict[str, Any]) -> tuple[Any, ...]:
    attributes = row.get("attributes") or {}
    plu = attributes.get("plu") if isinstance(attributes, dict) else None
    return (
        row["id"], row["product_id"], variant_name(attributes), row.get("sku") or "",
        row.get("barcode") or None, str(plu) if plu else None,
        decimal_text(to_decimal(row.get("price") or "0")), int(row.get("stock_quantity") or 0),
        int(bool(row.get("is_active", True))), _json(row),
    )


def _product_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["id"], row.get("name") or "", row.get("status") or "", _json(row)


def _link_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return row["id"], row["product_id"], row["category_id"], _json(row)


def _customer_values(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["id"], row.get("first_name") or "", row.get("last_name"), row.get("email"),
            row.get("phone"), _json(row))


def _upsert_sql(table: Table, columns: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "id")
    return (f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT (id) DO UPDATE SET {updates}")


# Rows are written with the driver's executemany and positional tuples: SQLAlchemy's
# per-row parameter processing cost more than SQLite's own work on a snapshot page.
_TYPED: dict[str, tuple[Table, str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = {
    "variant": (cache_variant, _upsert_sql(cache_variant, (
        "id", "product_id", "name", "sku", "barcode", "plu", "price", "stock_quantity",
        "is_active", "data")), _variant_values),
    "product": (cache_product, _upsert_sql(cache_product, ("id", "name", "status", "data")),
                _product_values),
    "product_category": (cache_product_category, _upsert_sql(
        cache_product_category, ("id", "product_id", "category_id", "data")), _link_values),
    "customer": (cache_customer, _upsert_sql(cache_customer, (
        "id", "first_name", "last_name", "email", "phone", "data")), _customer_values),
}
_ROW_UPSERT = ("INSERT INTO cache_row (entity_type, id, data) VALUES (?, ?, ?) "
               "ON CONFLICT (entity_type, id) DO UPDATE SET data = excluded.data")


class _Touched:
    """Variants and products whose search text may have changed."""

    def __init__(self) -> None:
        self.variants: set[str] = set()
        self.products: set[str] = set()


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _upsert(conn: Connection, entity_type: str, rows: Sequence[dict[str, Any]],
            touched: _Touched) -> None:
    if not rows:
        return
    if entity_type in _TYPED:
        _, sql, convert = _TYPED[entity_type]
        conn.exec_driver_sql(sql, [convert(row) for row in rows])
    else:
        conn.exec_driver_sql(_ROW_UPSERT, [(entity_type, row["id"], _json(row)) for row in rows])
    if entity_type == "variant":
        touched.variants.update(row["id"] for row in rows)
    elif entity_type == "product":
        touched.products.update(row["id"] for row in rows)


def _unindex(conn: Connection, variant_ids: Sequence[str]) -> None:
    for chunk in _chunks(list(variant_ids)):
        conn.execute(_UNINDEX, {"ids": list(chunk)})


def _delete(conn: Connection, entity_type: str, ids: Sequence[str], touched: _Touched) -> None:
    if entity_type in _TYPED:
        table = _TYPED[entity_type][0]
        if entity_type == "variant":
            _unindex(conn, ids)
        elif entity_type == "product":
            touched.products.update(ids)
        for chunk in _chunks(list(ids)):
            conn.execute(delete(table).where(table.c.id.in_(chunk)))
    else:
        for chunk in _chunks(list(ids)):
            conn.execute(delete(cache_row).where(cache_row.c.entity_type == entity_type,
                                                 cache_row.c.id.in_(chunk)))




def _reindex(conn: Connection, touched: _Touched) -> None:
    variant_ids = set(touched.variants)
    products = list(touched.products)
    for chunk in _chunks(products):
        variant_ids.update(conn.execute(select(cache_variant.c.id)
                                        .where(cache_variant.c.product_id.in_(chunk))).scalars())
    ordered = sorted(variant_ids)
    _unindex(conn, ordered)
    for chunk in _chunks(ordered):
        conn.execute(_INDEX, {"ids": list(chunk)})


def apply_changes(conn: Connection, changes: Sequence[Change]) -> None:
    """Apply one pull page: upserts and tombstones, in order."""
    touched = _Touched()
    for (entity_type, op), run in groupby(changes, key=lambda c: (c.entity_type, c.op)):
        batch = list(run)
        if entity_type not in MIRRORED:
            log.info("ignoring %d change(s) of unmirrored entity type %r", len(batch), entity_type)
            continue
        if op == "upsert":
            rows = {c.id: {**(c.data or {}), "id": c.id} for c in batch}  # last one wins
            _upsert(conn, entity_type, list(rows.values()), touched)
        else:
            _delete(conn, entity_type, list(dict.fromkeys(c.id for c in batch)), touched)
    _reindex(conn, touched)


def load_snapshot_rows(conn: Connection, entity_type: str, rows: Sequence[dict[str, Any]],
                       *, index: bool = True) -> None:
    """Upsert one snapshot page of an entity type. With ``index=False`` the search index is
    left alone: a bootstrap builds it once with :func:`rebuild_search`."""
    if entity_type not in MIRRORED:
        log.info("ignoring snapshot rows of unmirrored entity type %r", entity_type)
        return
    touched = _Touched()
    _upsert(conn, entity_type, rows, touched)
    if index:
        _reindex(conn, touched)


def rebuild_search(conn: Connection) -> None:
    """Index every cached variant afresh (one statement: FTS5 builds it far faster than page
    by page, and nothing is deleted row by row)."""
    conn.exec_driver_sql(f"DELETE FROM {SEARCH_TABLE}")
    conn.execute(_INDEX_ALL)


def clear_cache(conn: Connection) -> None:
    """Empty every cache table (a first load follows); the ledger is not touched."""
    for table in (cache_row, cache_product, cache_variant, cache_product_category,
                  cache_customer, cache_seen):
        conn.execute(delete(table))
    conn.execute(delete(cache_meta).where(cache_meta.c.key != "schema_version"))
    conn.exec_driver_sql(f"DELETE FROM {SEARCH_TABLE}")


def table_of(entity_type: str) -> Table | None:
    """The cache table of an entity type with columns of its own (None: ``cache_row``)."""
    typed = _TYPED.get(entity_type)
    return typed[0] if typed else None

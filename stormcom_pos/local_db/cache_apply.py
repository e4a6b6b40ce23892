"""Writing server rows into the cache: pull pages, snapshot pages, a full clear.

Upserts replace the whole row (the server sends an entity's current row); tombstones delete
it. Changes are applied in order, in runs of one entity type and op, with executemany. The
search index (``cache_search``) is rebuilt for every variant touched, directly or through its
product's name, once per call. Entity types this till does not mirror are ignored (logged),
so a newer server can add types without breaking older tills.

Call these inside ``db.write()``; the caller stores the new cursor or snapshot position in
the same transaction (``sync_state.update_state``), so data and position move together.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, select, text
from sqlalchemy.dialects.sqlite import insert

from stormcom_pos.domain.sync_protocol import SNAPSHOT_LATER, SNAPSHOT_SELLING, Change
from stormcom_pos.local_db.cache_tables import (
    SEARCH_TABLE,
    cache_customer,
    cache_product,
    cache_product_category,
    cache_row,
    cache_variant,
)
from stormcom_pos.local_db.codec import decimal_text, dumps, to_decimal

MIRRORED = frozenset((*SNAPSHOT_SELLING, *SNAPSHOT_LATER))
# Attribute keys that describe how a variant is sold, not what it is.
SELLING_ATTRIBUTES = frozenset({"sold_by", "unit", "plu"})
_CHUNK = 500
_UNINDEX = text(
    f"DELETE FROM {SEARCH_TABLE} WHERE rowid IN (SELECT key FROM cache_variant WHERE id IN :ids)"
).bindparams(bindparam("ids", expanding=True))
_INDEX = text(
    f"INSERT INTO {SEARCH_TABLE} (rowid, text) "
    "SELECT v.key, coalesce(p.name, '') || ' ' || v.name || ' ' || v.sku || ' ' || "
    "coalesce(v.barcode, '') || ' ' || coalesce(v.plu, '') "
    "FROM cache_variant v LEFT JOIN cache_product p ON p.id = v.product_id WHERE v.id IN :ids"
).bindparams(bindparam("ids", expanding=True))

log = logging.getLogger(__name__)


def variant_name(attributes: Any) -> str:
    """A variant's own name from its attributes ("M / Red"); "" when it has none."""
    if not isinstance(attributes, dict):
        return ""
    return " / ".join(str(v) for k, v in attributes.items()
                      if k not in SELLING_ATTRIBUTES and v not in (None, ""))


def _variant_values(row: dict[str, Any]) -> dict[str, Any]:
    attributes = row.get("attributes") or {}
    plu = attributes.get("plu") if isinstance(attributes, dict) else None
    return {
        "id": row["id"], "product_id": row["product_id"], "name": variant_name(attributes),
        "sku": row.get("sku") or "", "barcode": row.get("barcode") or None,
        "plu": str(plu) if plu else None,
        "price": decimal_text(to_decimal(row.get("price") or "0")),
        "stock_quantity": int(row.get("stock_quantity") or 0),
        "is_active": int(bool(row.get("is_active", True))), "data": dumps(row),
    }


def _product_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "name": row.get("name") or "", "status": row.get("status") or "",
            "data": dumps(row)}


def _link_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "product_id": row["product_id"], "category_id": row["category_id"],
            "data": dumps(row)}


def _customer_values(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "first_name": row.get("first_name") or "",
            "last_name": row.get("last_name"), "email": row.get("email"),
            "phone": row.get("phone"), "data": dumps(row)}


_TYPED: dict[str, tuple[Table, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "variant": (cache_variant, _variant_values),
    "product": (cache_product, _product_values),
    "product_category": (cache_product_category, _link_values),
    "customer": (cache_customer, _customer_values),
}


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
        table, convert = _TYPED[entity_type]
        values = [convert(row) for row in rows]
        stmt = insert(table)
        updated = {c.name: stmt.excluded[c.name] for c in table.c if c.name not in ("id", "key")}
        conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=updated), values)
    else:
        stmt = insert(cache_row)
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["entity_type", "id"],
                                       set_={"data": stmt.excluded.data}),
            [{"entity_type": entity_type, "id": row["id"], "data": dumps(row)} for row in rows])
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


def load_snapshot_rows(conn: Connection, entity_type: str, rows: Sequence[dict[str, Any]]) -> None:
    """Upsert one snapshot page of an entity type."""
    if entity_type not in MIRRORED:
        log.info("ignoring snapshot rows of unmirrored entity type %r", entity_type)
        return
    touched = _Touched()
    _upsert(conn, entity_type, rows, touched)
    _reindex(conn, touched)


def clear_cache(conn: Connection) -> None:
    """Empty every cache table (a resync follows); the ledger is not touched."""
    for table in (cache_row, cache_product, cache_variant, cache_product_category,
                  cache_customer):
        conn.execute(delete(table))
    conn.exec_driver_sql(f"DELETE FROM {SEARCH_TABLE}")

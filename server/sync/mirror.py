"""The mirrored entity types: what a terminal caches, which store a row belongs to, and how a
row travels on the wire (the pull feed and the snapshot share this).

**What is mirrored** (product-decisions §6: the server owns catalog, prices, taxes, promotions,
staff and customers; terminals mirror them read-only): ``store`` (the store row itself),
``tax_rate``, ``category``, ``product``, ``product_category``, ``variant`` (its
``stock_quantity`` is the stock projection, so every sale, refund and count anywhere changes
it and it travels back to every till), ``coupon``, ``flash_sale``, ``user_store``,
``customer`` (incl. customers created at a till, and their order statistics), ``address``,
``shipping_zone``, ``shipping_rate``, and ``staff``.

``staff`` is virtual: one row per member of the store, keyed by the *user* id, holding the
staff-facing fields of the global ``user`` row plus the membership (active, role, the role's
permission strings). It carries ``pos_pin_hash`` because a till verifies PINs offline
(sync-anchors §2.12); nothing else secret leaves the server (no password, MFA secret, backup
codes, tokens). Customers travel without ``password``.

**Till-owned facts are not mirrored back** (orders, lines, payments, refunds, drawer sessions,
cash movements, stock movements): a till keeps its own, and reads another till's receipts
online (returns of a sale rung up elsewhere). Their effects on mirrored rows do travel: stock
(``variant``) and customer statistics.

**Wire form**: every column of the row, JSON-safe (``jsonable``): Decimal as a decimal string,
datetimes ISO 8601 in UTC, enums as their value. A row that no longer exists, or is
soft-deleted (``deleted_at`` set), is a tombstone.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Connection, Numeric, Select, Table, and_, select

from server.db.base import Base

STAFF = "staff"
STORE = "store"
MIRRORED_TABLES = (
    "store", "tax_rate", "category", "product", "product_category", "variant", "coupon",
    "flash_sale", "user_store", "customer", "address", "shipping_zone", "shipping_rate",
)
ENTITY_TYPES = frozenset((*MIRRORED_TABLES, STAFF))
EXCLUDED_COLUMNS: dict[str, frozenset[str]] = {"customer": frozenset({"password"})}
# The user fields a till needs: a change to any of them is a staff change in each store.
STAFF_USER_FIELDS = ("name", "email", "status", "language", "timezone", "pos_pin_hash",
                     "image", "deleted_at")


def jsonable(value: Any) -> Any:
    """A column value as JSON: Decimal -> "12.50", datetime -> ISO (UTC), enum -> value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value
    return str(value)


@cache
def table(entity_type: str) -> Table:
    """The table of a (non-virtual) mirrored entity type."""
    if entity_type not in MIRRORED_TABLES:
        raise KeyError(entity_type)
    return Base.metadata.tables[entity_type]


@cache
def wire_columns(entity_type: str) -> tuple[str, ...]:
    """The columns that go on the wire, in table order."""
    skip = EXCLUDED_COLUMNS.get(entity_type, frozenset())
    return tuple(c.name for c in table(entity_type).columns if c.name not in skip)


@cache
def has_soft_delete(entity_type: str) -> bool:
    return entity_type != STAFF and "deleted_at" in table(entity_type).c


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _datetime(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _column_converter(column: Any) -> Callable[[Any], Any] | None:
    """A fast converter for one column's values (None: JSON-safe as they come). A snapshot
    page converts every value of thousands of rows: the type is looked up once per column."""
    python_type: Any
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return jsonable
    if python_type in (str, int, bool):
        return None
    if python_type is Decimal or isinstance(getattr(column.type, "impl_instance", None), Numeric):
        return lambda v: _decimal(v) if isinstance(v, Decimal) else jsonable(v)
    if python_type is datetime:
        return lambda v: _datetime(v) if isinstance(v, datetime) else jsonable(v)
    return jsonable


@cache
def _converter(entity_type: str) -> Callable[[Sequence[Any]], dict[str, Any]]:
    names = wire_columns(entity_type)
    t = table(entity_type)
    plan = [(name, _column_converter(t.c[name])) for name in names]

    def convert(row: Sequence[Any]) -> dict[str, Any]:
        return {name: (value if fn is None or value is None else fn(value))
                for (name, fn), value in zip(plan, row, strict=True)}

    return convert


# ---- reading current rows ---------------------------------------------------------------


def _table_select(entity_type: str, store_id: str) -> Select[Any]:
    t = table(entity_type)
    cols = [t.c[name] for name in wire_columns(entity_type)]
    where = t.c.id == store_id if entity_type == STORE else t.c.store_id == store_id
    return select(*cols).where(where)


def _staff_select(store_id: str) -> Select[Any]:
    user, member, role = (Base.metadata.tables[n] for n in ("user", "user_store", "role"))
    return (
        select(
            user.c.id, user.c.name, user.c.email, user.c.image, user.c.status, user.c.language,
            user.c.timezone, user.c.pos_pin_hash, user.c.deleted_at,
            member.c.id.label("membership_id"), member.c.is_active, member.c.role_id,
            role.c.slug.label("role"), role.c.permissions, member.c.updated_at,
        )
        .select_from(member.join(user, user.c.id == member.c.user_id)
                     .join(role, role.c.id == member.c.role_id))
        .where(member.c.store_id == store_id)
    )


def _staff_row(row: Any) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in row._mapping.items()}


def current_rows(
    conn: Connection, store_id: str, entity_type: str, ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The live (not soft-deleted) rows of these ids in this store, as wire JSON, by id."""
    wanted = list(dict.fromkeys(ids))
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        if entity_type == STAFF:
            user = Base.metadata.tables["user"]
            stmt = _staff_select(store_id).where(user.c.id.in_(chunk))
            for row in conn.execute(stmt):
                if row.deleted_at is None:
                    out[row.id] = _staff_row(row)
            continue
        t = table(entity_type)
        stmt = _table_select(entity_type, store_id).where(t.c.id.in_(chunk))
        if has_soft_delete(entity_type):
            stmt = stmt.where(t.c.deleted_at.is_(None))
        convert = _converter(entity_type)
        for row in conn.execute(stmt):
            data = convert(row)
            out[data["id"]] = data
    return out


def page_rows(
    conn: Connection, store_id: str, entity_type: str, after: str | None, limit: int
) -> list[dict[str, Any]]:
    """One keyset page (by id) of an entity type's live rows in this store."""
    if entity_type == STAFF:
        user = Base.metadata.tables["user"]
        stmt = _staff_select(store_id).where(user.c.deleted_at.is_(None))
        if after is not None:
            stmt = stmt.where(user.c.id > after)
        return [_staff_row(r) for r in conn.execute(stmt.order_by(user.c.id).limit(limit))]
    t = table(entity_type)
    conditions = []
    if after is not None:
        conditions.append(t.c.id > after)
    if has_soft_delete(entity_type):
        conditions.append(t.c.deleted_at.is_(None))
    stmt = _table_select(entity_type, store_id)
    if conditions:
        stmt = stmt.where(and_(*conditions))
    convert = _converter(entity_type)
    return [convert(r) for r in conn.execute(stmt.order_by(t.c.id).limit(limit))]

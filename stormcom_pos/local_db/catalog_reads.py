"""Cache reads besides products: taxes and promotions as the shared rules' types, the store,
staff (PINs are checked offline) and customers (the server's, plus those created here).

Rows that the shared rules refuse (a coupon with an impossible value, say) are logged and left
out rather than stopping the till from selling.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, bindparam, or_, select

from stormcom_pos.domain import coupons as coupon_rules
from stormcom_pos.domain import discounts as sale_rules
from stormcom_pos.domain import tax as tax_rules
from stormcom_pos.domain.enums import DiscountType
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.local_db.cache_tables import cache_customer, cache_row
from stormcom_pos.local_db.codec import from_iso, loads, optional_decimal, to_decimal
from stormcom_pos.local_db.ledger_till import local_customer_by_id, local_customers

ALL_PRODUCTS = "all"  # a flash sale's product list ["all"] (server/promotions/service.py)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffMember:
    user_id: str
    name: str
    email: str
    role: str
    permissions: frozenset[str]
    pos_pin_hash: str | None
    active: bool


@dataclass(frozen=True)
class CustomerHit:
    id: str
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    is_tax_exempt: bool = False
    total_orders: int = 0
    total_spent: Decimal = Decimal(0)
    synced: bool = True  # False: created at this till and not back from the server yet

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


# Built once: the flash sales are read on every re-pricing of the cart, at each scan.
_ROWS = select(cache_row.c.data).where(cache_row.c.entity_type == bindparam("entity_type"))


def _rows(conn: Connection, entity_type: str) -> Iterator[dict[str, Any]]:
    for data in conn.execute(_ROWS, {"entity_type": entity_type}).scalars():
        yield loads(data)


def tax_rates(conn: Connection) -> tuple[tax_rules.TaxRate, ...]:
    """The store's active tax rates, for ``PricingContext.tax_rates``."""
    rates = []
    for row in _rows(conn, "tax_rate"):
        if not row.get("is_active", True) or row.get("deleted_at"):
            continue
        try:
            rates.append(tax_rules.TaxRate(
                id=row["id"], name=row["name"], rate=to_decimal(row["rate"]),
                country=row.get("country") or "", state=row.get("state"), city=row.get("city"),
                postal_code=row.get("postal_code"), priority=int(row.get("priority") or 0),
                is_compound=bool(row.get("is_compound")), is_active=True))
        except (DomainError, KeyError) as exc:
            log.warning("tax rate %s left out: %s", row.get("id"), exc)
    return tuple(sorted(rates, key=lambda r: (r.priority, r.id)))


def _coupon(row: dict[str, Any]) -> coupon_rules.Coupon:
    valid_from = from_iso(row["valid_from"])
    assert valid_from is not None
    return coupon_rules.Coupon(
        id=row["id"], code=row["code"], discount_type=DiscountType(row["discount_type"]),
        discount_value=to_decimal(row["discount_value"]), valid_from=valid_from,
        valid_to=from_iso(row.get("valid_to")), name=row.get("name") or "",
        min_order_value=optional_decimal(row.get("min_order_value")),
        max_discount=optional_decimal(row.get("max_discount")),
        eligible_products=frozenset(row.get("eligible_products") or ()),
        eligible_categories=frozenset(row.get("eligible_categories") or ()),
        eligible_customers=frozenset(row.get("eligible_customers") or ()),
        usage_limit_per_coupon=row.get("usage_limit_per_coupon"),
        usage_limit_per_customer=row.get("usage_limit_per_customer"),
        current_usage_count=int(row.get("current_usage_count") or 0),
        is_active=bool(row.get("is_active", True)),
        buy_quantity=row.get("buy_quantity"), get_quantity=row.get("get_quantity"))


def coupon_by_code(conn: Connection, code: str) -> coupon_rules.Coupon | None:
    """The coupon with this code (codes are upper case), or None; the rules decide if it
    applies."""
    wanted = code.strip().upper()
    for row in _rows(conn, "coupon"):
        if str(row.get("code", "")).upper() == wanted and not row.get("deleted_at"):
            try:
                return _coupon(row)
            except (DomainError, KeyError, ValueError) as exc:
                log.warning("coupon %s left out: %s", row.get("id"), exc)
                return None
    return None


def active_flash_sales(conn: Connection, now: datetime) -> tuple[sale_rules.FlashSale, ...]:
    """Flash sales running at ``now`` (``discounts.flash_sale_live`` decides)."""
    sales = []
    for row in _rows(conn, "flash_sale"):
        try:
            products = list(row.get("products") or [])
            start_at, end_at = from_iso(row["start_at"]), from_iso(row["end_at"])
            assert start_at is not None and end_at is not None
            sale = sale_rules.FlashSale(
                id=row["id"], name=row.get("name") or "",
                discount_type=DiscountType(row["discount_type"]),
                discount_value=to_decimal(row["discount_value"]), start_at=start_at,
                end_at=end_at, status=sale_rules.FlashSaleStatus(row["status"]),
                product_ids=frozenset(p for p in products if p != ALL_PRODUCTS),
                all_products=ALL_PRODUCTS in products)
        except (DomainError, KeyError, ValueError) as exc:
            log.warning("flash sale %s left out: %s", row.get("id"), exc)
            continue
        if sale_rules.flash_sale_live(sale, now):
            sales.append(sale)
    return tuple(sales)


def store(conn: Connection) -> dict[str, Any]:
    """The store row as the server sent it ({} before the first sync)."""
    return next(_rows(conn, "store"), {})


def staff_members(conn: Connection) -> list[StaffMember]:
    """The store's staff, by name; ``active`` is an active account with an active membership."""
    members = [StaffMember(
        user_id=row["id"], name=row.get("name") or "", email=row.get("email") or "",
        role=row.get("role") or "", permissions=frozenset(row.get("permissions") or ()),
        pos_pin_hash=row.get("pos_pin_hash"),
        active=bool(row.get("is_active")) and row.get("status", "ACTIVE") == "ACTIVE"
        and not row.get("deleted_at"),
    ) for row in _rows(conn, "staff")]
    return sorted(members, key=lambda m: (m.name.lower(), m.user_id))


def _customer_hit(data: str) -> CustomerHit:
    row = loads(data)
    return CustomerHit(
        id=row["id"], first_name=row.get("first_name") or "", last_name=row.get("last_name"),
        email=row.get("email"), phone=row.get("phone"),
        is_tax_exempt=bool(row.get("is_tax_exempt")),
        total_orders=int(row.get("total_orders") or 0),
        total_spent=to_decimal(row.get("total_spent") or "0"))


def find_customers(conn: Connection, text: str, limit: int = 20) -> list[CustomerHit]:
    """Customers whose first or last name, email or phone starts with ``text``; those created
    here and not synced yet are included."""
    needle = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(cache_customer.c.data)
    if needle:
        pattern = f"{needle}%"
        stmt = stmt.where(or_(*(column.like(pattern, escape="\\") for column in (
            cache_customer.c.first_name, cache_customer.c.last_name, cache_customer.c.email,
            cache_customer.c.phone))))
    hits = [_customer_hit(data) for data in conn.execute(
        stmt.order_by(cache_customer.c.first_name, cache_customer.c.last_name).limit(limit)
    ).scalars()]
    known = {hit.id for hit in hits}
    for created in local_customers(conn, text, limit):
        if created.customer_id not in known and not _is_cached(conn, created.customer_id):
            hits.append(CustomerHit(id=created.customer_id, first_name=created.first_name,
                                    last_name=created.last_name, email=created.email,
                                    phone=created.phone, synced=False))
    return hits[:limit]


def _is_cached(conn: Connection, customer_id: str) -> bool:
    return conn.execute(select(cache_customer.c.id)
                        .where(cache_customer.c.id == customer_id)).first() is not None


def customer(conn: Connection, customer_id: str) -> CustomerHit | None:
    """A customer by id, from the cache or created at this till."""
    data = conn.execute(select(cache_customer.c.data)
                        .where(cache_customer.c.id == customer_id)).scalar()
    if data is not None:
        return _customer_hit(data)
    created = local_customer_by_id(conn, customer_id)
    if created is None:
        return None
    return CustomerHit(id=created.customer_id, first_name=created.first_name,
                       last_name=created.last_name, email=created.email, phone=created.phone,
                       synced=False)

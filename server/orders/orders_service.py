"""Orders: reading, numbering, persisting a priced order, and status moves (no FastAPI).

Order numbers are ``ORD-<year>-<5 digits>`` per store (6 digits and more after 99,999 in a
year). Race safety: the next number is ``max + 1`` over the store's numbers of that year, and
the insert runs in a savepoint; the unique key ``(store_id, order_number)`` is the arbiter. On
PostgreSQL a concurrent insert of the same number waits for the other transaction and then
fails the unique check; we roll back to the savepoint, read the new maximum, and retry. A
counter in ``Store.settings`` would lose updates (read-modify-write of a JSON blob); a
sequence would not be per store. SQLite serializes writers, so the first try succeeds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Float, cast, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.errors import Conflict, NotFound
from server.orders.models import Order, OrderItem
from stormcom_pos.domain.cart import PricedCart
from stormcom_pos.domain.enums import OrderChannel, OrderStatus, PaymentStatus
from stormcom_pos.domain.order_states import IllegalTransition, check_order_transition

NUMBER_ATTEMPTS = 20
# SQLite stores money as exact decimal text, which sorts as text: order it numerically there
# (for ordering only; no money arithmetic happens in SQL).
_NUMERIC_TOTAL = cast(Order.total, Float)
SORTS = {
    "-created_at": (Order.created_at.desc(), Order.id.desc()),
    "created_at": (Order.created_at, Order.id),
    "-total": (Order.total.desc(), Order.id),
    "total": (Order.total, Order.id),
    "order_number": (Order.order_number,),
    "-order_number": (Order.order_number.desc(),),
}
SQLITE_SORTS = {**SORTS, "-total": (_NUMERIC_TOTAL.desc(), Order.id),
                "total": (_NUMERIC_TOTAL, Order.id)}


class TransitionConflict(Conflict):
    default_code = "illegal_transition"
    default_title = "Illegal status change"


def check_transition(order: Order, target: OrderStatus) -> None:
    """The shared state machine; an illegal move is a 409 naming both states."""
    try:
        check_order_transition(order.status, target)
    except IllegalTransition as exc:
        raise TransitionConflict(exc.message, current=str(order.status),
                                 requested=str(target)) from None


def get(session: Session, *, order_id: str, lock: bool = False) -> Order:
    """An order of the current store (row-locked on PostgreSQL when ``lock``), or 404."""
    stmt = select(Order).where(Order.id == order_id, Order.deleted_at.is_(None))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    order = session.scalar(stmt)
    if order is None:
        raise NotFound("There is no such order.", code="order_not_found")
    return order


def get_item(order: Order, item_id: str) -> OrderItem:
    for item in order.items:
        if item.id == item_id:
            return item
    raise NotFound(f"Line {item_id} is not on order {order.order_number}.",
                   code="order_item_not_found")


@dataclass(frozen=True, slots=True)
class OrderFilter:
    q: str | None = None
    status: OrderStatus | None = None
    payment_status: PaymentStatus | None = None
    channel: OrderChannel | None = None
    customer_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    flagged: bool | None = None


def list_(session: Session, *, flt: OrderFilter, sort: str, page: int,
          page_size: int) -> tuple[Sequence[Order], int]:
    """One page of the store's orders; ``q`` matches number, receipt, email or phone."""
    stmt = select(Order).where(Order.deleted_at.is_(None))
    if flt.q:
        needle = flt.q.lower()
        stmt = stmt.where(or_(
            func.lower(Order.order_number).contains(needle, autoescape=True),
            func.lower(Order.customer_email).contains(needle, autoescape=True),
            Order.customer_phone.contains(flt.q, autoescape=True),
        ))
    for column, value in ((Order.status, flt.status), (Order.payment_status, flt.payment_status),
                          (Order.channel, flt.channel), (Order.customer_id, flt.customer_id),
                          (Order.flagged, flt.flagged)):
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(Order.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Order.created_at < flt.until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    sorts = SQLITE_SORTS if session.get_bind().dialect.name == "sqlite" else SORTS
    rows = session.scalars(stmt.order_by(*sorts[sort]).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return rows, int(total)


def detail(session: Session, *, order_id: str) -> Order:
    """An order with its lines loaded."""
    order = session.scalar(select(Order).where(Order.id == order_id, Order.deleted_at.is_(None))
                           .options(selectinload(Order.items)))
    if order is None:
        raise NotFound("There is no such order.", code="order_not_found")
    return order


def _last_number(session: Session, store_id: str, prefix: str) -> int:
    base = select(Order.order_number).where(Order.store_id == store_id,
                                            Order.order_number.like(prefix + "%"))
    last = session.scalar(select(func.max(Order.order_number)).where(
        Order.store_id == store_id, Order.order_number.like(prefix + "%")))
    if last is not None and last.endswith("99999"):  # past 5 digits: longest first
        last = session.scalar(base.order_by(func.length(Order.order_number).desc(),
                                            Order.order_number.desc()).limit(1))
    if last is None:
        return 0
    tail = last[len(prefix):]
    return int(tail) if tail.isdigit() else 0


def insert_numbered(session: Session, *, order: Order, now: datetime) -> Order:
    """Give an online order the next ``ORD-<year>-NNNNN`` number and insert it (race-safe)."""
    prefix = f"ORD-{now.year}-"
    for _ in range(NUMBER_ATTEMPTS):
        order.order_number = f"{prefix}{_last_number(session, order.store_id, prefix) + 1:05d}"
        try:
            with session.begin_nested():
                session.add(order)
                session.flush()
        except IntegrityError:
            continue  # another order took this number first: read the maximum again
        return order
    raise Conflict("Could not assign an order number; please retry.",
                   code="order_number_contention")


def _tax_lines(rates: Any, amounts: Any) -> list[dict[str, Any]]:
    return [{"tax_rate_id": r.id, "name": r.name, "rate": str(r.rate),
             "is_compound": r.is_compound, "amount": str(a)}
            for r, a in zip(rates, amounts, strict=True)]


def build(*, store_id: str, priced: PricedCart, names: dict[str, tuple[str, str, dict[str, Any]]],
          fields: dict[str, Any]) -> Order:
    """An Order with its lines from a priced cart, every amount as priced (not yet added).

    ``names`` maps a variant id to (product name, SKU, attributes) for the line snapshots.
    """
    zero = Decimal(0)
    discount_lines: list[dict[str, Any]] = [
        {"kind": "coupon", "coupon_id": c.coupon_id, "code": c.code,
         "discount_type": str(c.discount_type), "amount": str(c.amount)}
        for c in priced.applied_coupons
    ]
    if priced.flash_sale_savings:
        discount_lines.append({"kind": "flash_sale", "amount": str(priced.flash_sale_savings)})
    order = Order(
        store_id=store_id, currency=priced.currency, prices_include_tax=priced.prices_include_tax,
        subtotal=priced.subtotal, discount_amount=priced.discount_total,
        shipping_cost=priced.shipping.amount, tax_amount=priced.tax_total, total=priced.total,
        tax_lines=[{"tax_rate_id": t.rate_id, "name": t.name, "rate": str(t.rate),
                    "is_compound": t.is_compound, "base": str(t.taxable_amount),
                    "amount": str(t.tax)} for t in priced.taxes],
        discount_lines=discount_lines,
        coupon_code=priced.applied_coupons[0].code if priced.applied_coupons else None,
        **fields,
    )
    for line in priced.lines:
        name, sku, attributes = names[line.variant_id or ""]
        order.items.append(OrderItem(
            store_id=store_id, variant_id=line.variant_id, product_name=name, variant_sku=sku,
            attributes=attributes, quantity=line.quantity, unit_price=line.unit_price,
            original_unit_price=line.list_unit_price, discount_amount=line.discount_total,
            tax_amount=line.tax_total, subtotal=line.net, total=line.total,
            tax_lines=_tax_lines(line.tax_rates, line.tax_amounts),
            discount_lines=[{"kind": d.source.value, "code": d.code, "reason": d.reason,
                             "amount": str(d.amount)} for d in line.discounts],
            quantity_fulfilled=zero, quantity_shipped=zero, quantity_refunded=zero,
            refunded_amount=zero, refunded_tax_amount=zero,
        ))
    return order


def due_for_auto_cancel(session: Session, *, now: datetime,
                        limit: int = 500) -> list[tuple[str, str]]:
    """(store id, order id) of unpaid online orders past their auto-cancel time, every store."""
    rows = session.execute(
        select(Order.store_id, Order.id)
        .where(Order.channel == OrderChannel.ONLINE, Order.status == OrderStatus.PENDING,
               Order.auto_cancel_at.is_not(None), Order.auto_cancel_at <= now,
               Order.payment_status.in_((PaymentStatus.PENDING, PaymentStatus.FAILED)),
               Order.deleted_at.is_(None))
        .order_by(Order.auto_cancel_at, Order.id).limit(limit)
        .execution_options(all_stores=True)
    ).all()
    return [(str(s), str(o)) for s, o in rows]

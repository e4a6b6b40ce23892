"""Stock effects of orders: deduct on confirmation, put back on cancel or refund, exactly once.

Confirmation never oversells (product-decisions §3): on PostgreSQL the variant rows are
locked first, ``SELECT ... FOR UPDATE`` in ascending id order (so two orders sharing variants
cannot deadlock), then each is decremented with the inventory ledger's conditional update
(``stock_quantity = stock_quantity - :q WHERE stock_quantity >= :q``); one short line raises
409 ``insufficient_stock`` and the request's transaction rolls back whole. SQLite has one
writer at a time, which serializes the same steps.

What goes back is computed from the ledger: the units an order still has out of stock are
minus the sum of its ``InventoryAdjustment`` rows for each variant. Restoring never puts back
more than that, so a repeated cancel, or a refund after a cancel, restores nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.catalog.models import Variant
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.inventory.service import move_stock
from server.orders.models import Order, OrderItem


def _units(quantity: Decimal) -> int:
    """Stock is kept in whole units; a weighed line (1.235 kg) moves no stock."""
    return int(quantity) if quantity == quantity.to_integral_value() else 0


def lock_variants(session: Session, variant_ids: Iterable[str]) -> None:
    """Row-lock variants in ascending id order (PostgreSQL; a no-op on SQLite)."""
    ids = sorted(set(variant_ids))
    if ids and session.get_bind().dialect.name == "postgresql":
        session.execute(select(Variant.id).where(Variant.id.in_(ids)).order_by(Variant.id)
                        .with_for_update())


def needed(items: Iterable[OrderItem]) -> dict[str, int]:
    """Units per variant for these lines."""
    out: dict[str, int] = {}
    for item in items:
        units = _units(item.quantity)
        if units:
            out[item.variant_id] = out.get(item.variant_id, 0) + units
    return out


def deduct(session: Session, *, order: Order, user_id: str | None, now: datetime) -> None:
    """Take the order's units out of stock, or raise ``InsufficientStock`` (409)."""
    wanted = needed(order.items)
    lock_variants(session, wanted)
    for variant_id in sorted(wanted):
        move_stock(session, store_id=order.store_id, variant_id=variant_id,
                   delta=-wanted[variant_id], reason=AdjustmentReason.ORDER_PLACED,
                   order_id=order.id, user_id=user_id, allow_negative=False, now=now,
                   note=f"order {order.order_number} confirmed")


def out_of_stock(session: Session, *, order_id: str) -> dict[str, int]:
    """Units the order still holds per variant, from the ledger."""
    rows = session.execute(
        select(InventoryAdjustment.variant_id, func.sum(InventoryAdjustment.quantity_change))
        .where(InventoryAdjustment.order_id == order_id)
        .group_by(InventoryAdjustment.variant_id)
    )
    return {vid: -int(total) for vid, total in rows if total is not None and total < 0}


def put_back(session: Session, *, order: Order, units: dict[str, int], reason: AdjustmentReason,
             user_id: str | None, now: datetime, note: str) -> dict[str, int]:
    """Return up to ``units`` per variant to stock, never more than the order holds."""
    held = out_of_stock(session, order_id=order.id)
    moved: dict[str, int] = {}
    lock_variants(session, units)
    for variant_id in sorted(units):
        quantity = min(units[variant_id], held.get(variant_id, 0))
        if quantity > 0:
            move_stock(session, store_id=order.store_id, variant_id=variant_id, delta=quantity,
                       reason=reason, order_id=order.id, user_id=user_id, now=now, note=note)
            moved[variant_id] = quantity
    return moved


def restore_for_cancel(session: Session, *, order: Order, user_id: str | None,
                       now: datetime) -> dict[str, int]:
    """Put back the units of lines not refunded (refunded ones were restocked or written off)."""
    remaining: dict[str, int] = {}
    for item in order.items:
        units = _units(item.quantity - item.quantity_refunded)
        if units > 0:
            remaining[item.variant_id] = remaining.get(item.variant_id, 0) + units
    return put_back(session, order=order, units=remaining,
                    reason=AdjustmentReason.ORDER_CANCELED, user_id=user_id, now=now,
                    note=f"order {order.order_number} canceled")

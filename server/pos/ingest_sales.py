"""``order.submit``: a POS sale, stored as charged (product-decisions §3, sync-anchors §2.9).

The sale is never re-priced and never refused for a changed price or short stock:

- each line keeps the till's amounts; a catalog price that differs from the server's current
  one is flagged ``price_mismatch``, an archived or inactive item ``inactive_product``;
- stock goes down through the ledger (one ``InventoryAdjustment`` per line, reason
  ORDER_PLACED, and the ``Variant.stock_quantity`` projection, in this transaction; variants
  are moved in id order so concurrent sales cannot deadlock); below zero is flagged
  ``negative_stock``;
- a sale for a drawer session that is already closed is flagged ``late_after_close`` and the
  session's expected cash and variance are recomputed;
- the order is ``channel=POS`` with the receipt number as its order number, DELIVERED (handed
  over at the counter), payment status derived from its tenders by the shared rule (PAID when
  they cover the total; ``underpaid`` flagged otherwise), fulfilment FULFILLED; payments are
  CAPTURED. A receipt number already used in the store is kept with a suffix and flagged.

A line must name a variant the store has (even archived): an unknown one cannot be stored and
the op is quarantined. The order's id and every line and payment id are the till's.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select, union

from server.customers.models import Customer
from server.inventory.models import AdjustmentReason
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos import ingest_common as common
from server.pos.anomaly_models import AnomalyKind
from server.pos.models import PosSession
from stormcom_pos.domain.enums import (
    FulfillmentStatus,
    OrderChannel,
    OrderStatus,
    PaymentStatus,
    PaymentTransactionStatus,
)
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.order_states import PaymentFact, derive_payment_status
from stormcom_pos.domain.sync_payloads import DiscountLine, OrderSubmit, SaleLine, TaxLine


def _tax_json(tax: TaxLine) -> dict[str, Any]:
    return {"tax_rate_id": tax.tax_rate_id, "name": tax.name, "rate": format(tax.rate, "f"),
            "amount": format(tax.amount, "f")}


def _discount_json(d: DiscountLine) -> dict[str, Any]:
    return {"kind": d.source, "code": d.code, "reason": d.reason, "approved_by": d.approved_by,
            "amount": format(d.amount, "f")}


def _order_tax_lines(lines: list[SaleLine]) -> list[dict[str, Any]]:
    totals: dict[tuple[str | None, str, Decimal], Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        for tax in line.taxes:
            totals[(tax.tax_rate_id, tax.name, tax.rate)] += tax.amount
    return [{"tax_rate_id": rid, "name": name, "rate": format(rate, "f"),
             "amount": format(amount, "f")} for (rid, name, rate), amount in totals.items()]


def _receipt_counter(receipt: str) -> int | None:
    tail = receipt.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def _taken(ctx: common.OpContext, data: OrderSubmit) -> tuple[str | None, str | None]:
    """(this order's id if already stored, another order holding the receipt number)."""
    cache = ctx.cache
    if cache.shared and {data.order_id, data.receipt_number} <= cache.orders_read:
        holders = cache.receipts.get(data.receipt_number, set()) - {data.order_id}
        return (data.order_id if data.order_id in cache.order_ids else None,
                min(holders) if holders else None)
    # Three indexed lookups in one statement: SQLite answers the OR of the three columns with
    # a scan of the store's orders, which grows with every sale.
    rows = ctx.session.execute(union(
        select(Order.id).where(Order.store_id == ctx.store_id, Order.id == data.order_id),
        select(Order.id).where(Order.store_id == ctx.store_id,
                               Order.receipt_number == data.receipt_number),
        select(Order.id).where(Order.store_id == ctx.store_id,
                               Order.order_number == data.receipt_number))).scalars().all()
    mine = data.order_id if data.order_id in rows else None
    other = next((r for r in rows if r != data.order_id), None)
    return mine, other


def _free_receipt(ctx: common.OpContext, data: OrderSubmit, other: str | None) -> str:
    if other is None:
        return data.receipt_number
    number = f"{data.receipt_number}/{data.order_id[-6:]}"
    ctx.flag(AnomalyKind.DUPLICATE_RECEIPT, "order", data.order_id,
             receipt_number=data.receipt_number, stored_as=number, other_order_id=other)
    return number


def _customer(ctx: common.OpContext, data: OrderSubmit) -> Customer | None:
    if not data.customer_id:
        return None
    customer = ctx.session.get(Customer, data.customer_id, with_for_update=True)
    if customer is None:
        ctx.flag(AnomalyKind.UNKNOWN_CUSTOMER, "order", data.order_id,
                 customer_id=data.customer_id)
    return customer


def _line(ctx: common.OpContext, data: OrderSubmit, line: SaleLine,
          found: dict[str, Any]) -> tuple[OrderItem, list[str]]:
    variant, product = found[line.variant_id or ""]
    flags: list[str] = []
    if line.original_unit_price != variant.price:
        ctx.flag(AnomalyKind.PRICE_MISMATCH, "order_item", line.id, order_id=data.order_id,
                 variant_id=variant.id, sku=variant.sku, till_price=line.original_unit_price,
                 catalog_price=variant.price, charged=line.unit_price)
        flags.append(AnomalyKind.PRICE_MISMATCH.value)
    if (variant.deleted_at is not None or not variant.is_active or product.deleted_at is not None
            or product.status.value != "ACTIVE"):
        ctx.flag(AnomalyKind.INACTIVE_PRODUCT, "order_item", line.id, order_id=data.order_id,
                 variant_id=variant.id, product_id=product.id)
        flags.append(AnomalyKind.INACTIVE_PRODUCT.value)
    item = OrderItem(
        id=line.id, store_id=ctx.store_id, order_id=data.order_id, variant_id=variant.id,
        product_name=line.name, variant_sku=line.sku or variant.sku,
        attributes=dict(variant.attributes or {}), quantity=line.quantity,
        unit_price=line.unit_price, original_unit_price=line.original_unit_price,
        discount_amount=sum((d.amount for d in line.discounts), ZERO), tax_amount=line.tax,
        subtotal=line.net, total=line.total, tax_lines=[_tax_json(t) for t in line.taxes],
        discount_lines=[_discount_json(d) for d in line.discounts],
        quantity_fulfilled=line.quantity, created_at=ctx.now, updated_at=ctx.now)
    return item, flags


def _move_stock(ctx: common.OpContext, data: OrderSubmit, found: dict[str, Any],
                cashier: str | None, items: dict[str, OrderItem]) -> None:
    by_variant: dict[str, list[SaleLine]] = defaultdict(list)
    for line in data.lines:
        by_variant[line.variant_id or ""].append(line)
    for variant_id in sorted(by_variant):  # fixed lock order: no deadlock between tills
        variant = found[variant_id][0]
        units = 0
        for line in by_variant[variant_id]:
            whole = common.whole_units(line.quantity)
            if whole is None:
                if variant.track_inventory:
                    ctx.flag(AnomalyKind.UNTRACKED_QUANTITY, "order_item", line.id,
                             quantity=line.quantity, variant_id=variant_id)
                continue
            units += whole
        if units == 0:
            continue
        before = len(ctx.flags)
        common.move_stock(ctx, variant, -units, reason=AdjustmentReason.ORDER_PLACED,
                          order_id=data.order_id, user_id=cashier,
                          note=f"POS sale {data.receipt_number}",
                          entity=("order_item", by_variant[variant_id][0].id))
        if len(ctx.flags) > before:  # negative stock: flag the lines too
            for line in by_variant[variant_id]:
                items[line.id].anomalies = [*items[line.id].anomalies,
                                            AnomalyKind.NEGATIVE_STOCK.value]


def submit(ctx: common.OpContext, data: OrderSubmit) -> common.Outcome:
    existing, other = _taken(ctx, data)
    if existing is not None:
        return common.Outcome("order", existing, {"order_id": existing,
                                                  "already_recorded": True})
    found = common.variants(ctx, (line.variant_id for line in data.lines if line.variant_id))
    unknown = [line.id for line in data.lines if (line.variant_id or "") not in found]
    if unknown:
        raise common.OpRefused("unknown_variant", f"lines {', '.join(unknown)} name no variant "
                               "of this store")
    common.check_clock(ctx, data.completed_at, "order", data.order_id)
    cashier = common.staff(ctx, data.cashier_id, "order", data.order_id)
    drawer = common.drawer(ctx, data.pos_session_id, data.cashier_id, "order", data.order_id,
                           lock=True)
    late = common.flag_if_closed(ctx, drawer, "order", data.order_id)
    customer = _customer(ctx, data)
    receipt = _free_receipt(ctx, data, other)

    items: dict[str, OrderItem] = {}
    for line in data.lines:
        item, flags = _line(ctx, data, line, found)
        item.anomalies = flags
        items[line.id] = item
    payments = [Payment(
        id=p.id, store_id=ctx.store_id, order_id=data.order_id, method=p.method, gateway="pos",
        amount=p.amount, currency=data.currency, tendered_amount=p.tendered,
        change_amount=p.change, status=PaymentTransactionStatus.CAPTURED, reference=p.reference,
        paid_at=data.completed_at, pos_session_id=drawer.id, occurred_at=data.completed_at,
        created_at=ctx.now, updated_at=ctx.now) for p in data.payments]
    payment_status = derive_payment_status(
        data.total, [PaymentFact(p.amount, PaymentTransactionStatus.CAPTURED)
                     for p in data.payments])
    if payment_status is not PaymentStatus.PAID:
        ctx.flag(AnomalyKind.UNDERPAID, "order", data.order_id, total=data.total,
                 paid=sum((p.amount for p in data.payments), ZERO))
    order = Order(
        id=data.order_id, store_id=ctx.store_id, customer_id=customer.id if customer else None,
        order_number=receipt, receipt_number=receipt, channel=OrderChannel.POS,
        subtotal=data.subtotal, tax_amount=data.tax_total, discount_amount=data.discount_total,
        total=data.total, currency=data.currency, prices_include_tax=data.prices_include_tax,
        tax_lines=_order_tax_lines(data.lines),
        discount_lines=[_discount_json(d) for d in data.order_discounts],
        rounding_adjustment=data.rounding_adjustment,
        coupon_code=data.coupon_codes[0] if data.coupon_codes else None,
        status=OrderStatus.DELIVERED, payment_status=payment_status,
        fulfillment_status=FulfillmentStatus.FULFILLED,
        customer_email=customer.email if customer else None,
        customer_phone=customer.phone if customer else None,
        pos_session_id=drawer.id, device_id=ctx.device.id, cashier_id=cashier,
        occurred_at=data.completed_at, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add_all([order, *items.values(), *payments])
    if ctx.cache.shared:
        ctx.cache.note_order(order.id, receipt)
    _count_sale(ctx, drawer, customer, data)
    _move_stock(ctx, data, found, cashier, items)
    if late:
        common.recompute_closed(ctx, drawer)
    if ctx.flags:
        order.anomalies = ctx.kinds()
        order.flagged = True
    return common.Outcome("order", order.id, {
        "order_id": order.id, "order_number": receipt, "items": list(items),
        "payments": [p.id for p in payments]}, _receipt_counter(data.receipt_number))


def _count_sale(ctx: common.OpContext, drawer: PosSession, customer: Customer | None,
                data: OrderSubmit) -> None:
    """Session and customer running totals. Both rows are locked (``FOR UPDATE`` on
    PostgreSQL; SQLite's push transaction already holds the write lock), so adding in Python
    loses nothing, and money never goes through SQL arithmetic (SQLite stores it as text)."""
    drawer.transaction_count = (drawer.transaction_count or 0) + 1
    drawer.total_sales = (drawer.total_sales or ZERO) + data.total
    if customer is not None:
        customer.total_orders = (customer.total_orders or 0) + 1
        customer.total_spent = (customer.total_spent or ZERO) + data.total
        customer.last_order_at = data.completed_at

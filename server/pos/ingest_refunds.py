"""``refund.submit``: money a till handed back, by item or by amount.

The refund is checked with the shared refund rules (``stormcom_pos.domain.refunds``:
k of n units refund round(k/n x line net) and round(k/n x line tax); the last units refund
exactly what remains; never more than captured). The money has already left the till, so a
refund is stored as the till made it, never dropped:

- beyond what the rules allow (an over-refund, e.g. the same sale refunded at two offline
  tills) -> flagged ``refund_rule_violation`` with the rule's code;
- amounts that differ from what the rules compute -> flagged ``refund_amount_mismatch``;
- after its drawer session was closed -> ``late_after_close`` and the variance recomputed.

Restock happens once: the refund id is the till's (a second op with the same refund does
nothing), each restocked line moves stock back through the ledger (reason RETURN), and never
more units than the order still holds out of stock (``server.orders.stock.out_of_stock``,
the rule the online refunds follow too). An unknown order cannot be stored: the op is
quarantined (pushed from another till that has not synced yet, it can be re-driven).
"""

from __future__ import annotations

from sqlalchemy import select

from server.inventory.models import AdjustmentReason
from server.orders.models import Order, OrderItem
from server.orders.stock import out_of_stock
from server.payments.models import Payment, Refund
from server.pos import ingest_common as common
from server.pos.anomaly_models import AnomalyKind
from stormcom_pos.domain import refunds as rules
from stormcom_pos.domain.enums import (
    OrderStatus,
    PaymentStatus,
    PaymentTransactionStatus,
    RefundStatus,
)
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.order_states import (
    PaymentFact,
    RefundFact,
    check_order_transition,
    derive_payment_status,
)
from stormcom_pos.domain.sync_payloads import RefundSubmit

_CAPTURED = frozenset({PaymentTransactionStatus.CAPTURED, PaymentTransactionStatus.REFUNDED,
                       PaymentTransactionStatus.PARTIALLY_REFUNDED})


def _refundable(item: OrderItem) -> rules.RefundableLine | None:
    sold = common.whole_units(item.quantity)
    done = common.whole_units(item.quantity_refunded)
    if sold is None or done is None:
        return None
    return rules.RefundableLine(
        order_item_id=item.id, quantity=sold, net=item.subtotal, tax=item.tax_amount,
        refunded_quantity=done, refunded_net=item.refunded_amount,
        refunded_tax=item.refunded_tax_amount, label=item.variant_sku)


def _check(ctx: common.OpContext, data: RefundSubmit, order: Order, payments: list[Payment],
           prior: list[Refund]) -> None:
    """Run the shared rules; flag what they refuse or compute differently."""
    captured = sum((p.amount for p in payments if p.status in _CAPTURED), ZERO)
    already = rules.committed_refund_total([RefundFact(r.amount, r.status) for r in prior])
    try:
        if data.lines:
            lines = [_refundable(i) for i in order.items]
            quantities = {r.order_item_id: common.whole_units(r.quantity) for r in data.lines}
            whole = {k: q for k, q in quantities.items() if q is not None}
            if None in lines or len(whole) != len(quantities):
                return  # weighed quantities: the rules count whole units; stored as made
            plan = rules.plan_item_refund([x for x in lines if x is not None], whole,
                                          captured, already, ctx.currency)
        else:
            plan = rules.plan_amount_refund(data.amount, captured, already, ctx.currency)
    except DomainError as exc:
        ctx.flag(AnomalyKind.REFUND_RULE, "refund", data.refund_id, code=exc.code,
                 message=exc.message, amount=data.amount)
        return
    if plan.amount != data.amount or (data.lines and plan.tax != data.tax):
        ctx.flag(AnomalyKind.REFUND_AMOUNT_MISMATCH, "refund", data.refund_id,
                 till_amount=data.amount, rule_amount=plan.amount, till_tax=data.tax,
                 rule_tax=plan.tax)


def _restock(ctx: common.OpContext, data: RefundSubmit, order: Order,
             items: dict[str, OrderItem], cashier: str | None) -> dict[str, int]:
    held = out_of_stock(ctx.session, order_id=order.id)
    wanted: dict[str, int] = {}
    for line in data.lines:
        units = common.whole_units(line.quantity)
        if line.restock and units:
            variant_id = items[line.order_item_id].variant_id
            wanted[variant_id] = wanted.get(variant_id, 0) + units
    found = common.variants(ctx, wanted)
    moved: dict[str, int] = {}
    for variant_id in sorted(wanted):
        units = min(wanted[variant_id], held.get(variant_id, 0))
        if units > 0 and variant_id in found:
            common.move_stock(ctx, found[variant_id][0], units, reason=AdjustmentReason.RETURN,
                              order_id=order.id, user_id=cashier,
                              note=f"POS refund {data.refund_id}")
            moved[variant_id] = units
    return moved


def submit(ctx: common.OpContext, data: RefundSubmit) -> common.Outcome:
    existing = ctx.session.get(Refund, data.refund_id)
    if existing is not None:
        return common.Outcome("refund", existing.id,
                              {"refund_id": existing.id, "already_recorded": True})
    order = ctx.session.scalar(select(Order).where(Order.id == data.order_id).with_for_update())
    if order is None:
        raise common.OpRefused("unknown_order", f"order {data.order_id} is not in this store")
    items = {i.id: i for i in order.items}
    unknown = sorted({line.order_item_id for line in data.lines} - set(items))
    if unknown:
        raise common.OpRefused("unknown_order_line",
                               f"lines {', '.join(unknown)} are not on order {order.id}")
    cashier = common.staff(ctx, data.cashier_id, "refund", data.refund_id)
    approver = common.staff(ctx, data.approved_by, "refund", data.refund_id)
    drawer = None
    if data.pos_session_id:
        drawer = common.drawer(ctx, data.pos_session_id, data.cashier_id, "refund",
                               data.refund_id, lock=True)
        common.flag_if_closed(ctx, drawer, "refund", data.refund_id)
    payments = list(ctx.session.scalars(select(Payment).where(Payment.order_id == order.id)))
    prior = list(ctx.session.scalars(select(Refund).where(Refund.order_id == order.id)))
    _check(ctx, data, order, payments, prior)

    paid_with = next((p for p in payments if p.method == data.tender),
                     payments[0] if payments else None)
    refund = Refund(
        id=data.refund_id, store_id=ctx.store_id, order_id=order.id,
        payment_id=paid_with.id if paid_with else None,
        amount=data.amount, tax_amount=data.tax, reason=data.reason, notes=data.note,
        items=[{"order_item_id": r.order_item_id, "quantity": format(r.quantity, "f"),
                "amount": format(r.amount, "f"), "tax_amount": format(r.tax, "f"),
                "restock": r.restock} for r in data.lines],
        status=RefundStatus.COMPLETED, processed_at=ctx.op.occurred_at,
        refund_method="pos", tender=data.tender, pos_session_id=drawer.id if drawer else None,
        device_id=ctx.device.id, user_id=cashier, approved_by_id=approver,
        occurred_at=ctx.op.occurred_at, created_at=ctx.now, updated_at=ctx.now)
    ctx.session.add(refund)
    for line in data.lines:
        item = items[line.order_item_id]
        item.quantity_refunded = item.quantity_refunded + line.quantity
        item.refunded_amount = item.refunded_amount + line.amount
        item.refunded_tax_amount = item.refunded_tax_amount + line.tax
    moved = _restock(ctx, data, order, items, cashier)
    _update_order(order, payments, [*prior, refund])
    if drawer is not None and drawer.status.value == "CLOSED":
        common.recompute_closed(ctx, drawer)
    if ctx.flags:
        order.anomalies = list(dict.fromkeys([*order.anomalies, *ctx.kinds()]))
        order.flagged = True
    return common.Outcome("refund", refund.id, {
        "refund_id": refund.id, "order_id": order.id, "restocked": moved,
        "payment_status": order.payment_status.value})


def _update_order(order: Order, payments: list[Payment], refunds: list[Refund]) -> None:
    status = derive_payment_status(
        order.total, [PaymentFact(p.amount, p.status) for p in payments],
        [RefundFact(r.amount, r.status) for r in refunds])
    order.payment_status = status
    if status is PaymentStatus.REFUNDED:
        try:
            check_order_transition(order.status, OrderStatus.REFUNDED)
        except DomainError:
            return  # e.g. already canceled: the money facts are recorded all the same
        order.status = OrderStatus.REFUNDED


"""Refunds, partial by item or by amount, under the shared refund rules.

- Never more than captured minus already refunded (refunds in flight count too), and a line
  never gives back more units than were sold minus refunded (``plan_item_refund`` /
  ``plan_amount_refund``). The order row is locked first, so two concurrent refunds cannot
  both pass the check.
- Refunding k of n units refunds round(k/n x the line's net) and round(k/n x its tax), the
  last units exactly what remains (§3a.12); each line keeps what it has refunded so far.
- With ``restock`` the units go back to stock through the ledger, never more than the order
  still holds (a refund after a cancel restocks nothing twice).
- A gateway payment is refunded through its gateway (idempotency key: the refund's id).
- The order's payment status is re-derived; a fully refunded order becomes REFUNDED.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.errors import Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.inventory.models import AdjustmentReason
from server.orders import orders_service, stock
from server.orders.models import Order, OrderItem
from server.payments import gateway as gateways
from server.payments import service as payments_service
from server.payments.models import Payment, Refund
from server.payments.schemas import RefundCreate
from stormcom_pos.domain.enums import (
    OrderStatus,
    PaymentMethod,
    PaymentStatus,
    PaymentTransactionStatus,
    RefundStatus,
)
from stormcom_pos.domain.order_states import ORDER_TRANSITIONS, RefundFact
from stormcom_pos.domain.refunds import (
    RefundableLine,
    RefundPlan,
    committed_refund_total,
    plan_amount_refund,
    plan_item_refund,
)

T = PaymentTransactionStatus


def get(session: Session, *, refund_id: str) -> Refund:
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise NotFound("There is no such refund.", code="refund_not_found")
    return refund


def list_for_order(session: Session, *, order: Order) -> Sequence[Refund]:
    return payments_service.refunds_of(session, order.id)


def _line(item: OrderItem) -> RefundableLine:
    if item.quantity != item.quantity.to_integral_value():
        raise Invalid(f"Line {item.variant_sku} was sold by weight; refund it by amount.",
                      code="refund_by_amount_only")
    return RefundableLine(
        order_item_id=item.id, quantity=int(item.quantity), net=item.total - item.tax_amount,
        tax=item.tax_amount, refunded_quantity=int(item.quantity_refunded),
        refunded_net=item.refunded_amount, refunded_tax=item.refunded_tax_amount,
        label=item.variant_sku,
    )


def _plan(order: Order, data: RefundCreate, taken: Decimal, refunded: Decimal) -> RefundPlan:
    if (data.items is None) == (data.amount is None):
        raise Invalid("Send either items or amount.", code="invalid_refund")
    if data.amount is not None:
        return plan_amount_refund(data.amount, taken, refunded, order.currency)
    quantities: dict[str, int] = {}
    for entry in data.items or []:
        quantities[entry.order_item_id] = quantities.get(entry.order_item_id, 0) + entry.quantity
    lines = [_line(i) for i in order.items if i.id in quantities]
    return plan_item_refund(lines, quantities, taken, refunded, order.currency)


def _payment(payments: Sequence[Payment], refunds: Sequence[Refund], payment_id: str | None,
             amount: Decimal) -> Payment | None:
    """The payment the money goes back to: the one named, or the captured one with the most
    left to refund (when it covers the whole amount)."""
    def left(p: Payment) -> Decimal:
        back = committed_refund_total(RefundFact(r.amount, r.status) for r in refunds
                                      if r.payment_id == p.id)
        return p.amount - back

    captured = [p for p in payments if p.status in payments_service.CAPTURED]
    if payment_id is not None:
        chosen = next((p for p in captured if p.id == payment_id), None)
        if chosen is None:
            raise Invalid("payment_id: not a captured payment of this order.",
                          code="payment_not_refundable")
        if amount > left(chosen):
            raise Invalid(f"That payment has only {left(chosen)} {chosen.currency} left to "
                          "refund.", code="refund_exceeds_captured")
        return chosen
    best = max(captured, key=left, default=None)
    return best if best is not None and left(best) >= amount else None


def create(session: Session, *, actor: Principal, order_id: str, data: RefundCreate,
           now: datetime, meta: RequestMeta) -> Refund:
    """Refund part of an order (see the module docstring)."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    payments = payments_service.payments_of(session, order.id)
    refunds = payments_service.refunds_of(session, order.id)
    taken = payments_service.captured(payments)
    already = committed_refund_total(RefundFact(r.amount, r.status) for r in refunds)
    plan = _plan(order, data, taken, already)
    payment = _payment(payments, refunds, data.payment_id, plan.amount)
    tender = data.tender or (payment.method if payment else PaymentMethod.OTHER)
    drawer = None
    if data.pos_session_id:
        if tender is not PaymentMethod.CASH:
            raise Invalid("pos_session_id applies to CASH refunds only.", code="invalid_field")
        drawer = payments_service.open_session(session, data.pos_session_id).id
    refund = Refund(
        store_id=order.store_id, order_id=order.id, payment_id=payment.id if payment else None,
        amount=plan.amount, tax_amount=plan.tax, reason=data.reason, notes=data.notes,
        items=[{"order_item_id": r.order_item_id, "quantity": r.quantity, "amount": str(r.net),
                "tax_amount": str(r.tax), "restock": bool(data.restock)} for r in plan.lines],
        status=RefundStatus.COMPLETED, processed_at=now, tender=tender, pos_session_id=drawer,
        user_id=actor.user_id, refund_method="original_payment" if payment else "manual",
    )
    session.add(refund)
    session.flush()
    if payment is not None and gateways.get_gateway(payment.gateway) and payment.transaction_id:
        back = gateways.get_gateway(payment.gateway).refund(  # type: ignore[union-attr]
            account=order.store_id, charge_id=payment.transaction_id, amount=plan.amount,
            currency=order.currency, idempotency_key=refund.id)
        refund.transaction_id = back.id
    items = {i.id: i for i in order.items}
    units: dict[str, int] = {}
    for line in plan.lines:
        item = items[line.order_item_id]
        item.quantity_refunded += line.quantity
        item.refunded_amount += line.net
        item.refunded_tax_amount += line.tax
        units[item.variant_id] = units.get(item.variant_id, 0) + line.quantity
    if data.restock and units:
        stock.put_back(session, order=order, units=units, reason=AdjustmentReason.RETURN,
                       user_id=actor.user_id, now=now, note=f"refund {refund.id}")
    if payment is not None:
        back_total = sum((r.amount for r in [*refunds, refund] if r.payment_id == payment.id
                          and r.status is RefundStatus.COMPLETED), Decimal(0))
        payment.status = T.REFUNDED if back_total >= payment.amount else T.PARTIALLY_REFUNDED
    payments_service.refresh_status(session, order)
    if (order.payment_status is PaymentStatus.REFUNDED
            and OrderStatus.REFUNDED in ORDER_TRANSITIONS[order.status]):
        order.status = OrderStatus.REFUNDED
    order.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="refund.create", entity_type="refund",
                 entity_id=refund.id, after=audit.snapshot(refund), request_meta=meta)
    return refund


def refunds_in_session(session: Session, *, pos_session_id: str) -> Sequence[Refund]:
    """Cash and other refunds paid out of one drawer session."""
    return session.scalars(select(Refund).where(Refund.pos_session_id == pos_session_id,
                                                Refund.status == RefundStatus.COMPLETED)).all()

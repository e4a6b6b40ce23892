"""Payments: recording tenders, gateway charges and their webhooks, and the order's payment
status, which is always *derived* from its payments and refunds with the shared rules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.errors import Conflict, Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.orders import orders_service
from server.orders.models import Order
from server.payments import gateway as gateways
from server.payments.models import Payment, PaymentGatewayConfig, Refund
from server.payments.schemas import GatewayConfigIn, OnlinePaymentCreate, PaymentCreate
from server.pos.models import PosSession
from stormcom_pos.domain.enums import (
    OrderStatus,
    PaymentMethod,
    PaymentTransactionStatus,
    PosSessionStatus,
)
from stormcom_pos.domain.money import round_money
from stormcom_pos.domain.order_states import PaymentFact, RefundFact, derive_payment_status

T = PaymentTransactionStatus
CAPTURED = (T.CAPTURED, T.PARTIALLY_REFUNDED, T.REFUNDED)
OPEN = (T.PENDING, T.AUTHORIZED, *CAPTURED)  # money taken or on its way
SECRETS = ("secret_key", "webhook_secret")
_GATEWAY_OF = {PaymentMethod.CASH: "cash", PaymentMethod.CARD_PRESENT: "card_terminal",
               PaymentMethod.BANK_TRANSFER: "bank_transfer",
               PaymentMethod.CASH_ON_DELIVERY: "cod"}


def payments_of(session: Session, order_id: str) -> Sequence[Payment]:
    return session.scalars(select(Payment).where(Payment.order_id == order_id)
                           .order_by(Payment.created_at, Payment.id)).all()


def refunds_of(session: Session, order_id: str) -> Sequence[Refund]:
    return session.scalars(select(Refund).where(Refund.order_id == order_id)
                           .order_by(Refund.created_at, Refund.id)).all()


def captured(payments: Sequence[Payment]) -> Decimal:
    return sum((p.amount for p in payments if p.status in CAPTURED), Decimal(0))


def refresh_status(session: Session, order: Order) -> None:
    """Re-derive the order's payment status from its payments and refunds."""
    session.flush()
    order.payment_status = derive_payment_status(
        order.total,
        [PaymentFact(p.amount, p.status) for p in payments_of(session, order.id)],
        [RefundFact(r.amount, r.status) for r in refunds_of(session, order.id)],
    )


def get(session: Session, *, payment_id: str) -> Payment:
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("There is no such payment.", code="payment_not_found")
    return payment


def open_session(session: Session, pos_session_id: str) -> PosSession:
    """An OPEN drawer session of the store (422 otherwise: it is named in the body)."""
    drawer = session.get(PosSession, pos_session_id)
    if drawer is None or drawer.status is not PosSessionStatus.OPEN:
        raise Invalid("pos_session_id: there is no open drawer session with that id.",
                      code="pos_session_not_open")
    return drawer


def _payable(session: Session, order: Order, amount: Decimal) -> None:
    if order.status in (OrderStatus.CANCELED, OrderStatus.REFUNDED):
        raise Conflict(f"Order {order.order_number} is {order.status}; it takes no payments.",
                       code="order_not_payable")
    if round_money(amount, order.currency) != amount:
        raise Invalid(f"amount has more decimals than {order.currency} allows.",
                      code="invalid_amount")
    taken = sum((p.amount for p in payments_of(session, order.id) if p.status in OPEN),
                Decimal(0))
    due = order.total - taken
    if amount > due:
        raise Invalid(f"A payment of {amount} {order.currency} exceeds the {max(due, 0)} "
                      f"{order.currency} still due.", code="payment_exceeds_balance")


def _done(session: Session, actor: Principal, order: Order, payment: Payment, action: str,
          meta: RequestMeta | None, before: dict[str, Any] | None = None) -> Payment:
    refresh_status(session, order)
    session.flush()
    audit.record(session, actor=actor, action=action, entity_type="payment",
                 entity_id=payment.id, before=before, after=audit.snapshot(payment),
                 request_meta=meta, store_id=order.store_id)
    return payment


def record(session: Session, *, actor: Principal, order_id: str, data: PaymentCreate,
           now: datetime, meta: RequestMeta) -> Payment:
    """Record cash, card-present, bank transfer or cash on delivery against an order."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    _payable(session, order, data.amount)
    method = PaymentMethod(data.method)
    payment = Payment(store_id=order.store_id, order_id=order.id, method=method,
                      gateway=_GATEWAY_OF[method], amount=data.amount, currency=order.currency,
                      reference=data.reference, status=T.PENDING)
    if method is PaymentMethod.CASH:
        tendered = data.tendered_amount if data.tendered_amount is not None else data.amount
        if tendered < data.amount:
            raise Invalid("tendered_amount cannot be less than amount.", code="invalid_amount")
        payment.tendered_amount, payment.change_amount = tendered, tendered - data.amount
        if data.pos_session_id:
            payment.pos_session_id = open_session(session, data.pos_session_id).id
    elif data.pos_session_id:
        raise Invalid("pos_session_id applies to CASH only.", code="invalid_field")
    if method is PaymentMethod.CARD_PRESENT and not data.reference:
        raise Invalid("reference: a card-present payment needs the card terminal's reference.",
                      code="reference_required")
    if method in (PaymentMethod.CASH, PaymentMethod.CARD_PRESENT) or (
            method is PaymentMethod.BANK_TRANSFER and data.received):
        payment.status, payment.paid_at = T.CAPTURED, now
    session.add(payment)
    return _done(session, actor, order, payment, "payment.record", meta)


def capture(session: Session, *, actor: Principal, payment_id: str, now: datetime,
            meta: RequestMeta) -> Payment:
    """A pending bank transfer arrived, or cash on delivery was collected."""
    payment = get(session, payment_id=payment_id)
    order = orders_service.get(session, order_id=payment.order_id, lock=True)
    if payment.status in CAPTURED:
        return payment
    if payment.status not in (T.PENDING, T.AUTHORIZED) or payment.gateway not in (
            "bank_transfer", "cod"):
        raise Conflict(f"A {payment.status} {payment.method} payment cannot be captured here.",
                       code="payment_not_capturable")
    before = audit.snapshot(payment)
    payment.status, payment.paid_at = T.CAPTURED, now
    return _done(session, actor, order, payment, "payment.capture", meta, before)


def void(session: Session, *, actor: Principal, payment_id: str, now: datetime,
         meta: RequestMeta) -> Payment:
    """Cancel a payment that never completed (a bank transfer that never came)."""
    payment = get(session, payment_id=payment_id)
    order = orders_service.get(session, order_id=payment.order_id, lock=True)
    if payment.status is T.CANCELED:
        return payment
    if payment.status not in (T.PENDING, T.AUTHORIZED):
        raise Conflict(f"A {payment.status} payment cannot be voided; refund it instead.",
                       code="payment_not_voidable")
    before = audit.snapshot(payment)
    payment.status, payment.failed_at = T.CANCELED, now
    return _done(session, actor, order, payment, "payment.void", meta, before)


# ---- gateways ---------------------------------------------------------------------------


def gateway_config(session: Session, name: str) -> PaymentGatewayConfig | None:
    return session.scalar(select(PaymentGatewayConfig).where(PaymentGatewayConfig.gateway == name))


def save_gateway_config(session: Session, *, actor: Principal, data: GatewayConfigIn,
                        meta: RequestMeta) -> PaymentGatewayConfig:
    """Create or replace the store's settings for one gateway (secrets are write-only)."""
    if gateways.get_gateway(data.gateway) is None:
        raise Invalid(f"gateway: unknown gateway {data.gateway!r}; known: "
                      f"{', '.join(sorted(gateways.GATEWAYS))}.", code="unknown_gateway")
    config = gateway_config(session, data.gateway)
    before = audit.snapshot(config, exclude=SECRETS) if config else None
    if config is None:
        config = PaymentGatewayConfig(gateway=data.gateway, secret_key=data.secret_key)
        session.add(config)
    for key, value in data.model_dump().items():
        setattr(config, key, value)
    session.flush()
    audit.record(session, actor=actor, action="payment_gateway.save", entity_type="payment_gateway",
                 entity_id=config.id, before=before, after=audit.snapshot(config, exclude=SECRETS),
                 request_meta=meta)
    return config


def list_gateway_configs(session: Session) -> Sequence[PaymentGatewayConfig]:
    stmt = select(PaymentGatewayConfig).order_by(PaymentGatewayConfig.gateway)
    return session.scalars(stmt).all()


def charge_online(session: Session, *, actor: Principal, order_id: str,
                  data: OnlinePaymentCreate, idempotency_key: str | None, now: datetime,
                  meta: RequestMeta) -> Payment:
    """Start a gateway charge; the payment stays PENDING until the gateway's webhook."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    gateway = gateways.get_gateway(data.gateway)
    config = gateway_config(session, data.gateway)
    if gateway is None or config is None or not config.is_active or not config.webhook_secret:
        raise Invalid(f"gateway: {data.gateway!r} is not set up for this store.",
                      code="gateway_not_configured")
    paid = sum((p.amount for p in payments_of(session, order.id) if p.status in OPEN),
               Decimal(0))
    amount = data.amount if data.amount is not None else order.total - paid
    _payable(session, order, amount)
    if amount <= 0:
        raise Conflict(f"Order {order.order_number} has nothing left to pay.",
                       code="nothing_due")
    payment = Payment(store_id=order.store_id, order_id=order.id,
                      method=PaymentMethod.CREDIT_CARD, gateway=data.gateway, amount=amount,
                      currency=order.currency, status=T.PENDING)
    session.add(payment)
    session.flush()
    # The client's key when it sent one, so a retried request never charges twice.
    key = f"{actor.rate_key}:{idempotency_key}" if idempotency_key else payment.id
    charge = gateway.charge(account=order.store_id, amount=amount, currency=order.currency,
                            token=data.token, idempotency_key=key,
                            webhook_secret=config.webhook_secret, now=now)
    payment.transaction_id = charge.id
    payment.gateway_response = {"charge": {"id": charge.id, "status": charge.status}}
    return _done(session, actor, order, payment, "payment.charge", meta)


def webhook_account(payload: bytes) -> str | None:
    """The store an (unverified) event claims to be for: only used to find its secret."""
    try:
        account = json.loads(payload).get("account")
    except (ValueError, AttributeError):
        return None
    return account if isinstance(account, str) and 0 < len(account) <= 32 else None


def apply_webhook(session: Session, *, gateway_name: str, payload: bytes,
                  signature: str | None, now: datetime) -> tuple[str | None, bool]:
    """Verify a gateway event on its raw body, then apply it. Returns (event id, changed).

    A bad signature raises 400 before anything is read or changed. Replays change nothing.
    """
    config = gateway_config(session, gateway_name)
    if config is None or not config.webhook_secret:
        raise gateways.InvalidSignature("No webhook secret is set up for this gateway.")
    gateways.verify(payload, signature, config.webhook_secret, now)
    event = json.loads(payload)
    kind, data = event.get("type"), event.get("data") or {}
    if kind not in ("charge.succeeded", "charge.failed"):
        return event.get("id"), False
    payment = session.scalar(select(Payment).where(
        Payment.transaction_id == data.get("charge_id"), Payment.gateway == gateway_name))
    if payment is None or payment.status not in (T.PENDING, T.AUTHORIZED, T.FAILED):
        return event.get("id"), False
    if kind == "charge.failed" and payment.status is T.FAILED:
        return event.get("id"), False
    order = orders_service.get(session, order_id=payment.order_id, lock=True)
    before = audit.snapshot(payment)
    if kind == "charge.succeeded":
        payment.status, payment.paid_at = T.CAPTURED, now
        if order.status is OrderStatus.CANCELED:  # money for a canceled order: refund it
            order.anomalies = [*(order.anomalies or []), "paid_after_cancel"]
            order.flagged = True
    else:
        payment.status, payment.failed_at = T.FAILED, now
        payment.error_message = str(data.get("failure_message") or "declined")[:500]
    payment.gateway_response = {**(payment.gateway_response or {}), "event": event.get("id")}
    system = Principal(kind="system", store_id=order.store_id)
    _done(session, system, order, payment, f"payment.webhook.{kind}", None, before)
    return event.get("id"), True

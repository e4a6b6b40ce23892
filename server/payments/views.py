"""Payments of an order, gateway settings, and the gateways' webhook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request

from server.api.deps import IpLimited, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.db.tenancy import set_current_store
from server.errors import NotFound
from server.idempotency.deps import IdempotencyDep
from server.identity.principal import Principal
from server.orders import orders_service
from server.payments import gateway as gateways
from server.payments import service as payments_service
from server.payments.models import Payment, PaymentGatewayConfig
from server.payments.schemas import (
    GatewayConfigIn,
    GatewayConfigRead,
    OnlinePaymentCreate,
    PaymentCreate,
    PaymentRead,
    WebhookAck,
)

router = APIRouter(tags=["payments"])
Reader = Annotated[Principal, require_permission("orders.read")]
Writer = Annotated[Principal, require_permission("payments.write")]
MOVES = problem_responses(400, 401, 403, 404, 409, 422)


def payment_read(payment: Payment) -> PaymentRead:
    return PaymentRead.model_validate(payment, from_attributes=True)


def _config(config: PaymentGatewayConfig) -> GatewayConfigRead:
    return GatewayConfigRead(id=config.id, gateway=config.gateway, public_key=config.public_key,
                             has_secret_key=bool(config.secret_key),
                             has_webhook_secret=bool(config.webhook_secret),
                             is_test_mode=config.is_test_mode, is_active=config.is_active,
                             updated_at=config.updated_at)


@router.get("/orders/{order_id}/payments", response_model=list[PaymentRead],
            responses=problem_responses(400, 401, 403, 404))
def list_payments(order_id: str, _: Reader, db: SessionDep) -> list[PaymentRead]:
    """The order's payments, oldest first."""
    order = orders_service.get(db, order_id=order_id)
    return [payment_read(p) for p in payments_service.payments_of(db, order.id)]


@router.post("/orders/{order_id}/payments", response_model=PaymentRead, status_code=201,
             responses=MOVES)
def record_payment(idem: IdempotencyDep, order_id: str, body: PaymentCreate, actor: Writer,
                   db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Record cash, card-present (with the terminal's reference), bank transfer or cash on
    delivery. Cash and card are captured at once; transfers and COD when captured."""
    return idem.run(db, actor, body, 201, lambda: payment_read(payments_service.record(
        db, actor=actor, order_id=order_id, data=body, now=now, meta=meta)))


@router.post("/orders/{order_id}/payments/online", response_model=PaymentRead,
             status_code=201, responses={**MOVES, **problem_responses(502)})
def charge_online(idem: IdempotencyDep, order_id: str, body: OnlinePaymentCreate,
                  actor: Writer, db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Charge a card token through a gateway; the payment is settled by the gateway's webhook."""
    return idem.run(db, actor, body, 201, lambda: payment_read(payments_service.charge_online(
        db, actor=actor, order_id=order_id, data=body, idempotency_key=idem.key, now=now,
        meta=meta)))


@router.post("/payments/{payment_id}/capture", response_model=PaymentRead, responses=MOVES)
def capture_payment(idem: IdempotencyDep, payment_id: str, actor: Writer, db: SessionDep,
                    now: NowDep, meta: MetaDep) -> Any:
    """A bank transfer arrived, or cash on delivery was collected."""
    return idem.run(db, actor, None, 200, lambda: payment_read(payments_service.capture(
        db, actor=actor, payment_id=payment_id, now=now, meta=meta)))


@router.post("/payments/{payment_id}/void", response_model=PaymentRead, responses=MOVES)
def void_payment(idem: IdempotencyDep, payment_id: str, actor: Writer, db: SessionDep,
                 now: NowDep, meta: MetaDep) -> Any:
    """Cancel a payment that never completed."""
    return idem.run(db, actor, None, 200, lambda: payment_read(payments_service.void(
        db, actor=actor, payment_id=payment_id, now=now, meta=meta)))


@router.get("/payment-gateways", response_model=list[GatewayConfigRead],
            responses=problem_responses(400, 401, 403))
def list_gateways(_: Annotated[Principal, require_permission("settings.read")],
                  db: SessionDep) -> list[GatewayConfigRead]:
    """The store's gateway settings (secrets are never shown)."""
    return [_config(c) for c in payments_service.list_gateway_configs(db)]


@router.post("/payment-gateways", response_model=GatewayConfigRead,
             responses=problem_responses(400, 401, 403, 422))
def save_gateway(body: GatewayConfigIn,
                 actor: Annotated[Principal, require_permission("settings.write")],
                 db: SessionDep, meta: MetaDep) -> GatewayConfigRead:
    """Create or replace the settings of one gateway."""
    return _config(payments_service.save_gateway_config(db, actor=actor, data=body, meta=meta))


async def raw_body(request: Request) -> bytes:
    return await request.body()


@router.post("/payments/webhooks/{gateway}", response_model=WebhookAck,
             dependencies=[IpLimited], responses=problem_responses(400, 404, 429))
def gateway_webhook(
    gateway: str,
    payload: Annotated[bytes, Depends(raw_body)],
    db: SessionDep,
    now: NowDep,
    signature: Annotated[str | None, Header(alias=gateways.SIGNATURE_HEADER,
                                            max_length=1000)] = None,
) -> WebhookAck:
    """A gateway's event, signed with HMAC-SHA256 over the raw body (400 and no change when the
    signature does not verify)."""
    if gateways.get_gateway(gateway) is None:
        raise NotFound("There is no such payment gateway.", code="gateway_not_found")
    account = payments_service.webhook_account(payload)
    if account is None:
        raise gateways.InvalidSignature("The event names no store it is for.")
    set_current_store(db, account)
    event_id, applied = payments_service.apply_webhook(
        db, gateway_name=gateway, payload=payload, signature=signature, now=now)
    return WebhookAck(event_id=event_id, applied=applied)

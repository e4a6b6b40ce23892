"""Refunds of an order."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter

from server.api.deps import MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.idempotency.deps import IdempotencyDep
from server.identity.principal import Principal
from server.orders import orders_service
from server.payments import refunds_service
from server.payments.models import Refund
from server.payments.schemas import RefundCreate, RefundRead

router = APIRouter(prefix="/orders/{order_id}/refunds", tags=["refunds"])


def refund_read(refund: Refund) -> RefundRead:
    return RefundRead.model_validate(refund, from_attributes=True)


@router.get("", response_model=list[RefundRead],
            responses=problem_responses(400, 401, 403, 404))
def list_refunds(order_id: str, _: Annotated[Principal, require_permission("orders.read")],
                 db: SessionDep) -> list[RefundRead]:
    """The order's refunds, oldest first."""
    order = orders_service.get(db, order_id=order_id)
    return [refund_read(r) for r in refunds_service.list_for_order(db, order=order)]


@router.post("", response_model=RefundRead, status_code=201,
             responses={**problem_responses(400, 401, 403, 404, 409, 422, 502)})
def create_refund(idem: IdempotencyDep, order_id: str, body: RefundCreate,
                  actor: Annotated[Principal, require_permission("refunds.create")],
                  db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Refund items (with restock by default) or an amount; never more than was captured
    minus refunded, nor more units of a line than sold minus refunded."""
    return idem.run(db, actor, body, 201, lambda: refund_read(refunds_service.create(
        db, actor=actor, order_id=order_id, data=body, now=now, meta=meta)))

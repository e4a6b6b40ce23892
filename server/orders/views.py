"""Orders: online checkout, list and detail, status changes, cancel, and shipments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from server.api.deps import CurrentStore, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.clock import as_utc
from server.idempotency.deps import IdempotencyDep
from server.identity.principal import Principal
from server.orders import flows, orders_service, shipments_service
from server.orders.models import Order
from server.orders.schemas import (
    CancelRequest,
    OrderCreate,
    OrderItemRead,
    OrderPage,
    OrderRead,
    OrderSummary,
    ShipmentCreate,
    ShipmentRead,
    ShipmentUpdate,
    StatusChange,
)
from server.shipping.models import Shipment
from stormcom_pos.domain.enums import OrderChannel, OrderStatus, PaymentStatus

router = APIRouter(prefix="/orders", tags=["orders"])
Reader = Annotated[Principal, require_permission("orders.read")]
Writer = Annotated[Principal, require_permission("orders.write")]
MOVES = problem_responses(400, 401, 403, 404, 409, 422)


def order_read(order: Order) -> OrderRead:
    data: dict[str, Any] = {
        k: getattr(order, k) for k in OrderRead.model_fields if k not in ("items",)
    }
    data["items"] = [OrderItemRead.model_validate(i, from_attributes=True) for i in order.items]
    data["tax_rounding"] = str(order.tax_rounding)
    return OrderRead.model_validate(data)


def _shipment(shipment: Shipment) -> ShipmentRead:
    return ShipmentRead.model_validate(shipment, from_attributes=True)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value).astimezone(UTC)


@router.get("", response_model=OrderPage, responses=problem_responses(400, 401, 403, 422))
def list_orders(
    _: Reader,
    db: SessionDep,
    q: Annotated[str | None, Query(max_length=100, description="Number, email or phone")] = None,
    status: OrderStatus | None = None,
    payment_status: PaymentStatus | None = None,
    channel: OrderChannel | None = None,
    customer_id: Annotated[str | None, Query(max_length=32)] = None,
    flagged: bool | None = None,
    since: Annotated[datetime | None, Query(description="Created at or after")] = None,
    until: Annotated[datetime | None, Query(description="Created before")] = None,
    sort: Literal["-created_at", "created_at", "-total", "total", "order_number",
                  "-order_number"] = "-created_at",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> OrderPage:
    """The store's orders, searched and filtered, newest first by default."""
    flt = orders_service.OrderFilter(q=q, status=status, payment_status=payment_status,
                                     channel=channel, customer_id=customer_id, flagged=flagged,
                                     since=_utc(since), until=_utc(until))
    rows, total = orders_service.list_(db, flt=flt, sort=sort, page=page, page_size=page_size)
    return OrderPage(items=[OrderSummary.model_validate(o, from_attributes=True) for o in rows],
                     total=total, page=page, page_size=page_size)


@router.post("", response_model=OrderRead, status_code=201, responses=MOVES)
def create_order(idem: IdempotencyDep, body: OrderCreate, actor: Writer, db: SessionDep,
                 store: CurrentStore, now: NowDep, meta: MetaDep) -> Any:
    """Place an online order priced by the shared rules (PENDING until confirmed)."""
    return idem.run(db, actor, body, 201, lambda: order_read(flows.create_online_order(
        db, actor=actor, store=store, data=body, now=now, meta=meta)))


@router.get("/{order_id}", response_model=OrderRead,
            responses=problem_responses(400, 401, 403, 404))
def get_order(order_id: str, _: Reader, db: SessionDep) -> OrderRead:
    """One order with its lines."""
    return order_read(orders_service.detail(db, order_id=order_id))


@router.post("/{order_id}/confirm", response_model=OrderRead, responses=MOVES)
def confirm_order(idem: IdempotencyDep, order_id: str, actor: Writer, db: SessionDep,
                  now: NowDep, meta: MetaDep) -> Any:
    """Confirm: the units leave stock (409 ``insufficient_stock`` rather than oversell)."""
    return idem.run(db, actor, None, 200, lambda: order_read(flows.confirm_order(
        db, actor=actor, order_id=order_id, now=now, meta=meta)))


@router.post("/{order_id}/status", response_model=OrderRead, responses=MOVES)
def change_order_status(idem: IdempotencyDep, order_id: str, body: StatusChange, actor: Writer,
                        db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Move an order on (409 naming both states when the move is not allowed)."""
    return idem.run(db, actor, body, 200, lambda: order_read(flows.change_status(
        db, actor=actor, order_id=order_id, target=OrderStatus(body.status), now=now,
        reason=body.reason, meta=meta)))


@router.post("/{order_id}/cancel", response_model=OrderRead, responses=MOVES)
def cancel_order(idem: IdempotencyDep, order_id: str, body: CancelRequest, actor: Writer,
                 db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Cancel an order; its units go back to stock exactly once."""
    return idem.run(db, actor, body, 200, lambda: order_read(flows.cancel_order(
        db, actor=actor, order_id=order_id, now=now, reason=body.reason, meta=meta)))


@router.get("/{order_id}/shipments", response_model=list[ShipmentRead],
            responses=problem_responses(400, 401, 403, 404))
def list_shipments(order_id: str, _: Reader, db: SessionDep) -> list[ShipmentRead]:
    """The order's shipments, oldest first."""
    order = orders_service.get(db, order_id=order_id)
    return [_shipment(s) for s in shipments_service.list_for_order(db, order=order)]


@router.post("/{order_id}/shipments", response_model=ShipmentRead, status_code=201,
             responses=MOVES)
def create_shipment(order_id: str, body: ShipmentCreate, actor: Writer, db: SessionDep,
                    now: NowDep, meta: MetaDep) -> ShipmentRead:
    """Ship units of a confirmed order (all remaining ones when no items are given)."""
    return _shipment(shipments_service.create(db, actor=actor, order_id=order_id, data=body,
                                              now=now, meta=meta))


@router.patch("/{order_id}/shipments/{shipment_id}", response_model=ShipmentRead,
              responses=MOVES)
def update_shipment(order_id: str, shipment_id: str, body: ShipmentUpdate, actor: Writer,
                    db: SessionDep, now: NowDep, meta: MetaDep) -> ShipmentRead:
    """Add tracking, or move the shipment on (PICKED_UP ... DELIVERED; FAILED, RETURNED)."""
    return _shipment(shipments_service.update(db, actor=actor, order_id=order_id,
                                              shipment_id=shipment_id, data=body, now=now,
                                              meta=meta))

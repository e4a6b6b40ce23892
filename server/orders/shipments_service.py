"""Shipments of an order with carrier tracking; fulfilment status follows from them.

A shipment carries ``[{order_item_id, quantity}]``. Its units must still be unshipped: sold,
minus refunded, minus what live shipments (not FAILED or RETURNED) already carry. Each change
recounts the lines' ``quantity_fulfilled``/``quantity_shipped`` and re-derives the order's
fulfilment status with the shared rules; once every unit is with the carrier the order moves
to SHIPPED, and to DELIVERED when every unit is delivered (when the state machine allows).
"""

from __future__ import annotations

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
from server.orders.schemas import ShipmentCreate, ShipmentUpdate
from server.shipping.models import Shipment
from stormcom_pos.domain.enums import FulfillmentStatus, OrderStatus, ShipmentStatus
from stormcom_pos.domain.order_states import (
    FulfillmentLine,
    ShipmentFact,
    derive_fulfillment_status,
)

_DEAD = (ShipmentStatus.FAILED, ShipmentStatus.RETURNED)
_WITH_CARRIER = (ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT,
                 ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED)
# Carrier states move forward; FAILED and RETURNED end a shipment.
_NEXT = {
    ShipmentStatus.PENDING: set(_WITH_CARRIER) | set(_DEAD),
    ShipmentStatus.PICKED_UP: {ShipmentStatus.IN_TRANSIT, ShipmentStatus.OUT_FOR_DELIVERY,
                               ShipmentStatus.DELIVERED, *_DEAD},
    ShipmentStatus.IN_TRANSIT: {ShipmentStatus.OUT_FOR_DELIVERY, ShipmentStatus.DELIVERED,
                                *_DEAD},
    ShipmentStatus.OUT_FOR_DELIVERY: {ShipmentStatus.DELIVERED, *_DEAD},
    ShipmentStatus.DELIVERED: {ShipmentStatus.RETURNED},
    ShipmentStatus.FAILED: set(),
    ShipmentStatus.RETURNED: set(),
}


def list_for_order(session: Session, *, order: Order) -> Sequence[Shipment]:
    return session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                           .order_by(Shipment.created_at, Shipment.id)).all()


def get(session: Session, *, order: Order, shipment_id: str) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None or shipment.order_id != order.id:
        raise NotFound("There is no such shipment on this order.", code="shipment_not_found")
    return shipment


def _carried(shipments: Sequence[Shipment]) -> dict[str, int]:
    out: dict[str, int] = {}
    for shipment in shipments:
        if shipment.status in _DEAD:
            continue
        for entry in shipment.items or []:
            out[entry["order_item_id"]] = out.get(entry["order_item_id"], 0) + entry["quantity"]
    return out


def _recount(session: Session, order: Order, now: datetime) -> None:
    shipments = list_for_order(session, order=order)
    packed: dict[str, int] = {}
    shipped: dict[str, int] = {}
    for s in shipments:
        for entry in s.items or []:
            key, qty = entry["order_item_id"], entry["quantity"]
            if s.status not in _DEAD:
                packed[key] = packed.get(key, 0) + qty
            if s.status in _WITH_CARRIER:
                shipped[key] = shipped.get(key, 0) + qty
    for item in order.items:
        item.quantity_fulfilled = Decimal(packed.get(item.id, 0))
        item.quantity_shipped = Decimal(shipped.get(item.id, 0))
    status = derive_fulfillment_status(
        [FulfillmentLine(i.id, int(i.quantity), 0, 0, int(i.quantity_refunded))
         for i in order.items],
        [ShipmentFact(s.status, tuple((e["order_item_id"], e["quantity"]) for e in s.items or []))
         for s in shipments],
    )
    order.fulfillment_status = status
    target = {FulfillmentStatus.SHIPPED: OrderStatus.SHIPPED,
              FulfillmentStatus.DELIVERED: OrderStatus.DELIVERED}.get(status)
    if target is not None and target in _forward(order.status):
        order.status = target
    order.updated_at = now


def _forward(status: OrderStatus) -> set[OrderStatus]:
    if status in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING):
        return {OrderStatus.SHIPPED, OrderStatus.DELIVERED}
    if status is OrderStatus.SHIPPED:
        return {OrderStatus.DELIVERED}
    return set()


def create(session: Session, *, actor: Principal, order_id: str, data: ShipmentCreate,
           now: datetime, meta: RequestMeta) -> Shipment:
    """Ship some or all remaining units of a confirmed order."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.PROCESSING, OrderStatus.SHIPPED):
        raise Conflict(f"Order {order.order_number} is {order.status}; only a confirmed order "
                       "can be shipped.", code="order_not_shippable")
    carried = _carried(list_for_order(session, order=order))
    left = {i.id: int(i.quantity - i.quantity_refunded) - carried.get(i.id, 0)
            for i in order.items}
    if data.items is None:
        wanted = {k: v for k, v in left.items() if v > 0}
    else:
        wanted = {}
        for entry in data.items:
            orders_service.get_item(order, entry.order_item_id)
            wanted[entry.order_item_id] = wanted.get(entry.order_item_id, 0) + entry.quantity
    if not wanted:
        raise Conflict("Every unit of this order is already in a shipment.",
                       code="nothing_to_ship")
    for item_id, qty in wanted.items():
        if qty > left[item_id]:
            raise Invalid(f"Line {item_id}: {qty} units requested, {max(left[item_id], 0)} "
                          "left to ship.", code="shipment_quantity_exceeded")
    items: list[dict[str, Any]] = [{"order_item_id": k, "quantity": v} for k, v in wanted.items()]
    method = str(order.shipping_address.get("shipping_method") or "standard")
    shipment = Shipment(
        store_id=order.store_id, order_id=order.id, carrier=data.carrier,
        tracking_number=data.tracking_number, tracking_url=data.tracking_url,
        shipping_method=data.shipping_method or method,
        shipping_cost=(data.shipping_cost if data.shipping_cost is not None
                       else order.shipping_cost),
        estimated_delivery_at=data.estimated_delivery_at, items=items,
        status=ShipmentStatus.PENDING,
    )
    session.add(shipment)
    session.flush()
    _recount(session, order, now)
    session.flush()
    audit.record(session, actor=actor, action="shipment.create", entity_type="shipment",
                 entity_id=shipment.id, after=audit.snapshot(shipment), request_meta=meta)
    return shipment


def update(session: Session, *, actor: Principal, order_id: str, shipment_id: str,
           data: ShipmentUpdate, now: datetime, meta: RequestMeta) -> Shipment:
    """Record tracking details or a carrier status change."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    shipment = get(session, order=order, shipment_id=shipment_id)
    before = audit.snapshot(shipment)
    changes = data.model_dump(exclude_unset=True)
    target = changes.pop("status", None)
    for key, value in changes.items():
        setattr(shipment, key, value)
    if target is not None and target is not shipment.status:
        if target not in _NEXT[shipment.status]:
            raise Conflict(f"cannot move shipment from {shipment.status} to {target}",
                           code="illegal_transition", current=str(shipment.status),
                           requested=str(target))
        shipment.status = target
        if target in _WITH_CARRIER and shipment.shipped_at is None:
            shipment.shipped_at = now
        if target is ShipmentStatus.DELIVERED:
            shipment.delivered_at = now
    session.flush()
    _recount(session, order, now)
    session.flush()
    audit.record(session, actor=actor, action="shipment.update", entity_type="shipment",
                 entity_id=shipment.id, before=before, after=audit.snapshot(shipment),
                 request_meta=meta)
    return shipment

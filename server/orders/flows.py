"""Order use cases that span domains: checkout (catalog, tax, promotions, shipping),
confirmation and cancellation (inventory, promotions), and the auto-cancel job.

Services never commit; the request (or the job below, per order) owns the transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.audit import service as audit
from server.identity.principal import Principal, RequestMeta
from server.orders import orders_service, stock
from server.orders import pricing as order_pricing
from server.orders import settings as store_settings
from server.orders.models import Order
from server.orders.schemas import AddressIn, OrderCreate
from server.promotions import service as promotions_service
from server.stores.models import Store
from stormcom_pos.domain.coupons import CouponRejected
from stormcom_pos.domain.enums import OrderChannel, OrderStatus, PaymentStatus
from stormcom_pos.domain.order_states import auto_cancel_at
from stormcom_pos.domain.tax import TaxAddress, TaxRounding

log = logging.getLogger("stormcom.orders")


def _address(address: AddressIn) -> dict[str, Any]:
    return address.model_dump(mode="json")


def create_online_order(session: Session, *, actor: Principal, store: Store, data: OrderCreate,
                        now: datetime, meta: RequestMeta) -> Order:
    """Price and record an online order (PENDING, unpaid; stock moves on confirmation).

    A coupon that does not apply refuses the order with its readable reason (422).
    """
    ship = data.shipping_address
    address = TaxAddress(ship.country, ship.state, ship.city, ship.postal_code)
    result = order_pricing.price_online_order(
        session, store=store,
        lines=[order_pricing.LineRequest(line.variant_id, line.quantity) for line in data.lines],
        customer_id=data.customer_id, address=address, codes=data.coupon_codes,
        shipping_rate_id=data.shipping_rate_id, now=now,
    )
    priced = result.priced
    if priced.rejected_coupons:
        first = priced.rejected_coupons[0]
        raise CouponRejected(first.code, first.reason)
    loaded = result.loaded
    names = {
        v.id: (loaded.products[v.product_id].name, v.sku, dict(v.attributes or {}))
        for v in loaded.variants.values()
    }
    settings = store_settings.pricing_settings(store)
    order = orders_service.build(store_id=store.id, priced=priced, names=names, fields={
        "channel": OrderChannel.ONLINE, "status": OrderStatus.PENDING,
        "payment_status": PaymentStatus.PENDING if priced.total > 0 else PaymentStatus.PAID,
        "tax_rounding": TaxRounding(settings.tax_rounding),
        "customer_id": data.customer_id, "customer_email": data.customer_email,
        "customer_phone": data.customer_phone, "shipping_address": _address(ship),
        "billing_address": _address(data.billing_address or ship), "notes": data.notes,
        "ip_address": meta.ip, "user_agent": meta.user_agent,
        "auto_cancel_at": auto_cancel_at(now, store_settings.auto_cancel_minutes(store)),
        "created_at": now, "updated_at": now,
    })
    if result.shipping is not None:  # the rate chosen, for the shipments to come
        order.shipping_address = {**order.shipping_address,
                                  "shipping_rate_id": result.shipping.rate_id,
                                  "shipping_method": result.shipping.name}
    promotions_service.consume(session, coupon_ids=[c.coupon_id for c in priced.applied_coupons])
    orders_service.insert_numbered(session, order=order, now=now)
    audit.record(session, actor=actor, action="order.create", entity_type="order",
                 entity_id=order.id, after=audit.snapshot(order), request_meta=meta)
    return order


def confirm_order(session: Session, *, actor: Principal, order_id: str, now: datetime,
                  meta: RequestMeta | None = None) -> Order:
    """PENDING -> CONFIRMED, taking the units out of stock without ever overselling.

    Confirming a CONFIRMED order again changes nothing (and moves no stock).
    """
    order = orders_service.get(session, order_id=order_id, lock=True)
    if order.status is OrderStatus.CONFIRMED:
        return order
    orders_service.check_transition(order, OrderStatus.CONFIRMED)
    before = audit.snapshot(order)
    if order.channel is OrderChannel.ONLINE:
        stock.deduct(session, order=order, user_id=actor.user_id, now=now)
    order.status = OrderStatus.CONFIRMED
    order.auto_cancel_at = None
    order.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="order.confirm", entity_type="order",
                 entity_id=order.id, before=before, after=audit.snapshot(order),
                 request_meta=meta, store_id=order.store_id)
    return order


def cancel_order(session: Session, *, actor: Principal, order_id: str, now: datetime,
                 reason: str | None = None, meta: RequestMeta | None = None,
                 action: str = "order.cancel") -> Order:
    """Cancel an order: its units go back to stock exactly once, its coupon uses are returned."""
    order = orders_service.get(session, order_id=order_id, lock=True)
    if order.status is OrderStatus.CANCELED:
        return order
    orders_service.check_transition(order, OrderStatus.CANCELED)
    before = audit.snapshot(order)
    stock.restore_for_cancel(session, order=order, user_id=actor.user_id, now=now)
    promotions_service.give_back(session, coupon_ids=[
        d["coupon_id"] for d in order.discount_lines or []
        if d.get("kind") == "coupon" and d.get("coupon_id")])
    order.status = OrderStatus.CANCELED
    order.auto_cancel_at = None
    order.updated_at = now
    if reason:
        order.notes = f"{order.notes}\n" if order.notes else ""
        order.notes += f"Canceled: {reason}"
    session.flush()
    audit.record(session, actor=actor, action=action, entity_type="order", entity_id=order.id,
                 before=before, after=audit.snapshot(order), request_meta=meta,
                 store_id=order.store_id)
    return order


def change_status(session: Session, *, actor: Principal, order_id: str, target: OrderStatus,
                  now: datetime, reason: str | None, meta: RequestMeta) -> Order:
    """Move an order through the shared state machine (409 for an illegal move)."""
    if target is OrderStatus.CONFIRMED:
        return confirm_order(session, actor=actor, order_id=order_id, now=now, meta=meta)
    if target is OrderStatus.CANCELED:
        return cancel_order(session, actor=actor, order_id=order_id, now=now, reason=reason,
                            meta=meta)
    order = orders_service.get(session, order_id=order_id, lock=True)
    orders_service.check_transition(order, target)
    if order.status is target:
        return order
    before = audit.snapshot(order)
    order.status = target
    order.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="order.status", entity_type="order",
                 entity_id=order.id, before=before, after=audit.snapshot(order),
                 request_meta=meta)
    return order

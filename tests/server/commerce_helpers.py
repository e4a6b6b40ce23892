"""Seed data and shortcuts for the commerce API tests (orders, payments, refunds, drawers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.catalog.models import Product, ProductStatus, Variant
from server.db.base import new_id
from server.pos.models import Device
from server.promotions.models import Coupon
from server.shipping.models import ShippingRate, ShippingZone
from server.tax.models import TaxRate
from stormcom_pos.domain.enums import DiscountType
from tests.server.conftest import db_session

ADDRESS = {"first_name": "Ada", "last_name": "Lovelace", "address1": "1 Main St",
           "city": "Springfield", "state": "CA", "postal_code": "90210", "country": "US"}


def seed_variant(app: FastAPI, store_id: str, *, price: str = "10.00", stock: int = 10,
                 sku: str | None = None, taxable: bool = True) -> str:
    """An ACTIVE product with one variant in stock; returns the variant id."""
    with db_session(app) as db:
        slug = f"p-{new_id()}"
        product = Product(store_id=store_id, name=f"Product {slug}", slug=slug,
                          status=ProductStatus.ACTIVE, is_taxable=taxable)
        db.add(product)
        db.flush()
        variant = Variant(store_id=store_id, product_id=product.id, sku=sku or slug.upper(),
                          price=Decimal(price), stock_quantity=stock)
        db.add(variant)
        db.commit()
        return variant.id


def stock_of(app: FastAPI, variant_id: str) -> int:
    with db_session(app) as db:
        return int(db.scalar(select(Variant.stock_quantity).where(Variant.id == variant_id)))


def seed_shipping(app: FastAPI, store_id: str, *, cost: str = "5.00",
                  free_over: str | None = None) -> str:
    """A catch-all zone with one flat rate; returns the rate id."""
    with db_session(app) as db:
        zone = ShippingZone(store_id=store_id, name="Everywhere", countries=[], states=[],
                            postal_codes=[])
        db.add(zone)
        db.flush()
        rate = ShippingRate(store_id=store_id, zone_id=zone.id, name="Standard",
                            cost=Decimal(cost), conditions={},
                            free_shipping_threshold=Decimal(free_over) if free_over else None)
        db.add(rate)
        db.commit()
        return rate.id


def seed_tax(app: FastAPI, store_id: str, *, rate: str = "0.10", country: str = "US") -> str:
    with db_session(app) as db:
        row = TaxRate(store_id=store_id, name="Sales tax", country=country, rate=Decimal(rate))
        db.add(row)
        db.commit()
        return row.id


def seed_coupon(app: FastAPI, store_id: str, code: str, *, value: str = "10",
                kind: DiscountType = DiscountType.PERCENTAGE, **extra: Any) -> str:
    with db_session(app) as db:
        coupon = Coupon(store_id=store_id, code=code, name=code, discount_type=kind,
                        discount_value=Decimal(value),
                        valid_from=datetime.now(UTC) - timedelta(days=1), **extra)
        db.add(coupon)
        db.commit()
        return coupon.id


def seed_device(app: FastAPI, store_id: str, number: int = 1) -> str:
    with db_session(app) as db:
        device = Device(store_id=store_id, name=f"Till {number}", terminal_number=number)
        db.add(device)
        db.commit()
        return device.id


def order_body(*lines: tuple[str, int], **extra: Any) -> dict[str, Any]:
    return {"lines": [{"variant_id": v, "quantity": q} for v, q in lines],
            "shipping_address": ADDRESS, "customer_email": "ada@example.com", **extra}


def place(client: TestClient, headers: dict[str, str], *lines: tuple[str, int],
          **extra: Any) -> dict[str, Any]:
    r = client.post("/api/v1/orders", headers=headers, json=order_body(*lines, **extra))
    assert r.status_code == 201, r.text
    return dict(r.json())


def pay_cash(client: TestClient, headers: dict[str, str], order: dict[str, Any],
             amount: str | None = None) -> dict[str, Any]:
    r = client.post(f"/api/v1/orders/{order['id']}/payments", headers=headers,
                    json={"method": "CASH", "amount": amount or order["total"]})
    assert r.status_code == 201, r.text
    return dict(r.json())


def seed_b_commerce(app: FastAPI, store_id: str) -> dict[str, list[str]]:
    """Store B's commerce rows for the tenancy probe: an order with a payment, a refund and
    a shipment, an open drawer with a cash movement, tax, shipping and promotions."""
    from server.orders.models import Order, OrderItem
    from server.payments.models import Payment, Refund
    from server.pos.models import PosCashMovement, PosSession
    from server.promotions.models import FlashSale
    from server.shipping.models import Shipment
    from stormcom_pos.domain.enums import PaymentMethod, RefundReason

    variant = seed_variant(app, store_id)
    rate = seed_shipping(app, store_id)
    tax = seed_tax(app, store_id)
    coupon = seed_coupon(app, store_id, "BPROBE")
    device = seed_device(app, store_id, 9)
    with db_session(app) as db:
        owner = db.scalar(select(Device.id).where(Device.id == device))
        assert owner
        order = Order(store_id=store_id, order_number="ORD-2000-00001", subtotal=Decimal(10),
                      total=Decimal(10))
        db.add(order)
        db.flush()
        item = OrderItem(store_id=store_id, order_id=order.id, variant_id=variant,
                         product_name="B thing", variant_sku="B-SKU", quantity=Decimal(1),
                         unit_price=Decimal(10), subtotal=Decimal(10), total=Decimal(10))
        payment = Payment(store_id=store_id, order_id=order.id, method=PaymentMethod.CASH,
                          gateway="cash", amount=Decimal(10))
        db.add_all([item, payment])
        db.flush()
        refund = Refund(store_id=store_id, order_id=order.id, payment_id=payment.id,
                        amount=Decimal(1), reason=RefundReason.OTHER)
        shipment = Shipment(store_id=store_id, order_id=order.id, carrier="UPS",
                            shipping_method="Standard", shipping_cost=Decimal(5))
        from server.identity.models import UserStore

        user = db.scalar(select(UserStore.user_id).where(UserStore.store_id == store_id))
        drawer = PosSession(store_id=store_id, user_id=user, device_id=device,
                            opening_cash=Decimal(100))
        sale = FlashSale(store_id=store_id, name="B sale", discount_type=DiscountType.PERCENTAGE,
                         discount_value=Decimal(5), products=["all"],
                         start_at=datetime.now(UTC), end_at=datetime.now(UTC) + timedelta(1))
        db.add_all([refund, shipment, drawer, sale])
        db.flush()
        db.add(PosCashMovement(store_id=store_id, pos_session_id=drawer.id, type="PAY_IN",
                               amount=Decimal(5), user_id=user))
        zone = db.scalar(select(ShippingRate.zone_id).where(ShippingRate.id == rate))
        db.commit()
        return {"order": [order.id], "payment": [payment.id], "shipment": [shipment.id],
                "pos_session": [drawer.id], "tax_rate": [tax], "zone": [str(zone)],
                "rate": [rate], "coupon": [coupon], "flash_sale": [sale.id],
                "refund": [refund.id], "gateway": [store_id]}

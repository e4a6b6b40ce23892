"""Settings: tax rates, shipping zones and rates, coupons, flash sales, and "validate coupons
for this cart" with the shared rules' readable refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from tests.server.commerce_helpers import order_body, seed_shipping, seed_variant
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]


def test_tax_rates_crud_and_validation(client: TestClient, auth: Auth, app: FastAPI) -> None:
    h = auth("a", "owner")
    r = client.post("/api/v1/tax-rates", headers=h, json={
        "name": "QC QST", "country": "ca", "state": "QC", "rate": "0.09975", "priority": 2})
    assert r.status_code == 201, r.text
    qst = r.json()
    assert (qst["country"], Decimal(qst["rate"])) == ("CA", Decimal("0.09975"))
    for bad in ({"rate": "1.5"}, {"rate": "0.1234567"}, {"country": "CAN"}):
        r = client.post("/api/v1/tax-rates", headers=h,
                        json={"name": "x", "country": "CA", "rate": "0.05", **bad})
        assert r.status_code == 422, bad
    r = client.patch(f"/api/v1/tax-rates/{qst['id']}", headers=h, json={"state": None})
    assert r.status_code == 200 and r.json()["state"] is None
    r = client.patch(f"/api/v1/tax-rates/{qst['id']}", headers=h, json={"rate": None})
    assert r.status_code == 422
    listed = client.get("/api/v1/tax-rates", headers=h, params={"country": "CA"}).json()
    assert [t["id"] for t in listed["items"]] == [qst["id"]]
    assert client.delete(f"/api/v1/tax-rates/{qst['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/tax-rates/{qst['id']}", headers=h).status_code == 404
    assert client.post("/api/v1/tax-rates", headers=auth("a", "cashier"), json={
        "name": "x", "country": "US", "rate": "0.05"}).status_code == 403
    with db_session(app) as db:
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.entity_id == qst["id"])))
    assert actions == {"tax_rate.create", "tax_rate.update", "tax_rate.delete"}


def test_shipping_zones_rates_and_quotes(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    zone = client.post("/api/v1/shipping-zones", headers=h, json={
        "name": "West coast", "countries": ["us"], "states": ["CA", "OR"],
        "postal_codes": ["9*"]}).json()
    base = f"/api/v1/shipping-zones/{zone['id']}/rates"
    standard = client.post(base, headers=h, json={
        "name": "Standard", "cost": "6.00", "free_shipping_threshold": "50.00",
        "min_delivery_days": 3, "max_delivery_days": 5}).json()
    express = client.post(base, headers=h, json={
        "name": "Heavy", "cost": "15.00", "conditions": {"min_weight": "10"}}).json()
    r = client.post(base, headers=h, json={"name": "Bad", "cost": "150",
                                           "rate_type": "PERCENTAGE"})
    assert r.status_code == 422
    r = client.post(base, headers=h, json={"name": "Bad", "cost": "1",
                                           "conditions": {"min_price": "9", "max_price": "1"}})
    assert r.status_code == 422
    assert express["conditions"]["min_weight"] == "10"
    quote = {"address": {"country": "US", "state": "CA", "postal_code": "94105"},
             "subtotal": "20.00"}
    r = client.post("/api/v1/shipping/quote", headers=h, json=quote)
    assert [q["name"] for q in r.json()] == ["Standard"]
    r = client.post("/api/v1/shipping/quote", headers=h, json={**quote, "subtotal": "60.00",
                                                               "weight_kg": "12"})
    assert [(q["name"], q["is_free"]) for q in r.json()] == [("Standard", True),
                                                            ("Heavy", False)]
    r = client.post("/api/v1/shipping/quote", headers=h,
                    json={**quote, "address": {"country": "US", "state": "NY"}})
    assert r.status_code == 422 and r.json()["code"] == "no_shipping_zone"
    r = client.patch(f"{base}/{standard['id']}", headers=h, json={"cost": "7.00"})
    assert r.status_code == 200 and r.json()["cost"] == "7.00"
    assert client.delete(f"{base}/{express['id']}", headers=h).status_code == 204
    got = client.get(f"/api/v1/shipping-zones/{zone['id']}", headers=h).json()
    assert [x["name"] for x in got["rates"]] == ["Standard"]
    assert client.delete(f"/api/v1/shipping-zones/{zone['id']}", headers=h).status_code == 204
    assert client.get("/api/v1/shipping-zones", headers=h).json()["total"] == 0


def test_coupons_crud_and_validation(client: TestClient, auth: Auth, clock: FakeClock) -> None:
    h = auth("a", "owner")
    start = clock.now.isoformat()
    body = {"code": "save10", "name": "Save 10", "discount_type": "PERCENTAGE",
            "discount_value": "10", "valid_from": start}
    r = client.post("/api/v1/coupons", headers=h, json=body)
    assert r.status_code == 201 and r.json()["code"] == "SAVE10"
    coupon = r.json()
    assert client.post("/api/v1/coupons", headers=h, json=body).status_code == 409
    bad = [{"discount_value": "120"}, {"discount_type": "BUY_X_GET_Y"},
           {"valid_to": (clock.now - timedelta(days=1)).isoformat()}]
    for extra in bad:
        r = client.post("/api/v1/coupons", headers=h, json={**body, "code": "X1", **extra})
        assert r.status_code == 422, (extra, r.text)
    r = client.post("/api/v1/coupons", headers=h, json={
        **body, "code": "B2G1", "name": "Buy two", "discount_type": "BUY_X_GET_Y",
        "discount_value": "100",
        "buy_quantity": 2, "get_quantity": 1})
    assert r.status_code == 201
    r = client.patch(f"/api/v1/coupons/{coupon['id']}", headers=h, json={"is_active": False})
    assert r.json()["is_active"] is False
    page = client.get("/api/v1/coupons", headers=h, params={"q": "save"}).json()
    assert [c["code"] for c in page["items"]] == ["SAVE10"]
    assert client.delete(f"/api/v1/coupons/{coupon['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/coupons/{coupon['id']}", headers=h).status_code == 404


def test_flash_sales_crud_and_they_set_the_price(app: FastAPI, client: TestClient,
                                                  world: World, auth: Auth,
                                                  clock: FakeClock) -> None:
    h = auth("a", "owner")
    window = {"start_at": (clock.now - timedelta(hours=1)).isoformat(),
              "end_at": (clock.now + timedelta(hours=1)).isoformat()}
    r = client.post("/api/v1/flash-sales", headers=h, json={
        "name": "Noon", "discount_type": "FREE_SHIPPING", "discount_value": "1", **window})
    assert r.status_code == 422
    r = client.post("/api/v1/flash-sales", headers=h, json={
        "name": "Noon", "discount_type": "PERCENTAGE", "discount_value": "25",
        "start_at": window["end_at"], "end_at": window["start_at"]})
    assert r.status_code == 422
    sale = client.post("/api/v1/flash-sales", headers=h, json={
        "name": "Noon", "discount_type": "PERCENTAGE", "discount_value": "25",
        "all_products": True, **window}).json()
    assert sale["all_products"] is True and sale["status"] == "SCHEDULED"
    v = seed_variant(app, world.a.store_id, price="8.00")
    seed_shipping(app, world.a.store_id, cost="0.00")
    r = client.post("/api/v1/orders", headers=h, json=order_body((v, 1)))
    item = r.json()["items"][0]
    assert (item["unit_price"], item["original_unit_price"]) == ("6.00", "8.00")
    r = client.patch(f"/api/v1/flash-sales/{sale['id']}", headers=h,
                     json={"status": "CANCELED"})
    assert r.json()["status"] == "CANCELED"
    r = client.post("/api/v1/orders", headers=h, json=order_body((v, 1)))
    assert r.json()["items"][0]["unit_price"] == "8.00"
    assert client.delete(f"/api/v1/flash-sales/{sale['id']}", headers=h).status_code == 204
    assert client.get("/api/v1/flash-sales", headers=h).json()["total"] == 0


def test_validate_coupons_for_a_cart_gives_readable_reasons(
    app: FastAPI, client: TestClient, world: World, auth: Auth, clock: FakeClock
) -> None:
    h = auth("a", "owner")
    start = (clock.now - timedelta(days=2)).isoformat()
    coupons = [
        {"code": "TEN", "discount_type": "PERCENTAGE", "discount_value": "10"},
        {"code": "OLD", "discount_type": "PERCENTAGE", "discount_value": "50",
         "valid_to": (clock.now - timedelta(days=1)).isoformat()},
        {"code": "BIG", "discount_type": "FIXED_AMOUNT", "discount_value": "5",
         "min_order_value": "100.00"},
    ]
    for c in coupons:
        r = client.post("/api/v1/coupons", headers=h,
                        json={"name": c["code"], "valid_from": start, **c})
        assert r.status_code == 201, r.text
    v = seed_variant(app, world.a.store_id, price="20.00")
    cart = {"lines": [{"variant_id": v, "quantity": 2}]}
    r = client.post("/api/v1/coupons/validate", headers=h, json={**cart, "codes": ["ten"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is True and body["applied"][0]["amount"] == "4.00"
    assert body["total"] == "36.00"
    r = client.post("/api/v1/coupons/validate", headers=h, json={**cart, "codes": ["OLD"]})
    refusal = r.json()["rejected"][0]
    assert r.json()["valid"] is False and refusal["reason_code"] == "coupon_expired"
    assert refusal["reason"].startswith("Coupon OLD expired at")
    r = client.post("/api/v1/coupons/validate", headers=h, json={**cart, "codes": ["BIG"]})
    assert r.json()["rejected"][0]["reason"] == (
        "Coupon BIG needs an order of at least $100.00; this order is $40.00")
    r = client.post("/api/v1/coupons/validate", headers=h, json={**cart, "codes": ["TEN", "BIG"]})
    assert r.json()["rejected"][0]["reason_code"] in ("coupon_one_per_order",
                                                      "coupon_minimum_not_met")
    r = client.post("/api/v1/coupons/validate", headers=h, json={**cart, "codes": ["WHO"]})
    assert r.json()["rejected"][0]["reason"] == "Coupon WHO not found"


def test_store_settings_go_through_the_store_endpoint(client: TestClient, auth: Auth,
                                                      app: FastAPI, world: World) -> None:
    """Commerce settings are keys of PATCH /api/v1/store settings (no second endpoint)."""
    h = auth("a", "owner")
    r = client.patch("/api/v1/store", headers=h, json={"settings": {
        "max_coupons_per_order": 2, "auto_cancel_minutes": 45}})
    assert r.status_code == 200
    from server.orders import settings as store_settings
    from server.stores.models import Store

    with db_session(app) as db:
        store = db.get(Store, world.a.store_id)
        assert store_settings.auto_cancel_minutes(store) == 45
        assert store_settings.pricing_settings(store).max_coupons == 2
        store.settings = {"auto_cancel_minutes": "soon", "max_coupons_per_order": 9}
        assert store_settings.auto_cancel_minutes(store) == 60  # bad values fall back
        assert store_settings.pricing_settings(store).max_coupons == 1
    seed_shipping(app, world.a.store_id)

"""Online orders: checkout priced by the shared rules, numbering, list/search, transitions,
cancel, and auto-cancel of unpaid orders."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.orders import jobs
from tests.server.commerce_helpers import (
    ADDRESS,
    order_body,
    pay_cash,
    place,
    seed_coupon,
    seed_shipping,
    seed_tax,
    seed_variant,
    stock_of,
)
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]


def test_checkout_prices_with_tax_coupon_and_shipping(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    a = world.a.store_id
    v1 = seed_variant(app, a, price="19.99")
    v2 = seed_variant(app, a, price="5.00")
    seed_shipping(app, a, cost="4.50")
    seed_tax(app, a, rate="0.0825")
    seed_coupon(app, a, "TEN")
    order = place(client, auth("a", "owner"), (v1, 2), (v2, 1), coupon_codes=["ten"])

    # 2 x 19.99 + 5.00 = 44.98; 10% off = 4.50 -> 40.48; shipping 4.50 taxed too.
    assert Decimal(order["subtotal"]) == Decimal("44.98")
    assert Decimal(order["discount_amount"]) == Decimal("4.50")
    assert Decimal(order["shipping_cost"]) == Decimal("4.50")
    # per line: 39.98 - 4.00 = 35.98 -> 2.97; 5.00 - 0.50 = 4.50 -> 0.37; shipping 0.37
    assert [Decimal(i["discount_amount"]) for i in order["items"]] == [Decimal("4.00"),
                                                                       Decimal("0.50")]
    assert Decimal(order["tax_amount"]) == Decimal("3.71")
    assert Decimal(order["total"]) == Decimal("48.69")
    assert sum(Decimal(i["total"]) for i in order["items"]) + Decimal("4.87") == Decimal(
        order["total"])
    assert order["coupon_code"] == "TEN"
    assert order["status"] == "PENDING" and order["payment_status"] == "PENDING"
    assert re.fullmatch(r"ORD-\d{4}-00001", order["order_number"])
    assert order["shipping_address"]["shipping_method"] == "Standard"
    assert stock_of(app, v1) == 10  # stock moves on confirmation, not on checkout


def test_order_numbers_run_per_store(app: FastAPI, client: TestClient, world: World,
                                     auth: Auth) -> None:
    va, vb = seed_variant(app, world.a.store_id), seed_variant(app, world.b.store_id)
    seed_shipping(app, world.a.store_id)
    seed_shipping(app, world.b.store_id)
    numbers_a = [place(client, auth("a", "owner"), (va, 1))["order_number"] for _ in range(3)]
    number_b = place(client, auth("b", "owner"), (vb, 1))["order_number"]
    assert [n[-5:] for n in numbers_a] == ["00001", "00002", "00003"]
    assert number_b.endswith("-00001")


def test_a_refused_coupon_refuses_the_order_with_its_reason(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, price="10.00")
    seed_shipping(app, a)
    seed_coupon(app, a, "BIG", min_order_value=Decimal("100.00"))
    r = client.post("/api/v1/orders", headers=auth("a", "owner"),
                    json=order_body((v, 1), coupon_codes=["BIG"]))
    assert r.status_code == 422
    assert r.json()["code"] == "coupon_minimum_not_met"
    assert "at least $100.00" in r.json()["detail"]
    r = client.post("/api/v1/orders", headers=auth("a", "owner"),
                    json=order_body((v, 1), coupon_codes=["NOPE"]))
    assert r.status_code == 422 and r.json()["code"] == "coupon_not_found"


def test_unknown_variant_and_uncovered_address_are_refused(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    v = seed_variant(app, world.a.store_id)
    h = auth("a", "owner")
    r = client.post("/api/v1/orders", headers=h, json=order_body((v, 1)))
    assert r.status_code == 422 and r.json()["code"] == "no_shipping_zone"
    seed_shipping(app, world.a.store_id)
    vb = seed_variant(app, world.b.store_id)
    r = client.post("/api/v1/orders", headers=h, json=order_body((vb, 1)))
    assert r.status_code == 422 and r.json()["code"] == "variant_not_found"


def test_list_search_filter_sort_and_page(app: FastAPI, client: TestClient, world: World,
                                          auth: Auth) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, price="3.00", stock=100)
    seed_shipping(app, a, cost="1.00")
    h = auth("a", "owner")
    orders = [place(client, h, (v, n), customer_email=f"c{n}@example.com") for n in (1, 2, 3)]
    pay_cash(client, h, orders[1])
    r = client.get("/api/v1/orders", headers=h, params={"page_size": 2})
    body = r.json()
    assert body["total"] == 3 and len(body["items"]) == 2 and body["page_size"] == 2
    assert [o["id"] for o in client.get("/api/v1/orders", headers=h,
                                        params={"sort": "total"}).json()["items"]] == [
        o["id"] for o in orders]
    paid = client.get("/api/v1/orders", headers=h, params={"payment_status": "PAID"}).json()
    assert [o["id"] for o in paid["items"]] == [orders[1]["id"]]
    found = client.get("/api/v1/orders", headers=h, params={"q": "c3@EXAMPLE"}).json()
    assert [o["id"] for o in found["items"]] == [orders[2]["id"]]
    assert client.get("/api/v1/orders", headers=h,
                      params={"channel": "POS"}).json()["total"] == 0
    r = client.get("/api/v1/orders", headers=h, params={"page_size": 101})
    assert r.status_code == 422
    # Another store sees none of them, and gets 404 on the detail.
    assert client.get("/api/v1/orders", headers=auth("b", "owner")).json()["total"] == 0
    r = client.get(f"/api/v1/orders/{orders[0]['id']}", headers=auth("b", "owner"))
    assert r.status_code == 404


def test_confirm_takes_stock_and_cancel_puts_it_back_once(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, stock=5)
    seed_shipping(app, a)
    h = auth("a", "owner")
    order = place(client, h, (v, 3))
    r = client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "CONFIRMED"
    assert stock_of(app, v) == 2
    assert client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h).status_code == 200
    assert stock_of(app, v) == 2  # confirming again moves nothing
    for _ in range(2):
        r = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h,
                        json={"reason": "customer changed their mind"})
        assert r.status_code == 200 and r.json()["status"] == "CANCELED"
    assert stock_of(app, v) == 5
    r = client.post(f"/api/v1/orders/{order['id']}/status", headers=h,
                    json={"status": "CONFIRMED"})
    assert r.status_code == 409 and r.json()["code"] == "illegal_transition"
    assert "CANCELED" in r.json()["detail"] and "CONFIRMED" in r.json()["detail"]
    with db_session(app) as db:
        actions = set(db.scalars(select(AuditLog.action).where(
            AuditLog.entity_id == order["id"])))
    assert {"order.create", "order.confirm", "order.cancel"} <= actions


def test_confirm_refuses_to_oversell(app: FastAPI, client: TestClient, world: World,
                                     auth: Auth) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, stock=2)
    other = seed_variant(app, a, stock=9)
    seed_shipping(app, a)
    h = auth("a", "owner")
    order = place(client, h, (other, 1), (v, 3))
    r = client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h)
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert (stock_of(app, v), stock_of(app, other)) == (2, 9)  # nothing half-done
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()["status"] == "PENDING"


def test_status_moves_follow_the_state_machine(app: FastAPI, client: TestClient, world: World,
                                               auth: Auth) -> None:
    a = world.a.store_id
    v = seed_variant(app, a)
    seed_shipping(app, a)
    h = auth("a", "owner")
    order = place(client, h, (v, 1))
    url = f"/api/v1/orders/{order['id']}/status"
    r = client.post(url, headers=h, json={"status": "SHIPPED"})
    assert r.status_code == 409
    assert "from PENDING to SHIPPED" in r.json()["detail"]
    assert r.json()["current"] == "PENDING" and r.json()["requested"] == "SHIPPED"
    for target in ("CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED"):
        r = client.post(url, headers=h, json={"status": target})
        assert r.status_code == 200 and r.json()["status"] == target
    r = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h, json={})
    assert r.status_code == 409  # delivered goods are refunded, not canceled
    cashier = auth("a", "cashier")
    assert client.post(url, headers=cashier, json={"status": "CANCELED"}).status_code == 403


def test_shipments_track_and_drive_fulfilment(app: FastAPI, client: TestClient, world: World,
                                              auth: Auth) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, stock=10)
    seed_shipping(app, a)
    h = auth("a", "owner")
    order = place(client, h, (v, 3))
    base = f"/api/v1/orders/{order['id']}"
    assert client.post(f"{base}/shipments", headers=h,
                       json={"carrier": "UPS"}).status_code == 409  # not confirmed yet
    client.post(f"{base}/confirm", headers=h)
    item = order["items"][0]["id"]
    r = client.post(f"{base}/shipments", headers=h, json={
        "carrier": "UPS", "tracking_number": "1Z999", "tracking_url": "https://ups.test/1Z999",
        "items": [{"order_item_id": item, "quantity": 2}]})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["shipping_method"] == "Standard" and first["status"] == "PENDING"
    r = client.post(f"{base}/shipments", headers=h, json={
        "carrier": "UPS", "items": [{"order_item_id": item, "quantity": 2}]})
    assert r.status_code == 422 and r.json()["code"] == "shipment_quantity_exceeded"
    second = client.post(f"{base}/shipments", headers=h, json={"carrier": "DHL"}).json()
    assert second["items"] == [{"order_item_id": item, "quantity": 1}]
    detail = client.get(base, headers=h).json()
    assert detail["fulfillment_status"] == "FULFILLED"
    for shipment in (first, second):
        r = client.patch(f"{base}/shipments/{shipment['id']}", headers=h,
                         json={"status": "IN_TRANSIT"})
        assert r.status_code == 200 and r.json()["shipped_at"]
    detail = client.get(base, headers=h).json()
    assert (detail["status"], detail["fulfillment_status"]) == ("SHIPPED", "SHIPPED")
    for shipment in (first, second):
        client.patch(f"{base}/shipments/{shipment['id']}", headers=h,
                     json={"status": "DELIVERED"})
    detail = client.get(base, headers=h).json()
    assert (detail["status"], detail["fulfillment_status"]) == ("DELIVERED", "DELIVERED")
    r = client.patch(f"{base}/shipments/{first['id']}", headers=h, json={"status": "PENDING"})
    assert r.status_code == 409
    listed = client.get(f"{base}/shipments", headers=h).json()
    assert [s["tracking_number"] for s in listed] == ["1Z999", None]


def test_auto_cancel_cancels_only_unpaid_orders_after_the_timeout(
    app: FastAPI, client: TestClient, world: World, auth: Auth, clock: FakeClock
) -> None:
    a = world.a.store_id
    v = seed_variant(app, a, stock=10)
    seed_shipping(app, a)
    h = auth("a", "owner")
    client.patch("/api/v1/store", headers=h, json={"settings": {"auto_cancel_minutes": 30}})
    unpaid = place(client, h, (v, 1))
    paid = place(client, h, (v, 1))
    pay_cash(client, h, paid)
    with app.state.session_factory() as db:
        assert jobs.auto_cancel_due(db, now=clock.now + timedelta(minutes=29)) == []
        done = jobs.auto_cancel_due(db, now=clock.now + timedelta(minutes=31))
    assert done == [unpaid["id"]]
    assert client.get(f"/api/v1/orders/{unpaid['id']}", headers=h).json()["status"] == "CANCELED"
    assert client.get(f"/api/v1/orders/{paid['id']}", headers=h).json()["status"] == "PENDING"
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "order.auto_cancel", AuditLog.actor_email == "system")) == 1


def test_billing_address_defaults_to_shipping(app: FastAPI, client: TestClient, world: World,
                                              auth: Auth) -> None:
    v = seed_variant(app, world.a.store_id)
    seed_shipping(app, world.a.store_id)
    order = place(client, auth("a", "owner"), (v, 1))
    assert order["billing_address"]["address1"] == ADDRESS["address1"]


def test_the_jobs_run_from_the_command_line_module(
    app: FastAPI, client: TestClient, world: World, auth: Auth, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from server.orders import jobs

    v = seed_variant(app, world.a.store_id)
    seed_shipping(app, world.a.store_id)
    order = place(client, auth("a", "owner"), (v, 1))
    monkeypatch.setenv("STORMCOM_DATABASE_URL", str(app.state.engine.url.render_as_string(
        hide_password=False)))
    monkeypatch.setattr(jobs, "system_clock", lambda: clock.now + timedelta(hours=2))
    assert jobs.main(["auto-cancel"]) == 0
    assert jobs.main(["purge-idempotency"]) == 0
    assert "canceled 1 unpaid order(s)" in capsys.readouterr().out
    h = auth("a", "owner")
    assert client.get(f"/api/v1/orders/{order['id']}", headers=h).json()["status"] == "CANCELED"

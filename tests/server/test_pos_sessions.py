"""Drawer sessions from the back office: open, cash movements, X data, and the blind close."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.clock import FakeClock
from tests.server.commerce_helpers import place, seed_device, seed_shipping, seed_variant
from tests.server.conftest import World

Auth = Callable[[str, str], dict[str, str]]
BASE = "/api/v1/pos/sessions"


def _open(client: TestClient, h: dict[str, str], device: str, float_: str = "100.00") -> dict:
    r = client.post(BASE, headers=h, json={"device_id": device, "opening_cash": float_})
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_open_move_cash_read_x_and_close_blind(app: FastAPI, client: TestClient, world: World,
                                               auth: Auth, clock: FakeClock) -> None:
    a = world.a.store_id
    device = seed_device(app, a)
    h = auth("a", "manager")
    drawer = _open(client, h, device)
    assert drawer["status"] == "OPEN" and drawer["expected_cash"] is None
    r = client.post(BASE, headers=h, json={"device_id": device, "opening_cash": "5.00"})
    assert r.status_code == 409 and r.json()["code"] == "pos_session_already_open"

    # A cash sale through this drawer: 30.00 kept from 50.00 tendered (change not counted).
    v = seed_variant(app, a, price="30.00")
    seed_shipping(app, a, cost="0.00")
    order = place(client, h, (v, 1))
    r = client.post(f"/api/v1/orders/{order['id']}/payments", headers=h, json={
        "method": "CASH", "amount": "30.00", "tendered_amount": "50.00",
        "pos_session_id": drawer["id"]})
    assert r.status_code == 201, r.text
    client.post(f"/api/v1/orders/{order['id']}/refunds", headers=h,
                json={"amount": "4.00", "tender": "CASH", "pos_session_id": drawer["id"]})
    moves = [("PAY_IN", "20.00", "change float top-up"), ("PAY_OUT", "7.50", "window cleaner"),
             ("DROP", "50.00", "safe drop")]
    for kind, amount, reason in moves:
        clock.advance(minutes=1)
        r = client.post(f"{BASE}/{drawer['id']}/cash-movements", headers=h,
                        json={"type": kind, "amount": amount, "reason": reason})
        assert r.status_code == 201, r.text
    listed = client.get(f"{BASE}/{drawer['id']}/cash-movements", headers=h).json()
    assert [m["type"] for m in listed] == ["PAY_IN", "PAY_OUT", "DROP"]

    # 100 + 30 - 4 + 20 - 7.50 - 50 = 88.50
    x = client.get(f"{BASE}/{drawer['id']}/x-report", headers=h).json()
    assert Decimal(x["cash"]["expected"]) == Decimal("88.50")
    assert x["by_tender"][0]["tender"] == "CASH"
    assert Decimal(x["by_tender"][0]["change_given"]) == Decimal("20.00")
    # Still hidden on the session itself until the count.
    assert client.get(f"{BASE}/{drawer['id']}", headers=h).json()["expected_cash"] is None

    r = client.post(f"{BASE}/{drawer['id']}/close", headers=h, json={
        "counted_by_denomination": {"50": 1, "20": 1, "10": 1, "5": 1, "1": 3, "0.25": 2}})
    assert r.status_code == 200, r.text
    closed = r.json()
    # counted 50 + 20 + 10 + 5 + 3 + 0.50 = 88.50 -> no difference
    assert Decimal(closed["counted"]) == Decimal("88.50")
    assert Decimal(closed["expected"]) == Decimal("88.50")
    assert Decimal(closed["difference"]) == 0 and closed["needs_sign_off"] is False
    session = closed["session"]
    assert session["status"] == "CLOSED"
    assert session["counted_by_denomination"]["50"] == 1
    r = client.post(f"{BASE}/{drawer['id']}/cash-movements", headers=h,
                    json={"type": "PAY_IN", "amount": "1.00", "reason": "late"})
    assert r.status_code == 409 and r.json()["code"] == "pos_session_closed"
    r = client.post(f"{BASE}/{drawer['id']}/close", headers=h,
                    json={"counted_by_denomination": {}})
    assert r.status_code == 409
    assert _open(client, h, device)["status"] == "OPEN"  # a new shift can start


def test_short_drawer_beyond_tolerance_needs_sign_off(app: FastAPI, client: TestClient,
                                                      world: World, auth: Auth) -> None:
    device = seed_device(app, world.a.store_id)
    h = auth("a", "owner")
    client.patch("/api/v1/store", headers=h,
                 json={"settings": {"cash_difference_tolerance": "1.00"}})
    drawer = _open(client, h, device, "50.00")
    r = client.post(f"{BASE}/{drawer['id']}/close", headers=h,
                    json={"counted_by_denomination": {"20": 2, "5": 1}})
    body = r.json()
    assert Decimal(body["difference"]) == Decimal("-5.00") and body["needs_sign_off"] is True
    assert Decimal(body["session"]["cash_difference"]) == Decimal("-5.00")


def test_bad_counts_and_permissions(app: FastAPI, client: TestClient, world: World,
                                    auth: Auth) -> None:
    device = seed_device(app, world.a.store_id)
    h = auth("a", "manager")
    drawer = _open(client, h, device)
    r = client.post(f"{BASE}/{drawer['id']}/close", headers=h,
                    json={"counted_by_denomination": {"3": 1}})
    assert r.status_code == 422 and r.json()["code"] == "unknown_denomination"
    cashier = auth("a", "cashier")
    assert client.get(f"{BASE}/{drawer['id']}/x-report", headers=cashier).status_code == 403
    r = client.post(f"{BASE}/{drawer['id']}/cash-movements", headers=cashier,
                    json={"type": "PAY_OUT", "amount": "1.00", "reason": "x"})
    assert r.status_code == 403  # needs a manager's approval at the till
    r = client.post(BASE, headers=h, json={"device_id": seed_device(app, world.b.store_id, 2),
                                           "opening_cash": "1.00"})
    assert r.status_code == 422 and r.json()["code"] == "device_not_found"
    assert client.get(f"{BASE}/{drawer['id']}", headers=auth("b", "owner")).status_code == 404
    page = client.get(BASE, headers=h, params={"status": "OPEN"}).json()
    assert [s["id"] for s in page["items"]] == [drawer["id"]]

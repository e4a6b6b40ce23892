"""Refunds by item or by amount, with restock, under the shared refund rules."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.server.commerce_helpers import (
    pay_cash,
    place,
    seed_shipping,
    seed_tax,
    seed_variant,
    stock_of,
)
from tests.server.conftest import World

Auth = Callable[[str, str], dict[str, str]]


def _paid_order(app: FastAPI, client: TestClient, world: World, auth: Auth, *,
                qty: int = 3, price: str = "10.00", stock: int = 10) -> tuple[dict[str, Any], str]:
    a = world.a.store_id
    v = seed_variant(app, a, price=price, stock=stock)
    seed_shipping(app, a, cost="0.00")
    seed_tax(app, a, rate="0.0725")
    h = auth("a", "owner")
    order = place(client, h, (v, qty))
    client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h)
    pay_cash(client, h, order)
    return order, v


def _refund(client: TestClient, h: dict[str, str], order: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/v1/orders/{order['id']}/refunds", headers=h, json=body)


def test_item_refunds_add_up_to_the_line_and_restock(app: FastAPI, client: TestClient,
                                                     world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order, v = _paid_order(app, client, world, auth)
    item = order["items"][0]
    assert (item["subtotal"], item["tax_amount"]) == ("30.00", "2.18")  # 2.175 -> 2.18
    assert stock_of(app, v) == 7
    line = {"order_item_id": item["id"], "quantity": 1}
    first = _refund(client, h, order, items=[line])
    assert first.status_code == 201, first.text
    # 1 of 3: round(30.00 / 3) = 10.00 and round(2.18 / 3) = 0.73
    assert (first.json()["amount"], first.json()["tax_amount"]) == ("10.73", "0.73")
    second = _refund(client, h, order, items=[line]).json()
    last = _refund(client, h, order, items=[line]).json()
    # the last unit refunds exactly what remains: 2.18 - 0.73 - 0.73 = 0.72
    assert last["tax_amount"] == "0.72"
    total = sum(Decimal(x["amount"]) for x in (first.json(), second, last))
    assert total == Decimal(order["total"])
    assert stock_of(app, v) == 10
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=h).json()
    assert (detail["payment_status"], detail["status"]) == ("REFUNDED", "REFUNDED")
    assert Decimal(detail["items"][0]["quantity_refunded"]) == 3
    r = _refund(client, h, order, items=[line])
    assert r.status_code == 422 and r.json()["code"] == "refund_quantity_exceeded"


def test_partial_refund_without_restock_and_payment_status(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    h = auth("a", "owner")
    order, v = _paid_order(app, client, world, auth)
    item = order["items"][0]
    r = _refund(client, h, order, items=[{"order_item_id": item["id"], "quantity": 2}],
                restock=False, reason="DEFECTIVE_PRODUCT")
    assert r.status_code == 201
    assert r.json()["items"][0]["restock"] is False
    assert stock_of(app, v) == 7  # damaged goods stay out of stock
    detail = client.get(f"/api/v1/orders/{order['id']}", headers=h).json()
    assert (detail["payment_status"], detail["status"]) == ("PARTIALLY_REFUNDED", "CONFIRMED")
    r = _refund(client, h, order, items=[{"order_item_id": item["id"], "quantity": 2}])
    assert r.status_code == 422 and r.json()["code"] == "refund_quantity_exceeded"
    assert "2 already refunded" in r.json()["detail"]


def test_amount_refunds_never_exceed_captured_minus_refunded(
    app: FastAPI, client: TestClient, world: World, auth: Auth
) -> None:
    h = auth("a", "owner")
    order, v = _paid_order(app, client, world, auth)
    total = Decimal(order["total"])  # 32.18
    r = _refund(client, h, order, amount="30.00")
    assert r.status_code == 201 and r.json()["items"] == []
    r = _refund(client, h, order, amount="2.19")
    assert r.status_code == 422 and r.json()["code"] == "refund_exceeds_captured"
    r = _refund(client, h, order, amount=str(total - Decimal("30.00")))
    assert r.status_code == 201
    assert stock_of(app, v) == 7  # money only: no units come back
    r = _refund(client, h, order, amount="0.01")
    assert r.status_code == 422
    r = _refund(client, h, order, amount="1.00", items=[
        {"order_item_id": order["items"][0]["id"], "quantity": 1}])
    assert r.status_code == 422 and r.json()["code"] == "invalid_refund"


def test_nothing_captured_nothing_refunded(app: FastAPI, client: TestClient, world: World,
                                           auth: Auth) -> None:
    a = world.a.store_id
    v = seed_variant(app, a)
    seed_shipping(app, a)
    h = auth("a", "owner")
    order = place(client, h, (v, 1))
    r = _refund(client, h, order, amount="1.00")
    assert r.status_code == 422 and r.json()["code"] == "refund_exceeds_captured"
    r = _refund(client, auth("a", "cashier"), order, amount="1.00")
    assert r.status_code == 403


def test_refund_after_cancel_restocks_nothing_twice(app: FastAPI, client: TestClient,
                                                    world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order, v = _paid_order(app, client, world, auth)
    r = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h, json={})
    assert r.status_code == 200
    assert stock_of(app, v) == 10
    r = _refund(client, h, order, items=[{"order_item_id": order["items"][0]["id"],
                                          "quantity": 3}])
    assert r.status_code == 201  # the money goes back...
    assert stock_of(app, v) == 10  # ...but the units were already back


def test_refund_then_cancel_puts_back_only_the_rest(app: FastAPI, client: TestClient,
                                                    world: World, auth: Auth) -> None:
    h = auth("a", "owner")
    order, v = _paid_order(app, client, world, auth)
    _refund(client, h, order, items=[{"order_item_id": order["items"][0]["id"], "quantity": 1}])
    assert stock_of(app, v) == 8
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h, json={})
    assert stock_of(app, v) == 10
    listed = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=h).json()
    assert [x["status"] for x in listed] == ["COMPLETED"]

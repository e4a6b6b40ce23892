"""Idempotency-Key with Stripe's semantics: replay, 422 on a different request, 409 while the
first is in flight, per store and principal, 24 hours."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.clock import FakeClock
from server.idempotency import service as idem_service
from server.idempotency.models import IdempotencyKey
from server.orders import flows
from server.orders.models import Order
from tests.server.commerce_helpers import order_body, seed_shipping, seed_variant, stock_of
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]


def _orders(app: FastAPI) -> int:
    with db_session(app) as db:
        return int(db.scalar(select(func.count()).select_from(Order)) or 0)


@pytest.fixture
def variant(app: FastAPI, world: World) -> str:
    seed_shipping(app, world.a.store_id)
    return seed_variant(app, world.a.store_id, stock=1)


def test_same_key_and_body_replays_the_first_outcome(client: TestClient, auth: Auth,
                                                     app: FastAPI, variant: str) -> None:
    h = {**auth("a", "owner"), "Idempotency-Key": "order-1"}
    first = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1)))
    again = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1)))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _orders(app) == 1
    plain = auth("a", "owner")
    client.post("/api/v1/orders", headers=plain, json=order_body((variant, 1)))
    client.post("/api/v1/orders", headers=plain, json=order_body((variant, 1)))
    assert _orders(app) == 3  # without a key every request acts


def test_same_key_with_another_body_is_422(client: TestClient, auth: Auth, app: FastAPI,
                                           variant: str) -> None:
    h = {**auth("a", "owner"), "Idempotency-Key": "order-2"}
    client.post("/api/v1/orders", headers=h, json=order_body((variant, 1)))
    r = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1), notes="x"))
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    order = client.get("/api/v1/orders", headers=h).json()["items"][0]
    r = client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h)  # another path
    assert r.status_code == 422
    assert _orders(app) == 1


def test_keys_are_scoped_per_principal_and_store(client: TestClient, auth: Auth, app: FastAPI,
                                                 variant: str) -> None:
    body = order_body((variant, 1))
    for role in ("owner", "manager"):
        r = client.post("/api/v1/orders", json=body,
                        headers={**auth("a", role), "Idempotency-Key": "shared"})
        assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    assert _orders(app) == 2


def test_in_flight_request_answers_409(client: TestClient, auth: Auth, app: FastAPI,
                                       variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    h = auth("a", "owner")
    order = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1))).json()
    url = f"/api/v1/orders/{order['id']}/confirm"
    keyed = {**h, "Idempotency-Key": "confirm-1"}
    entered, release = threading.Event(), threading.Event()
    real = flows.confirm_order

    def slow_confirm(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(flows, "confirm_order", slow_confirm)
    first: list[Any] = []
    worker = threading.Thread(target=lambda: first.append(client.post(url, headers=keyed)))
    worker.start()
    assert entered.wait(30)
    second = client.post(url, headers=keyed)  # the first one holds the key
    release.set()
    worker.join(30)
    assert second.status_code == 409 and second.json()["code"] == "idempotency_key_in_use"
    assert first[0].status_code == 200 and first[0].json()["status"] == "CONFIRMED"
    third = client.post(url, headers=keyed)
    assert third.status_code == 200 and third.headers["Idempotent-Replayed"] == "true"
    assert stock_of(app, variant) == 0


def test_a_pending_claim_is_409_until_its_lease_runs_out(
    client: TestClient, auth: Auth, app: FastAPI, world: World, variant: str, clock: FakeClock
) -> None:
    h = auth("a", "owner")
    order = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1))).json()
    path = f"/api/v1/orders/{order['id']}/confirm"
    with app.state.session_factory() as db:  # a request that claimed the key and died
        from server.db.tenancy import set_current_store

        set_current_store(db, world.a.store_id)
        claim = idem_service.claim(
            db, store_id=world.a.store_id, principal=f"user:{world.a.users['owner']}",
            key="confirm-2", request_hash=idem_service.fingerprint("POST", path, None),
            method="POST", path=path, now=clock.now)
        db.commit()
    assert isinstance(claim, str)
    keyed = {**h, "Idempotency-Key": "confirm-2"}
    r = client.post(path, headers=keyed)
    assert r.status_code == 409 and r.json()["code"] == "idempotency_key_in_use"
    clock.advance(minutes=6)  # past the lease: the next retry takes the key over
    keyed = {**auth("a", "owner"), "Idempotency-Key": "confirm-2"}
    r = client.post(path, headers=keyed)
    assert r.status_code == 200 and r.json()["status"] == "CONFIRMED"


def test_a_refusal_is_stored_and_a_server_error_is_not(
    client: TestClient, auth: Auth, app: FastAPI, variant: str, world: World,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    h = auth("a", "owner")
    order = client.post("/api/v1/orders",
                        headers=h, json=order_body((variant, 1))).json()
    big = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1))).json()
    client.post(f"/api/v1/orders/{order['id']}/confirm", headers=h)  # the last unit
    url = f"/api/v1/orders/{big['id']}/confirm"
    keyed = {**h, "Idempotency-Key": "confirm-3"}
    assert client.post(url, headers=keyed).status_code == 409  # insufficient stock
    client.post(f"/api/v1/orders/{order['id']}/cancel", headers=h, json={})  # stock is back
    r = client.post(url, headers=keyed)
    assert r.status_code == 409 and r.headers["Idempotent-Replayed"] == "true"
    assert r.json()["code"] == "insufficient_stock"

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr(flows, "confirm_order", boom)
    keyed = {**h, "Idempotency-Key": "confirm-4"}
    crashing = TestClient(app, raise_server_exceptions=False)
    assert crashing.post(url, headers=keyed).status_code == 500
    monkeypatch.undo()
    r = client.post(url, headers=keyed)  # nothing was committed, so the retry runs
    assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_keys_expire_after_24_hours(client: TestClient, auth: Auth, app: FastAPI,
                                    variant: str, clock: FakeClock) -> None:
    h = {**auth("a", "owner"), "Idempotency-Key": "order-9"}
    client.post("/api/v1/orders", headers=h, json=order_body((variant, 1)))
    clock.advance(hours=24, minutes=1)
    h = {**auth("a", "owner"), "Idempotency-Key": "order-9"}
    r = client.post("/api/v1/orders", headers=h, json=order_body((variant, 1), notes="new"))
    assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
    clock.advance(hours=25)
    with app.state.session_factory() as db:
        assert idem_service.purge_expired(db, now=clock.now) == 1
        db.commit()
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_cash_movements_and_payments_take_keys(client: TestClient, auth: Auth, app: FastAPI,
                                               world: World, variant: str) -> None:
    from tests.server.commerce_helpers import seed_device

    h = auth("a", "owner")
    drawer = client.post("/api/v1/pos/sessions", headers=h, json={
        "device_id": seed_device(app, world.a.store_id), "opening_cash": "10.00"}).json()
    keyed = {**h, "Idempotency-Key": "drop-1"}
    body = {"type": "DROP", "amount": "5.00", "reason": "safe"}
    url = f"/api/v1/pos/sessions/{drawer['id']}/cash-movements"
    ids = {client.post(url, headers=keyed, json=body).json()["id"] for _ in range(3)}
    assert len(ids) == 1
    assert len(client.get(url, headers=h).json()) == 1

"""Stock over the API and the move_stock service: the ledger, adjustments, counts, low stock,
permissions, tenancy, and concurrent movements that lose nothing (PostgreSQL, threads)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.catalog.models import Variant
from server.clock import FakeClock
from server.db.tenancy import set_current_store
from server.errors import NotFound
from server.inventory import service as inventory_service
from server.inventory.models import InventoryAdjustment
from tests.conftest import postgresql_only
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]
I = "/api/v1/inventory"  # noqa: E741


def _variant(client: TestClient, h: dict[str, str], sku: str = "INV-1", stock: int = 0,
             threshold: int = 5) -> str:
    body = {"name": f"Item {sku}", "variants": [{"sku": sku, "price": 1,
                                                  "initial_stock": stock,
                                                  "low_stock_threshold": threshold}]}
    r = client.post("/api/v1/products", json=body, headers=h)
    assert r.status_code == 201, r.text
    return str(r.json()["variants"][0]["id"])


def _stock(client: TestClient, h: dict[str, str], code: str) -> int:
    r = client.get("/api/v1/variants/lookup", params={"code": code}, headers=h)
    return int(r.json()["variant"]["stock_quantity"])


def test_adjustments_append_to_the_ledger_and_move_the_projection(
    client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    h = auth("a", "manager")
    vid = _variant(client, h, stock=10)
    clock.advance(seconds=1)
    r = client.post(f"{I}/adjustments", headers=h,
                    json={"variant_id": vid, "delta": -3, "reason": "DAMAGE", "note": "Dropped"})
    assert r.status_code == 201, r.text
    move = r.json()
    assert (move["quantity_change"], move["new_quantity"], move["reason"]) == (-3, 7, "DAMAGE")
    assert move["notes"] == "Dropped" and move["user_id"]
    clock.advance(seconds=1)
    client.post(f"{I}/adjustments", json={"variant_id": vid, "delta": 20, "reason": "RESTOCK"},
                headers=h)
    clock.advance(seconds=1)
    r = client.post(f"{I}/adjustments", json={"variant_id": vid, "delta": -30,
                                              "reason": "THEFT"}, headers=h)
    assert r.json()["new_quantity"] == -3  # stock may go below zero; it is a ledger
    assert _stock(client, h, "INV-1") == -3
    ledger = client.get(f"{I}/movements", params={"variant_id": vid}, headers=h).json()
    assert [m["quantity_change"] for m in ledger["items"]] == [-30, 20, -3, 10]
    assert ledger["total"] == 4
    assert client.get(f"{I}/movements", params={"reason": "THEFT"}, headers=h).json()[
        "total"] == 1


def test_adjustment_validation_names_the_field(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    vid = _variant(client, h)
    cases = [({"variant_id": vid, "delta": 0, "reason": "MANUAL"}, "delta"),
             ({"variant_id": vid, "delta": 1, "reason": "ORDER_PLACED"}, "reason"),
             ({"variant_id": vid, "delta": 10**7, "reason": "MANUAL"}, "delta"),
             ({"variant_id": "nosuchvariant", "delta": 1, "reason": "MANUAL"}, "variant_id")]
    for body, field in cases:
        r = client.post(f"{I}/adjustments", json=body, headers=h)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["field"] == field


def test_stock_counts_turn_the_difference_into_movements(
    client: TestClient, auth: Auth, clock: FakeClock
) -> None:
    h = auth("a", "owner")
    a = _variant(client, h, "CNT-A", stock=10)
    b = _variant(client, h, "CNT-B", stock=5)
    c = _variant(client, h, "CNT-C", stock=2)
    clock.advance(seconds=1)
    r = client.post(f"{I}/counts", headers=h, json={"note": "Monthly", "items": [
        {"variant_id": a, "counted": 8},
        {"variant_id": b, "counted": 5},
        {"variant_id": c, "counted": 6, "seen": 3},  # the counter saw 3; a sale happened since
    ]})
    assert r.status_code == 201, r.text
    lines = r.json()["items"]
    assert [(x["sku"], x["on_hand_before"], x["delta"], x["new_quantity"]) for x in lines] == [
        ("CNT-A", 10, -2, 8), ("CNT-B", 5, 0, 5), ("CNT-C", 2, 3, 5)]
    moves = client.get(f"{I}/movements", params={"variant_id": b}, headers=h).json()["items"]
    assert moves[0]["reason"] == "CORRECTION" and moves[0]["quantity_change"] == 0
    assert "counted 5" in moves[0]["notes"] and "Monthly" in moves[0]["notes"]
    r = client.post(f"{I}/counts", headers=h, json={"items": [
        {"variant_id": a, "counted": 1}, {"variant_id": a, "counted": 2}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.1.variant_id"
    r = client.post(f"{I}/counts", json={"items": [{"variant_id": a, "counted": -1}]},
                    headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "items.0.counted"


def test_low_stock_lists_tracked_active_variants_at_or_below_threshold(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    _variant(client, h, "LOW-0", stock=0, threshold=3)
    _variant(client, h, "LOW-3", stock=3, threshold=3)
    _variant(client, h, "OK-4", stock=4, threshold=3)
    untracked = client.post("/api/v1/products", headers=h, json={
        "name": "Service", "variants": [{"sku": "SRV", "price": 1,
                                         "track_inventory": False}]}).json()
    gone = _variant(client, h, "GONE", stock=0)
    pid = client.get("/api/v1/variants/lookup", params={"code": "GONE"},
                     headers=h).json()["product"]["id"]
    client.delete(f"/api/v1/products/{pid}", headers=h)
    r = client.get(f"{I}/low-stock", headers=h).json()
    assert [(x["sku"], x["stock_quantity"]) for x in r["items"]] == [("LOW-0", 0), ("LOW-3", 3)]
    assert r["total"] == 2 and r["items"][0]["product_name"] == "Item LOW-0"
    assert untracked and gone


def test_stock_permissions_and_tenancy(client: TestClient, auth: Auth) -> None:
    a, b = auth("a", "owner"), auth("b", "owner")
    cashier = auth("a", "cashier")
    assert client.get(f"{I}/movements", headers=cashier).status_code == 403
    r = client.post(f"{I}/adjustments", json={"variant_id": "x", "delta": 1,
                                              "reason": "MANUAL"}, headers=cashier)
    assert r.status_code == 403 and r.json()["permission"] == "inventory.write"
    vb = _variant(client, b, "B-STOCK", stock=9)
    r = client.post(f"{I}/adjustments", json={"variant_id": vb, "delta": -1,
                                              "reason": "MANUAL"}, headers=a)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "variant_id"
    r = client.post(f"{I}/counts", json={"items": [{"variant_id": vb, "counted": 0}]},
                    headers=a)
    assert r.status_code == 422
    assert client.get(f"{I}/movements", params={"variant_id": vb}, headers=a).json()[
        "total"] == 0
    assert client.get(f"{I}/low-stock", headers=a).json()["total"] == 0
    assert _stock(client, b, "B-STOCK") == 9


def test_move_stock_service(client: TestClient, auth: Auth, app: FastAPI,
                            world: World) -> None:
    h = auth("a", "owner")
    vid = _variant(client, h, "SVC-1", stock=2)
    untracked = client.post("/api/v1/products", headers=h, json={
        "name": "Untracked", "variants": [{"sku": "UNT", "price": 1,
                                           "track_inventory": False}]}).json()
    uid = untracked["variants"][0]["id"]
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        row = inventory_service.move_stock(db, store_id=world.a.store_id, variant_id=vid,
                                           delta=-2, reason="ORDER_PLACED", order_id="ord1")
        assert (row.new_quantity, row.order_id, row.reason.value) == (0, "ord1",
                                                                      "ORDER_PLACED")
        with pytest.raises(inventory_service.InsufficientStock) as exc:
            inventory_service.move_stock(db, store_id=world.a.store_id, variant_id=vid,
                                         delta=-1, reason="ORDER_PLACED",
                                         allow_negative=False)
        assert exc.value.status == 409 and "SVC-1" in exc.value.detail
        row = inventory_service.move_stock(db, store_id=world.a.store_id, variant_id=uid,
                                           delta=-1, reason="ORDER_PLACED",
                                           allow_negative=False)
        assert row.new_quantity == -1  # untracked variants are never short
        with pytest.raises(NotFound):
            inventory_service.move_stock(db, store_id=world.b.store_id, variant_id=vid,
                                         delta=1, reason="MANUAL")
        variant = db.get(Variant, vid)
        inventory_service.move_stock(db, store_id=world.a.store_id, variant_id=vid, delta=5,
                                     reason="RESTOCK")
        assert variant is not None and variant.stock_quantity == 5  # loaded object kept in step
        db.commit()


@postgresql_only  # real concurrent writers: SQLite serialises them
def test_concurrent_moves_lose_no_update(
    client: TestClient, auth: Auth, app: FastAPI, world: World, backend: str
) -> None:
    h = auth("a", "owner")
    vid = _variant(client, h, "HOT-1", stock=1000)
    threads, per_thread = 16, 10
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(per_thread):
                with app.state.session_factory() as db:
                    set_current_store(db, world.a.store_id)
                    inventory_service.move_stock(db, store_id=world.a.store_id,
                                                 variant_id=vid, delta=-1,
                                                 reason="ORDER_PLACED")
                    db.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors, errors
    moved = threads * per_thread
    with db_session(app) as db:
        assert db.get(Variant, vid).stock_quantity == 1000 - moved
        rows = db.scalars(select(InventoryAdjustment.new_quantity).where(
            InventoryAdjustment.variant_id == vid, InventoryAdjustment.quantity_change == -1))
        after = sorted(rows)
        # every movement saw its own distinct running total: no two read the same stock
        assert after == list(range(1000 - moved, 1000))
        assert db.scalar(select(func.count()).select_from(InventoryAdjustment).where(
            InventoryAdjustment.variant_id == vid)) == moved + 1

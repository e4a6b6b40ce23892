"""Push: exactly once, duplicates, gaps, 422 on a reused op id, quarantine, revocation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.audit.models import AuditLog
from server.catalog.models import Variant
from server.clock import FakeClock
from server.identity.principal import Principal
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos import devices_service
from server.pos.anomaly_models import PosAnomaly
from server.pos.models import Device
from server.sync import push_service
from server.sync.models import PushInbox
from stormcom_pos.domain import sync_protocol as proto
from tests.server import sync_fixtures
from tests.server.conftest import World, db_session
from tests.server.security_helpers import service_session
from tests.server.sync_fixtures import (
    PUSH,
    Catalog,
    Terminal,
    drawer_open,
    op,
    push,
    sale,
)

# Fixtures shared by the sync tests (tests/server/sync_fixtures.py).
catalog_a = sync_fixtures.catalog_a
catalog_b = sync_fixtures.catalog_b
sync_db = sync_fixtures.sync_db
terminal_a = sync_fixtures.terminal_a
terminal_b = sync_fixtures.terminal_b

Auth = Callable[[str, str], dict[str, str]]


def _count(app: FastAPI, model: type, *where: object) -> int:
    with db_session(app) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_sale_is_applied_once_with_its_effects_in_one_transaction(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog,
) -> None:
    now = clock.now
    session_id, opened = drawer_open(terminal_a, now)
    order_id, sold = sale(terminal_a, catalog_a, session_id, now)
    body = push(client, terminal_a, [opened, sold])
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["last_applied_device_seq"] == 2 and body["expected_device_seq"] is None
    assert body["server_time"].startswith(now.isoformat()[:19])
    assert body["write_checkpoint"] >= 1
    assert all(r["server_seq"] == body["write_checkpoint"] for r in body["results"])
    with db_session(app) as db:
        order = db.get(Order, order_id)
        assert order is not None and order.channel.value == "POS"
        assert order.status.value == "DELIVERED" and order.payment_status.value == "PAID"
        assert order.fulfillment_status.value == "FULFILLED"
        assert order.pos_session_id == session_id and order.device_id == terminal_a.device_id
        assert order.receipt_number == order.order_number and not order.flagged
        assert len(order.items) == 3
        pay = db.scalar(select(Payment).where(Payment.order_id == order_id))
        assert pay is not None and pay.status.value == "CAPTURED" and pay.change_amount == 5
        levels = {v.id: v.stock_quantity for v in db.scalars(select(Variant))}
        assert all(levels[v] == 9 for v in catalog_a.variant_ids)
        moves = db.scalars(select(InventoryAdjustment).where(
            InventoryAdjustment.order_id == order_id)).all()
        assert sorted(m.quantity_change for m in moves) == [-1, -1, -1]
        assert {m.new_quantity for m in moves} == {9}
        inbox = db.scalars(select(PushInbox).order_by(PushInbox.device_seq)).all()
        assert [(i.device_seq, i.status.value) for i in inbox] == [(1, "APPLIED"), (2, "APPLIED")]
        device = db.get(Device, terminal_a.device_id)
        assert device is not None and device.last_pushed_seq == 2
        assert device.last_receipt_counter == 1
        actions = set(db.scalars(select(AuditLog.action).where(
            AuditLog.device_id == terminal_a.device_id)))
        assert {"pos.drawer.open", "pos.order.submit"} <= actions

    # The same batch again (the response was lost): stored results, nothing applied twice.
    again = push(client, terminal_a, [opened, sold])
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert [r["original_status"] for r in again["results"]] == ["applied", "applied"]
    assert again["results"][1]["result"]["order_id"] == order_id
    assert _count(app, Order) == 1 and _count(app, OrderItem) == 3
    assert _count(app, InventoryAdjustment, InventoryAdjustment.order_id == order_id) == 3


def test_every_response_carries_the_server_time(
    client: TestClient, clock: FakeClock, terminal_a: Terminal
) -> None:
    r = client.post(PUSH, headers=terminal_a.headers,
                    json={"app_version": "1", "cache_schema_version": 1, "ops": []})
    assert r.status_code == 200 and r.headers["X-Server-Time"] == clock.now.isoformat()
    r = client.get("/api/v1/sync/pull", headers=terminal_a.headers, params={"cursor": "nope!"})
    assert r.status_code == 400 and r.json()["code"] == "bad_cursor"
    assert r.headers["X-Server-Time"] == clock.now.isoformat()
    assert r.json()["server_time"] == clock.now.isoformat()


def test_a_reused_op_id_with_other_content_is_422_and_applies_nothing(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog,
) -> None:
    session_id, opened = drawer_open(terminal_a, clock.now)
    push(client, terminal_a, [opened])
    _, sold = sale(terminal_a, catalog_a, session_id, clock.now)
    changed = {**opened, "device_seq": 3, "payload": {**opened["payload"],
                                                      "opening_float": "5.00"}}
    r = client.post(PUSH, headers=terminal_a.headers, json={
        "app_version": "1", "cache_schema_version": 1, "ops": [sold, changed]})
    assert r.status_code == 422 and r.json()["code"] == "idempotency_key_reused"
    assert _count(app, Order) == 0  # the sale before it in the batch rolled back too
    with db_session(app) as db:
        assert db.get(Device, terminal_a.device_id).last_pushed_seq == 1  # type: ignore[union-attr]


def test_a_gap_stops_the_batch_and_reports_the_expected_sequence(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog,
) -> None:
    session_id, opened = drawer_open(terminal_a, clock.now)
    _, lost = sale(terminal_a, catalog_a, session_id, clock.now)  # seq 2, never arrives
    _, third = sale(terminal_a, catalog_a, session_id, clock.now)  # seq 3
    body = push(client, terminal_a, [opened, third])
    assert [r["status"] for r in body["results"]] == ["applied"]
    assert body["expected_device_seq"] == 2 and body["last_applied_device_seq"] == 1
    assert _count(app, Order) == 0
    body = push(client, terminal_a, [lost, third])
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["last_applied_device_seq"] == 3 and _count(app, Order) == 2


def test_a_failing_op_is_quarantined_and_the_queue_keeps_moving(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, auth: Auth,
) -> None:
    session_id, opened = drawer_open(terminal_a, clock.now)
    bad = op(terminal_a, "order.submit", {"order_id": "x", "lines": []}, at=clock.now)
    future = op(terminal_a, "cash.move", {}, at=clock.now)
    future["op_version"] = 9
    _, sold = sale(terminal_a, catalog_a, session_id, clock.now)
    body = push(client, terminal_a, [opened, bad, future, sold])
    statuses = [(r["status"], r["error_code"]) for r in body["results"]]
    assert statuses == [("applied", None), ("quarantined", "invalid_payload"),
                        ("quarantined", "unsupported_op_version"), ("applied", None)]
    assert body["last_applied_device_seq"] == 4
    with db_session(app) as db:
        inbox = {i.device_seq: i for i in db.scalars(select(PushInbox))}
        assert inbox[2].status.value == "QUARANTINED" and inbox[2].payload == bad["payload"]
        assert "lines" in (inbox[2].error or "")
    r = client.get("/api/v1/anomalies", headers=auth("a", "manager"),
                   params={"kind": "quarantined"})
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2 and page["by_kind"] == {"quarantined": 2}
    assert {a["op_id"] for a in page["items"]} == {bad["op_id"], future["op_id"]}
    # A re-sent quarantined op is a duplicate that says what happened first.
    again = push(client, terminal_a, [bad])
    assert again["results"][0]["status"] == "duplicate"
    assert again["results"][0]["original_status"] == "quarantined"


def test_a_line_with_another_stores_variant_is_quarantined_and_b_is_untouched(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, catalog_b: Catalog,
) -> None:
    session_id, opened = drawer_open(terminal_a, clock.now)
    catalog = Catalog(**{**catalog_a.__dict__, "prices": {**catalog_a.prices, **catalog_b.prices},
                         "skus": {**catalog_a.skus, **catalog_b.skus}})
    _, sold = sale(terminal_a, catalog, session_id, clock.now,
                   lines=[(catalog_b.variant_ids[0], 1)])
    body = push(client, terminal_a, [opened, sold])
    assert body["results"][1]["status"] == "quarantined"
    assert body["results"][1]["error_code"] == "unknown_variant"
    with db_session(app) as db:
        variant = db.get(Variant, catalog_b.variant_ids[0])
        assert variant is not None and variant.stock_quantity == 10


def test_only_an_active_terminal_pushes(
    client: TestClient, app: FastAPI, clock: FakeClock, world: World, terminal_a: Terminal,
    auth: Auth, sync_db: str,
) -> None:
    r = client.post(PUSH, headers=auth("a", "owner"),
                    json={"app_version": "1", "cache_schema_version": 1, "ops": []})
    assert r.status_code == 403
    # Revoked between authentication and the push (same transaction race): 403.
    actor = Principal(kind="device", device_id=terminal_a.device_id, store_id=world.a.store_id)
    owner = Principal(kind="user", user_id=world.a.users["owner"], store_id=world.a.store_id)
    with service_session(sync_db, world.a.store_id) as db:
        devices_service.revoke(db, actor=owner, store_id=world.a.store_id,
                               device_id=terminal_a.device_id, now=clock.now)
        request = proto.PushRequest(app_version="1", cache_schema_version=1, ops=[])
        try:
            push_service.push(db, actor=actor, request=request, now=clock.now)
        except push_service.DeviceRevoked as exc:
            assert exc.status == 403 and exc.code == "device_revoked"
        else:
            raise AssertionError("a revoked device pushed")
        db.commit()
    # Afterwards its token no longer authenticates at all.
    r = client.post(PUSH, headers=terminal_a.headers,
                    json={"app_version": "1", "cache_schema_version": 1, "ops": []})
    assert r.status_code == 401


def test_stock_and_price_anomalies_flag_but_never_reject(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, auth: Auth,
) -> None:
    variant = catalog_a.variant_ids[0]
    session_id, opened = drawer_open(terminal_a, clock.now)
    order_id, sold = sale(terminal_a, catalog_a, session_id, clock.now,
                          lines=[(variant, 12)], price_override={variant: Decimal("1.99")})
    body = push(client, terminal_a, [opened, sold])
    result = body["results"][1]
    assert result["status"] == "applied"
    assert set(result["anomalies"]) == {"price_mismatch", "negative_stock"}
    with db_session(app) as db:
        order = db.get(Order, order_id)
        assert order is not None and order.flagged
        assert set(order.anomalies) == {"price_mismatch", "negative_stock"}
        item = order.items[0]
        assert item.unit_price == Decimal("1.99") and item.original_unit_price == Decimal("1.99")
        assert set(item.anomalies) == {"price_mismatch", "negative_stock"}
        assert db.get(Variant, variant).stock_quantity == -2  # type: ignore[union-attr]
        flags = db.scalars(select(PosAnomaly).where(PosAnomaly.op_id == sold["op_id"])).all()
        price = next(f for f in flags if f.kind.value == "price_mismatch")
        assert price.detail["catalog_price"] == "2.50" and price.detail["till_price"] == "1.99"
        stock = next(f for f in flags if f.kind.value == "negative_stock")
        assert stock.detail["stock_after"] == -2
    page = client.get("/api/v1/anomalies", headers=auth("a", "manager"),
                      params={"kind": ["negative_stock", "price_mismatch"]}).json()
    assert page["total"] == 2
    assert client.get("/api/v1/anomalies", headers=auth("b", "manager")).json()["total"] == 0
    assert client.get("/api/v1/anomalies", headers=auth("a", "cashier")).status_code == 403


def test_a_clock_far_ahead_is_flagged_and_orders_nothing(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog,
) -> None:
    ahead = clock.now + timedelta(days=365)
    session_id, opened = drawer_open(terminal_a, clock.now)
    order_id, sold = sale(terminal_a, catalog_a, session_id, ahead)
    body = push(client, terminal_a, [opened, sold])
    assert body["results"][1]["anomalies"] == ["clock_skew"]
    with db_session(app) as db:
        order = db.get(Order, order_id)
        assert order is not None and order.occurred_at is not None
        assert order.created_at.replace(tzinfo=None) == clock.now.replace(tzinfo=None)

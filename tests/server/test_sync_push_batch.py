"""Push of a batch in one go (one SAVEPOINT, prefetched reads) and its op-by-op fallback: the
outcome must be what applying the ops one at a time gives."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.catalog.models import Variant
from server.clock import FakeClock
from server.db.base import new_id
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos.anomaly_models import AnomalyKind, PosAnomaly
from server.pos.models import PosSession
from server.sync.models import PushInbox
from tests.server import sync_fixtures
from tests.server.conftest import db_session
from tests.server.sync_fixtures import Catalog, Terminal, drawer_open, op, push, sale

catalog_a = sync_fixtures.catalog_a
sync_db = sync_fixtures.sync_db
terminal_a = sync_fixtures.terminal_a

FALLBACK = "applied op by op"


def _count(app: FastAPI, model: type, *where: object) -> int:
    with db_session(app) as db:
        return int(db.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _fell_back(caplog: pytest.LogCaptureFixture) -> bool:
    return any(FALLBACK in r.getMessage() for r in caplog.records)


def test_a_batch_in_one_go_keeps_every_rule_of_op_by_op(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, caplog: pytest.LogCaptureFixture,
) -> None:
    now = clock.now
    session_id, opened = drawer_open(terminal_a, now)
    first_id, first = sale(terminal_a, catalog_a, session_id, now)
    assert push(client, terminal_a, [opened, first])["results"][1]["status"] == "applied"

    caplog.set_level(logging.INFO, logger="stormcom.sync")
    ops: list[dict[str, Any]] = []
    order_ids: list[str] = []
    for _ in range(12):
        order_id, sold = sale(terminal_a, catalog_a, session_id, now)
        order_ids.append(order_id)
        ops.append(sold)
    # The same receipt number twice in the batch: the second is kept with a suffix, flagged.
    ops[5]["payload"]["receipt_number"] = ops[4]["payload"]["receipt_number"]
    # The first sale again under a new op id: recognised as recorded, nothing applied twice.
    _, resent = sale(terminal_a, catalog_a, session_id, now)
    resent["payload"] = first["payload"]
    ops.append(resent)
    body = push(client, terminal_a, ops)

    assert not _fell_back(caplog)
    assert [r["status"] for r in body["results"]] == ["applied"] * 13
    assert body["results"][5]["anomalies"] == ["duplicate_receipt_number"]
    assert body["results"][12]["result"] == {"order_id": first_id, "already_recorded": True}
    assert body["last_applied_device_seq"] == 15
    assert _count(app, Order) == 13 and _count(app, OrderItem) == 39
    assert _count(app, Payment) == 13 and _count(app, PushInbox) == 15
    with db_session(app) as db:
        numbers = {o.id: o.order_number for o in db.scalars(select(Order))}
        assert numbers[order_ids[5]] == f"{ops[4]['payload']['receipt_number']}/" \
                                        f"{order_ids[5][-6:]}"
        assert db.scalar(select(func.count()).select_from(PosAnomaly).where(
            PosAnomaly.kind == AnomalyKind.DUPLICATE_RECEIPT)) == 1
        # 13 sales of one unit of each of the three variants, from a stock of 10 each.
        assert {v.stock_quantity for v in db.scalars(select(Variant))} == {-3}
        moves = db.scalars(select(InventoryAdjustment)).all()
        assert len(moves) == 39
        assert sorted(m.new_quantity for m in moves if m.variant_id == catalog_a.variant_ids[0]
                      ) == list(range(-3, 10))
        assert db.scalar(select(func.count()).select_from(PosAnomaly).where(
            PosAnomaly.kind == AnomalyKind.NEGATIVE_STOCK)) == 9
        drawer = db.get(PosSession, session_id)
        assert drawer is not None and drawer.transaction_count == 13


def test_a_bad_op_sends_the_batch_op_by_op_and_only_it_is_quarantined(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stormcom.sync")
    now = clock.now
    session_id, opened = drawer_open(terminal_a, now)
    ops = [opened]
    for _ in range(8):
        ops.append(sale(terminal_a, catalog_a, session_id, now)[1])
    ops[4]["payload"]["lines"][0]["variant_id"] = "nosuchvariant000000000000"
    body = push(client, terminal_a, ops)

    assert _fell_back(caplog)
    statuses = [(r["status"], r.get("error_code")) for r in body["results"]]
    assert statuses == [("applied", None)] * 4 + [("quarantined", "unknown_variant")] + \
        [("applied", None)] * 4
    assert body["last_applied_device_seq"] == 9
    assert _count(app, Order) == 7 and _count(app, InventoryAdjustment) == 21
    with db_session(app) as db:
        assert {v.stock_quantity for v in db.scalars(select(Variant))} == {3}
        drawer = db.get(PosSession, session_id)
        assert drawer is not None and drawer.transaction_count == 7


def test_a_refund_in_the_batch_of_its_sale_sees_the_sales_ledger_and_restocks(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stormcom.sync")
    now = clock.now
    variant = catalog_a.variant_ids[0]
    session_id, opened = drawer_open(terminal_a, now)
    order_id, sold = sale(terminal_a, catalog_a, session_id, now, lines=[(variant, 3)])
    item_id = sold["payload"]["lines"][0]["id"]
    refund = op(terminal_a, "refund.submit", {
        "refund_id": new_id(), "order_id": order_id, "pos_session_id": session_id,
        "cashier_id": terminal_a.tenant.users["cashier"],
        "approved_by": terminal_a.tenant.users["manager"], "reason": "CUSTOMER_REQUEST",
        "lines": [{"order_item_id": item_id, "quantity": "1", "amount": "2.50", "tax": "0.21"}],
        "amount": "2.71", "tax": "0.21", "tender": "CASH"}, at=now)
    body = push(client, terminal_a, [opened, sold, refund])

    assert not _fell_back(caplog)
    assert [r["status"] for r in body["results"]] == ["applied"] * 3
    assert body["results"][2]["result"]["restocked"] == {variant: 1}
    with db_session(app) as db:
        assert db.get(Variant, variant).stock_quantity == 8  # type: ignore[union-attr]
        moves = db.scalars(select(InventoryAdjustment).where(
            InventoryAdjustment.order_id == order_id).order_by(InventoryAdjustment.new_quantity))
        assert [(m.quantity_change, m.new_quantity) for m in moves] == [(-3, 7), (1, 8)]


@pytest.fixture
def stock_moved_under_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another till sold 9 of every variant between the batch's read and its lock: the batch
    read a level 9 higher than the one it will lock (what a concurrent push does, without
    the threads)."""
    from sqlalchemy.orm.attributes import set_committed_value

    from server.pos import ingest_batch

    real = ingest_batch.prefetch

    def prefetch(session: Any, store_id: str, ops: Any, cache: Any) -> None:
        real(session, store_id, ops, cache)
        for variant, _product in cache.variants.values():
            set_committed_value(variant, "stock_quantity", variant.stock_quantity + 9)

    monkeypatch.setattr(ingest_batch, "prefetch", prefetch)


@pytest.mark.usefixtures("stock_moved_under_the_batch")
def test_levels_moved_under_the_batch_are_settled_when_it_locks(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stormcom.sync")
    variant = catalog_a.variant_ids[0]
    session_id, opened = drawer_open(terminal_a, clock.now)
    sales = [sale(terminal_a, catalog_a, session_id, clock.now, lines=[(variant, 2)])[1]
             for _ in range(2)]
    body = push(client, terminal_a, [opened, *sales])

    assert not _fell_back(caplog)
    assert [r["anomalies"] for r in body["results"]] == [[], [], []]
    with db_session(app) as db:
        assert db.get(Variant, variant).stock_quantity == 6  # type: ignore[union-attr]
        levels = db.scalars(select(InventoryAdjustment.new_quantity)
                            .where(InventoryAdjustment.variant_id == variant)).all()
        # What the ledger says is the level after each sale, not the level read (17, 15).
        assert sorted(levels) == [6, 8]


@pytest.mark.usefixtures("stock_moved_under_the_batch")
def test_a_level_that_now_crosses_zero_sends_the_batch_op_by_op(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stormcom.sync")
    variant = catalog_a.variant_ids[0]
    session_id, opened = drawer_open(terminal_a, clock.now)
    _, sold = sale(terminal_a, catalog_a, session_id, clock.now, lines=[(variant, 12)])
    body = push(client, terminal_a, [opened, sold])

    # Read 19, it looked like 7 left; locked 10, it leaves -2: flagged, as op by op does.
    assert _fell_back(caplog)
    assert body["results"][1]["status"] == "applied"
    assert body["results"][1]["anomalies"] == [AnomalyKind.NEGATIVE_STOCK.value]
    with db_session(app) as db:
        assert db.scalars(select(InventoryAdjustment.new_quantity)
                          .where(InventoryAdjustment.variant_id == variant)).all() == [-2]
        assert _count(app, PosAnomaly, PosAnomaly.kind == AnomalyKind.NEGATIVE_STOCK) == 1


@pytest.mark.usefixtures("stock_moved_under_the_batch")
def test_a_stock_op_reports_the_level_it_left_even_when_it_moved_under_the_batch(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
    catalog_a: Catalog,
) -> None:
    variant = catalog_a.variant_ids[1]
    adjust = op(terminal_a, "stock.adjust", {"movement_id": new_id(), "variant_id": variant,
                                             "quantity_change": 5, "reason": "found"},
                at=clock.now)
    body = push(client, terminal_a, [adjust])
    assert body["results"][0]["result"]["stock_quantity"] == 15  # 10 + 5, not 19 + 5

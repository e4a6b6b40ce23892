"""POS ingestion handlers: drawer, cash, refunds, stock work and customers, as pushed ops."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.catalog.models import Variant
from server.clock import FakeClock
from server.customers.models import Customer
from server.db.base import new_id
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order
from server.payments.models import Refund
from server.pos.anomaly_models import PosAnomaly
from server.pos.models import PosCashMovement, PosSession
from tests.server import sync_fixtures
from tests.server.conftest import World, db_session
from tests.server.sync_fixtures import (
    Catalog,
    Terminal,
    drawer_open,
    op,
    pair,
    push,
    sale,
)

# Fixtures shared by the sync tests (tests/server/sync_fixtures.py).
catalog_a = sync_fixtures.catalog_a
sync_db = sync_fixtures.sync_db
terminal_a = sync_fixtures.terminal_a


def _kinds(app: FastAPI, op_id: str) -> set[str]:
    with db_session(app) as db:
        return {a.kind.value for a in db.scalars(select(PosAnomaly).where(
            PosAnomaly.op_id == op_id))}


def _close(terminal: Terminal, session_id: str, at: Any, counted: str, expected: str,
           counts: dict[str, int]) -> dict[str, Any]:
    return op(terminal, "drawer.close", {
        "pos_session_id": session_id, "closed_by": terminal.tenant.users["manager"],
        "counted_by_denomination": counts, "counted_total": counted, "expected_cash": expected,
        "z_number": 1, "closed_at": at.isoformat()}, at=at)


def _cash(terminal: Terminal, session_id: str, kind: str, amount: str, at: Any) -> dict[str, Any]:
    return op(terminal, "cash.move", {
        "movement_id": new_id(), "pos_session_id": session_id, "type": kind, "amount": amount,
        "reason": "float top-up", "user_id": terminal.tenant.users["cashier"]}, at=at)


def test_drawer_close_recomputes_expected_cash_with_the_shared_rule(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal, catalog_a: Catalog,
) -> None:
    now = clock.now
    sid, opened = drawer_open(terminal_a, now, float_="100.00")
    order_id, sold = sale(terminal_a, catalog_a, sid, now)  # 2.50 + 3.50 + 4.50 + 8.25% tax
    pay_in = _cash(terminal_a, sid, "PAY_IN", "20.00", now)
    drop = _cash(terminal_a, sid, "DROP", "50.00", now)
    push(client, terminal_a, [opened, sold, pay_in, drop])
    # 10.50 net + 0.87 tax (0.21 + 0.29 + 0.37) = 11.37 kept; 100 + 11.37 + 20 - 50 = 81.37
    close = _close(terminal_a, sid, now, "81.00", "81.37", {"50": 1, "20": 1, "10": 1, "1": 1})
    body = push(client, terminal_a, [close])
    assert body["results"][0]["result"]["expected_cash"] == "81.37"
    assert body["results"][0]["result"]["cash_difference"] == "-0.37"
    assert _kinds(app, close["op_id"]) == {"cash_variance"}
    with db_session(app) as db:
        drawer = db.get(PosSession, sid)
        assert drawer is not None and drawer.status.value == "CLOSED"
        assert drawer.expected_cash == Decimal("81.37") and drawer.closing_cash == Decimal("81")
        assert drawer.counted_by_denomination == {"50": 1, "20": 1, "10": 1, "1": 1}
        assert drawer.transaction_count == 1 and drawer.total_sales == Decimal("11.37")
        assert drawer.closed_by_id == terminal_a.tenant.users["manager"]
        moves = db.scalars(select(PosCashMovement).where(PosCashMovement.pos_session_id == sid))
        assert sorted(m.type.value for m in moves) == ["DROP", "PAY_IN"]

    # A sale pushed after the close lands, flagged, and the variance is recomputed.
    _, late = sale(terminal_a, catalog_a, sid, now + timedelta(minutes=5))
    body = push(client, terminal_a, [late])
    assert body["results"][0]["status"] == "applied"
    assert _kinds(app, late["op_id"]) == {"late_after_close", "cash_variance"}
    with db_session(app) as db:
        drawer = db.get(PosSession, sid)
        assert drawer is not None
        assert drawer.expected_cash == Decimal("92.74")
        assert drawer.cash_difference == Decimal("-11.74")


def test_a_till_figure_that_drifts_from_the_server_is_flagged(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
) -> None:
    sid, opened = drawer_open(terminal_a, clock.now, float_="50.00")
    close = _close(terminal_a, sid, clock.now, "50.00", "49.00", {"20": 2, "5": 2})
    body = push(client, terminal_a, [opened, close])
    assert body["results"][1]["status"] == "applied"
    assert _kinds(app, close["op_id"]) == {"cash_drift"}
    bad_count = _close(terminal_a, new_id(), clock.now, "10.00", "0.00", {"20": 1})
    body = push(client, terminal_a, [bad_count])  # unknown session: a placeholder, flagged
    assert body["results"][0]["status"] == "applied"
    assert {"missing_drawer_session", "count_mismatch"} <= _kinds(app, bad_count["op_id"])


def test_a_sale_before_its_drawer_open_makes_a_placeholder_that_the_open_fills_in(
    client: TestClient, app: FastAPI, clock: FakeClock, world: World, terminal_a: Terminal,
    catalog_a: Catalog, sync_db: str,
) -> None:
    sid = new_id()
    _, sold = sale(terminal_a, catalog_a, sid, clock.now)
    push(client, terminal_a, [sold])
    assert "missing_drawer_session" in _kinds(app, sold["op_id"])
    other = pair(sync_db, world.a, clock.now, "Other till")
    _, opened = drawer_open(other, clock.now, session_id=sid, float_="75.00")
    body = push(client, other, [opened])
    assert body["results"][0]["result"]["filled_in"] is True
    with db_session(app) as db:
        drawer = db.get(PosSession, sid)
        assert drawer is not None and drawer.opening_cash == Decimal("75") and drawer.notes is None


def _refund(terminal: Terminal, order_id: str, lines: list[dict[str, Any]], amount: str,
            tax: str, session_id: str, at: Any, refund_id: str | None = None) -> dict[str, Any]:
    return op(terminal, "refund.submit", {
        "refund_id": refund_id or new_id(), "order_id": order_id, "pos_session_id": session_id,
        "cashier_id": terminal.tenant.users["cashier"],
        "approved_by": terminal.tenant.users["manager"], "reason": "CUSTOMER_REQUEST",
        "lines": lines, "amount": amount, "tax": tax, "tender": "CASH"}, at=at)


def test_refunds_follow_the_shared_rules_and_restock_exactly_once(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal, catalog_a: Catalog,
) -> None:
    now = clock.now
    variant = catalog_a.variant_ids[0]
    sid, opened = drawer_open(terminal_a, now)
    order_id, sold = sale(terminal_a, catalog_a, sid, now, lines=[(variant, 3)])  # 7.50 + 0.62
    push(client, terminal_a, [opened, sold])
    with db_session(app) as db:
        item_id = db.scalars(select(Order).where(Order.id == order_id)).one().items[0].id
    line = {"order_item_id": item_id, "quantity": "1", "amount": "2.50", "tax": "0.21"}
    refund_id = new_id()
    first = _refund(terminal_a, order_id, [line], "2.71", "0.21", sid, now, refund_id)
    body = push(client, terminal_a, [first])
    assert body["results"][0]["status"] == "applied" and body["results"][0]["anomalies"] == []
    assert body["results"][0]["result"]["payment_status"] == "PARTIALLY_REFUNDED"
    # The same refund sent again as a new op (a till bug): recorded once, restocked once.
    again = _refund(terminal_a, order_id, [line], "2.71", "0.21", sid, now, refund_id)
    assert push(client, terminal_a, [again])["results"][0]["result"]["already_recorded"]
    rest = {"order_item_id": item_id, "quantity": "2", "amount": "5.00", "tax": "0.41"}
    body = push(client, terminal_a, [_refund(terminal_a, order_id, [rest], "5.41", "0.41", sid,
                                             now)])
    assert body["results"][0]["anomalies"] == []
    # One more unit than was sold: stored (the cash is gone), flagged, nothing restocked.
    over = _refund(terminal_a, order_id, [line], "2.71", "0.21", sid, now)
    body = push(client, terminal_a, [over])
    assert body["results"][0]["status"] == "applied"
    assert body["results"][0]["result"]["restocked"] == {}
    assert _kinds(app, over["op_id"]) == {"refund_rule_violation"}
    with db_session(app) as db:
        assert db.get(Variant, variant).stock_quantity == 10  # type: ignore[union-attr]
        returns = db.scalars(select(InventoryAdjustment).where(
            InventoryAdjustment.order_id == order_id, InventoryAdjustment.quantity_change > 0))
        assert sorted(m.quantity_change for m in returns) == [1, 2]
        order = db.get(Order, order_id)
        assert order is not None and order.status.value == "REFUNDED"
        assert order.items[0].quantity_refunded == 4 and order.flagged
        assert len(db.scalars(select(Refund).where(Refund.order_id == order_id)).all()) == 3


def test_a_refund_amount_off_the_rules_and_an_unknown_order(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal, catalog_a: Catalog,
) -> None:
    sid, opened = drawer_open(terminal_a, clock.now)
    order_id, sold = sale(terminal_a, catalog_a, sid, clock.now, lines=[(catalog_a.variant_ids[0],
                                                                          3)])
    push(client, terminal_a, [opened, sold])
    with db_session(app) as db:
        item_id = db.scalars(select(Order).where(Order.id == order_id)).one().items[0].id
    line = {"order_item_id": item_id, "quantity": "1", "amount": "2.60", "tax": "0.21"}
    odd = _refund(terminal_a, order_id, [line], "2.81", "0.21", sid, clock.now)
    unknown = _refund(terminal_a, new_id(), [], "1.00", "0.00", sid, clock.now)
    body = push(client, terminal_a, [odd, unknown])
    assert _kinds(app, odd["op_id"]) == {"refund_amount_mismatch"}
    assert (body["results"][1]["status"], body["results"][1]["error_code"]) == (
        "quarantined", "unknown_order")


def test_stock_work_is_ledger_deltas_and_a_count_keeps_other_tills_sales(
    client: TestClient, app: FastAPI, clock: FakeClock, world: World, terminal_a: Terminal,
    catalog_a: Catalog, sync_db: str,
) -> None:
    variant = catalog_a.variant_ids[0]
    movement_id = new_id()
    adjust = op(terminal_a, "stock.adjust", {"movement_id": movement_id, "variant_id": variant,
                                             "quantity_change": -3, "reason": "damage"},
                at=clock.now)
    odd = op(terminal_a, "stock.adjust", {"movement_id": new_id(), "variant_id": variant,
                                          "quantity_change": 1, "reason": "found on shelf"},
             at=clock.now)
    push(client, terminal_a, [adjust, odd])  # 10 - 3 + 1 = 8
    # The counter saw 8 and counted 6; meanwhile another till sold 2 (level 6 before the count
    # arrives). The count is a delta of -2 relative to what was seen: 4 at the end.
    other = pair(sync_db, world.a, clock.now, "Other till")
    sid, opened = drawer_open(other, clock.now)
    _, sold = sale(other, catalog_a, sid, clock.now, lines=[(variant, 2)])
    push(client, other, [opened, sold])
    count_id = new_id()
    counted = op(terminal_a, "stock.count", {"count_id": count_id, "variant_id": variant,
                                             "counted": 6, "seen_on_hand": 8}, at=clock.now)
    body = push(client, terminal_a, [counted])
    assert body["results"][0]["result"] == {"movement_id": count_id, "delta": -2,
                                            "stock_quantity": 4}
    with db_session(app) as db:
        rows = {m.id: m for m in db.scalars(select(InventoryAdjustment).where(
            InventoryAdjustment.variant_id == variant))}
        assert rows[movement_id].reason.value == "DAMAGE"
        assert rows[count_id].reason.value == "CORRECTION" and rows[count_id].new_quantity == 4
        assert any(m.reason.value == "MANUAL" and "found on shelf" in (m.notes or "")
                   for m in rows.values())
        total = sum(m.quantity_change for m in rows.values())
        assert db.get(Variant, variant).stock_quantity == 10 + total  # type: ignore[union-attr]


def test_customers_created_at_the_till_keep_their_id_and_duplicates_are_flagged(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal, catalog_a: Catalog,
) -> None:
    with db_session(app) as db:
        taken = db.get(Customer, catalog_a.customer_id)
        assert taken is not None
        email = taken.email
    fresh, dup = new_id(), new_id()
    ops = [op(terminal_a, "customer.create", {"customer_id": fresh, "first_name": "Bo",
                                              "phone": "+15550001"}, at=clock.now),
           op(terminal_a, "customer.create", {"customer_id": dup, "first_name": "Ada",
                                              "email": email}, at=clock.now)]
    push(client, terminal_a, ops)
    assert _kinds(app, ops[1]["op_id"]) == {"duplicate_customer"}
    sid, opened = drawer_open(terminal_a, clock.now)
    _, sold = sale(terminal_a, catalog_a, sid, clock.now, customer=True)
    push(client, terminal_a, [opened, sold])
    with db_session(app) as db:
        assert db.get(Customer, fresh) is not None
        second = db.get(Customer, dup)
        assert second is not None and second.email is None
        ada = db.get(Customer, catalog_a.customer_id)
        assert ada is not None and ada.total_orders == 1 and ada.total_spent == Decimal("11.37")


def test_a_no_sale_is_audited_with_who_approved_and_why(
    client: TestClient, app: FastAPI, clock: FakeClock, terminal_a: Terminal,
) -> None:
    from server.audit.models import AuditLog

    sid, opened = drawer_open(terminal_a, clock.now, float_="50.00")
    users = terminal_a.tenant.users
    no_sale = op(terminal_a, "drawer.no_sale", {
        "event_id": new_id(), "pos_session_id": sid, "user_id": users["cashier"],
        "approved_by": users["manager"], "reason": "customer needed change",
        "opened_at": clock.now.isoformat()}, at=clock.now)
    body = push(client, terminal_a, [opened, no_sale])
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    with db_session(app) as db:
        row = db.scalar(select(AuditLog).where(AuditLog.action == "pos.drawer.no_sale"))
        assert row is not None and row.entity_id == sid
        assert row.after_snapshot["result"]["approved_by"] == users["manager"]
        assert row.after_snapshot["result"]["reason"] == "customer needed change"
    # A missing reason is malformed input, not an anomaly.
    bad = op(terminal_a, "drawer.no_sale", {
        "event_id": new_id(), "pos_session_id": sid, "user_id": users["cashier"],
        "reason": "", "opened_at": clock.now.isoformat()}, at=clock.now)
    assert push(client, terminal_a, [bad])["results"][0]["status"] in ("rejected", "quarantined")

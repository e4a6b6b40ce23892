"""The short soak in CI (bench/soak.py's ``run_soak``, the same code as the 10,000-sale run):
three tills, random faults from a fixed seed, then quiet syncs and every invariant. And the
invariants themselves must be able to fail: tampering with the server after a soak is caught.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from bench.soak import Soak, SoakConfig, run_soak
from server.catalog.models import Variant
from server.db.base import new_id
from server.db.engine import make_engine
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos.models import PosCashMovement, PosSession
from stormcom_pos.domain.enums import CashMovementType
from tests.terminal.sync.invariants import audit
from tests.terminal.sync.server_harness import ServerHarness

pytestmark = pytest.mark.slow


# More faults and drawer closes than the 10,000-sale run, so a short run meets them all.
SHORT = SoakConfig(sales=150, terminals=3, fault_rate=0.3, initial_stock=200, close_every=0.03)


@pytest.mark.parametrize("seed", [20260115, 7])
def test_a_short_soak_with_random_faults_loses_and_duplicates_nothing(
        server: ServerHarness, tmp_path: Path, seed: int) -> None:
    result = run_soak(server, tmp_path, replace(SHORT, seed=seed))
    assert result.ok, result.report()
    assert (result.audit.sales_made, result.audit.sales_on_server) == (150, 150)
    assert (result.lost, result.duplicated) == (0, 0)
    injected = set(result.faults)
    assert {"drop_request", "drop_response", "duplicate", "status"} <= injected, result.faults
    assert server.scalar('SELECT count(*) FROM "order"') == 150
    closed = server.scalar("SELECT count(*) FROM pos_session WHERE status = 'CLOSED'")
    assert closed == result.facts["drawer closes"] > 0
    assert result.facts["refunds"] > 0 and result.facts["cash moves"] > 0


def test_the_invariants_catch_lost_duplicated_and_drifted_facts(
        server: ServerHarness, tmp_path: Path) -> None:
    soak = Soak(server, tmp_path, replace(SHORT, seed=3))
    engine = make_engine(server.url)
    try:
        result = soak.run()
        assert result.ok, result.report()
        with engine.begin() as conn:
            victim, twice, wrong, drifted = conn.execute(
                select(Order.id).order_by(Order.id).limit(4)).scalars().all()
            variant = conn.execute(select(Variant.id).order_by(Variant.id).limit(1)
                                   ).scalar_one()
            conn.execute(delete(InventoryAdjustment).where(
                InventoryAdjustment.order_id == victim))
            conn.execute(delete(Payment).where(Payment.order_id == victim))
            conn.execute(delete(OrderItem).where(OrderItem.order_id == victim))
            conn.execute(delete(Order).where(Order.id == victim))
            conn.execute(InventoryAdjustment.__table__.insert().values(
                id=new_id(), store_id=server.world.a.store_id, variant_id=variant,
                quantity_change=-1, new_quantity=0, reason=AdjustmentReason.ORDER_PLACED,
                order_id=twice, created_at=server.clock.now, updated_at=server.clock.now))
            conn.execute(update(Order).where(Order.id == wrong).values(total=Decimal("0.01")))
            conn.execute(update(PosSession).where(PosSession.status == "CLOSED")
                         .values(expected_cash=Decimal("0.01")))
            open_session = conn.execute(select(PosSession.id).where(
                PosSession.status == "OPEN").limit(1)).scalar_one()
            conn.execute(PosCashMovement.__table__.insert().values(
                id=new_id(), store_id=server.world.a.store_id, pos_session_id=open_session,
                type=CashMovementType.PAY_IN, amount=Decimal("1.00"), reason="not at a till",
                user_id=server.world.a.users["manager"], occurred_at=server.clock.now,
                created_at=server.clock.now, updated_at=server.clock.now))
            conn.execute(update(Variant).where(Variant.id == variant)
                         .values(stock_quantity=Variant.stock_quantity + 1))
        found = audit(engine, soak.tills, initial_stock=SHORT.initial_stock)
    finally:
        engine.dispose()
        soak.close()
    assert found.sales_made == 150 and found.sales_on_server == 149
    assert len(found.lost) == 1 and victim in found.lost[0]
    assert len(found.duplicated) >= 1 and any(twice in d for d in found.duplicated)
    text = found.summary(limit=1000)
    assert f"sale {wrong}: totals" in text
    assert "the server 0.01" in text  # a closed drawer's expected cash
    assert f"open drawer session {open_session}: the till's facts give" in text
    assert f"variant {variant}: stock" in text and "its ledger says" in text
    assert "cache of device" in text  # the tills never pulled the tampered stock
    assert drifted  # a fourth order, untouched, is not reported
    assert drifted not in text

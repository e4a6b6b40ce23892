"""``server.db.bulk.insert_new``: rows written without the unit of work keep a flush's rules."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit.models import AuditLog
from server.db import bulk
from server.db.tenancy import TenancyError, set_current_store
from server.pos.anomaly_models import PosAnomaly
from server.pos.models import Device, PosCashMovement, PosSession
from server.sync import mirror, push_service
from server.sync.models import PushInbox
from stormcom_pos.domain.enums import CashMovementType, PosSessionStatus
from tests.server.conftest import World, db_session


@pytest.fixture
def db_a(app: FastAPI, world: World) -> Iterator[Session]:
    """A request-like session working in store A."""
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        yield db
        db.rollback()


def test_ids_are_minted_when_an_object_is_made_and_a_given_id_is_kept() -> None:
    assert len(Device(name="till").id) >= 24
    assert Device(id="till-own-id", name="till").id == "till-own-id"


def test_rows_go_in_with_their_defaults_parents_first_after_the_rest_of_the_session(
    app: FastAPI, world: World, db_a: Session,
) -> None:
    cashier = world.a.users["cashier"]
    device = Device(name="till", terminal_number=41)  # flushed normally, before the rows
    drawer = PosSession(user_id=cashier, device_id=device.id, opening_cash=Decimal("50"))
    # Added before the drawer it belongs to: the tables still go parents first.
    movement = PosCashMovement(pos_session_id=drawer.id, type=CashMovementType.PAY_IN,
                               amount=Decimal("5.25"), user_id=cashier)
    db_a.add_all([movement, device, drawer])

    assert bulk.insert_new(db_a, (PosSession, PosCashMovement)) == 2
    assert movement not in db_a and drawer not in db_a and device in db_a
    db_a.commit()

    with db_session(app) as db:
        stored = db.get(PosSession, drawer.id)
        assert stored is not None and stored.store_id == world.a.store_id
        # Column defaults apply as in a flush.
        assert stored.status is PosSessionStatus.OPEN
        assert stored.opened_at is not None and stored.created_at is not None
        moved = db.get(PosCashMovement, movement.id)
        assert moved is not None and moved.amount == Decimal("5.25")
        assert moved.store_id == world.a.store_id  # taken from the current store


def test_a_row_of_another_store_is_refused_and_nothing_is_written(
    app: FastAPI, world: World, db_a: Session,
) -> None:
    device = Device(name="till", terminal_number=42)
    db_a.add_all([device, PosSession(store_id=world.b.store_id, user_id=world.a.users["cashier"],
                                     device_id=device.id, opening_cash=Decimal(0))])
    with pytest.raises(TenancyError, match="another store"):
        bulk.insert_new(db_a, (PosSession,))
    db_a.rollback()

    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(PosSession)) == 0


def test_the_rows_a_push_writes_in_bulk_are_not_mirrored_to_tills() -> None:
    # Their changes would not be captured: bulk writes skip the flush hooks that sequence them.
    tables = {m.__table__.name for m in (*push_service.SALE_ROWS, AuditLog, PosAnomaly,
                                         PushInbox)}
    assert tables == {"order", "order_item", "payment", "inventory_adjustment", "pos_anomaly",
                      "audit_log", "push_inbox"}
    assert not tables & set(mirror.MIRRORED_TABLES)


def test_a_row_that_would_go_with_a_bulk_row_by_cascade_stops_it(
    world: World, db_a: Session,
) -> None:
    cashier = world.a.users["cashier"]
    device = Device(name="till", terminal_number=43)
    drawer = PosSession(user_id=cashier, device_id=device.id, opening_cash=Decimal(0))
    drawer.cash_movements.append(PosCashMovement(
        type=CashMovementType.DROP, amount=Decimal("20.00"), user_id=cashier))
    db_a.add_all([device, drawer])
    # The movement is not asked for, but expunging its drawer would take it along.
    with pytest.raises(RuntimeError, match="would drop a new PosCashMovement"):
        bulk.insert_new(db_a, (PosSession,))

"""Online confirmation never oversells, on a real PostgreSQL cluster under real concurrency:
threads, each with its own session and connection, all released at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from sqlalchemy import create_engine, func, select

from server.catalog.models import Variant
from server.clock import FakeClock
from server.db.tenancy import make_tenant_session_factory, set_current_store
from server.identity.principal import Principal, RequestMeta
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.inventory.service import InsufficientStock
from server.orders import flows
from server.orders.models import Order, OrderItem
from server.orders.schemas import OrderCreate
from server.stores.models import Store
from stormcom_pos.domain.enums import OrderStatus
from tests.conftest import postgresql_only
from tests.server.commerce_helpers import order_body, seed_shipping, seed_variant, stock_of
from tests.server.conftest import World, db_session


def _pending_orders(app: FastAPI, store_id: str, lines: list[list[str]]) -> list[str]:
    ids = []
    with db_session(app) as db:
        for n, variants in enumerate(lines, start=1):
            order = Order(store_id=store_id, order_number=f"ORD-2026-{n:05d}",
                          subtotal=Decimal(10), total=Decimal(10), status=OrderStatus.PENDING)
            db.add(order)
            db.flush()
            for variant in variants:
                db.add(OrderItem(store_id=store_id, order_id=order.id, variant_id=variant,
                                 product_name="Thing", variant_sku="T", quantity=Decimal(1),
                                 unit_price=Decimal(10), subtotal=Decimal(10),
                                 total=Decimal(10)))
            ids.append(order.id)
        db.commit()
    return ids


def _race(app: FastAPI, count: int, work: Callable[[Any, int], None]) -> list[BaseException | None]:
    """Run ``work(session, i)`` in ``count`` threads at once; each commits or rolls back."""
    engine = create_engine(app.state.engine.url, pool_size=count, max_overflow=0)
    factory = make_tenant_session_factory(engine)
    barrier = threading.Barrier(count)
    results: list[BaseException | None] = [None] * count

    def run(i: int) -> None:
        with factory() as session:
            barrier.wait()
            try:
                work(session, i)
                session.commit()
            except BaseException as exc:  # recorded, asserted on below
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    return results


@postgresql_only
def test_fifty_confirmations_for_the_last_ten_units(app: FastAPI, world: World,
                                                    clock: FakeClock) -> None:
    a = world.a.store_id
    variant = seed_variant(app, a, stock=10)
    orders = _pending_orders(app, a, [[variant]] * 50)
    actor = Principal(kind="user", user_id=world.a.users["owner"], store_id=a)

    def confirm(session: Any, i: int) -> None:
        set_current_store(session, a)
        flows.confirm_order(session, actor=actor, order_id=orders[i], now=clock.now)

    results = _race(app, 50, confirm)
    assert sum(r is None for r in results) == 10
    assert all(isinstance(r, InsufficientStock) for r in results if r is not None), results
    assert stock_of(app, variant) == 0
    with db_session(app) as db:
        confirmed = db.scalar(select(func.count()).select_from(Order).where(
            Order.status == OrderStatus.CONFIRMED))
        ledger = db.scalar(select(func.sum(InventoryAdjustment.quantity_change)).where(
            InventoryAdjustment.variant_id == variant,
            InventoryAdjustment.reason == AdjustmentReason.ORDER_PLACED))
        low = db.scalar(select(func.min(Variant.stock_quantity)))
    assert confirmed == 10 and ledger == -10 and low >= 0


@postgresql_only
def test_crossed_multi_line_orders_do_not_deadlock(app: FastAPI, world: World,
                                                   clock: FakeClock) -> None:
    a = world.a.store_id
    v1, v2 = seed_variant(app, a, stock=100), seed_variant(app, a, stock=100)
    orders = _pending_orders(app, a, [[v1, v2] if i % 2 else [v2, v1] for i in range(30)])
    actor = Principal(kind="user", user_id=world.a.users["owner"], store_id=a)

    def confirm(session: Any, i: int) -> None:
        set_current_store(session, a)
        flows.confirm_order(session, actor=actor, order_id=orders[i], now=clock.now)

    assert _race(app, 30, confirm) == [None] * 30
    assert (stock_of(app, v1), stock_of(app, v2)) == (70, 70)


@postgresql_only
def test_concurrent_checkouts_get_distinct_consecutive_numbers(
    app: FastAPI, world: World, clock: FakeClock
) -> None:
    a = world.a.store_id
    variant = seed_variant(app, a, stock=100)
    seed_shipping(app, a)
    actor = Principal(kind="user", user_id=world.a.users["owner"], store_id=a)
    data = OrderCreate.model_validate(order_body((variant, 1)))
    numbers: list[str] = []

    def checkout(session: Any, i: int) -> None:
        set_current_store(session, a)
        store = session.get(Store, a)
        order = flows.create_online_order(session, actor=actor, store=store, data=data,
                                          now=clock.now, meta=RequestMeta())
        numbers.append(order.order_number)

    results = _race(app, 20, checkout)
    assert results == [None] * 20
    assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 21))

"""PostgreSQL concurrency: commit-ordered change sequence (F12) and 50 concurrent pushes of
the same batch (F4). SQLite serializes writers and cannot show either, so these run on
PostgreSQL only (sync-anchors §3.3)."""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.catalog.models import Product, Variant
from server.clock import FakeClock
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order
from server.sync import changes
from server.sync.models import PushInbox
from stormcom_pos.domain import sync_protocol as proto
from tests.conftest import postgresql_only
from tests.server import sync_fixtures
from tests.server.conftest import World, db_session
from tests.server.sync_fixtures import (
    PULL,
    PUSH,
    Catalog,
    Terminal,
    drawer_open,
    pair,
    sale,
)

# Fixtures shared by the sync tests (tests/server/sync_fixtures.py).
catalog_a = sync_fixtures.catalog_a
terminal_a = sync_fixtures.terminal_a



def _pull(client: TestClient, terminal: Terminal, cursor: str) -> tuple[list[dict[str, Any]],
                                                                         str]:
    r = client.get(PULL, headers=terminal.headers, params={"cursor": cursor})
    assert r.status_code == 200, r.text
    return r.json()["changes"], r.json()["next_cursor"]


def _rename(app: FastAPI, store_id: str, product_id: str, name: str) -> Any:
    session = app.state.session_factory()
    session.info["store_id"] = store_id
    product = session.get(Product, product_id)
    product.name = name
    session.flush()  # the row is written now; it becomes visible at commit
    return session, product.updated_at


def _wait_until_blocked(app: FastAPI, thread: threading.Thread) -> None:
    """Until the thread's transaction waits on a lock (pg_stat_activity), or it finished."""
    with app.state.engine.connect() as conn:
        for _ in range(400):
            thread.join(0.025)
            waiting = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()").scalar()
            if waiting or not thread.is_alive():
                return


@pytest.mark.postgres
@postgresql_only
def test_transactions_committing_out_of_order_are_never_skipped_by_a_puller(
    app: FastAPI, client: TestClient, world: World, terminal_a: Terminal, catalog_a: Catalog,
) -> None:
    store = world.a.store_id
    first, second = catalog_a.product_ids[0], catalog_a.product_ids[1]
    cursor = proto.encode_cursor(*_head_cursor(client, terminal_a))

    # 1. T1 writes first but commits last; T2 commits in between. Sequence follows commits.
    t1, t1_updated = _rename(app, store, first, "Late")
    t2, t2_updated = _rename(app, store, second, "Early")
    t2.commit()
    seen, cursor = _pull(client, terminal_a, cursor)
    assert [c["id"] for c in seen] == [second]  # T1 is not visible yet...
    t1.commit()
    seen, cursor = _pull(client, terminal_a, cursor)
    assert [c["id"] for c in seen] == [first]  # ...and is not skipped once it commits
    assert seen[0]["data"]["name"] == "Late"
    # Negative control: an updated_at cursor would have skipped T1 forever.
    assert t1_updated < t2_updated
    t1.close()
    t2.close()

    # 2. T1 takes its numbers first and holds them; T2 must wait for T1's commit, so a
    #    puller can never see T2's higher number before T1's lower one.
    t1, _ = _rename(app, store, first, "Held")
    allocated = changes.allocate(t1)
    t2, _ = _rename(app, store, second, "Waiting")
    done = threading.Event()

    def commit_t2() -> None:
        t2.commit()
        done.set()

    thread = threading.Thread(target=commit_t2)
    thread.start()
    _wait_until_blocked(app, thread)
    assert not done.is_set()  # blocked on the store's counter row
    seen, cursor_mid = _pull(client, terminal_a, cursor)
    assert seen == [] and cursor_mid == cursor
    t1.commit()
    thread.join(10)
    assert done.is_set()
    seen, cursor = _pull(client, terminal_a, cursor)
    assert [(c["id"], c["data"]["name"]) for c in seen] == [(first, "Held"),
                                                            (second, "Waiting")]
    assert seen[0]["seq"] == allocated[store] < seen[1]["seq"]
    t1.close()
    t2.close()


def _head_cursor(client: TestClient, terminal: Terminal) -> tuple[str, int]:
    cursor: str | None = None
    while True:
        params = {"cursor": cursor} if cursor else {}
        page = client.get(PULL, headers=terminal.headers, params=params).json()
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return proto.decode_cursor(cursor)


@pytest.mark.postgres
@postgresql_only
def test_fifty_concurrent_pushes_of_the_same_batch_apply_it_once(
    app: FastAPI, world: World, terminal_a: Terminal, catalog_a: Catalog, clock: FakeClock,
) -> None:
    sid, opened = drawer_open(terminal_a, clock.now)
    sales = [sale(terminal_a, catalog_a, sid, clock.now) for _ in range(3)]
    body = {"app_version": "1", "cache_schema_version": 1,
            "ops": [opened, *(s[1] for s in sales)]}
    barrier = threading.Barrier(50)
    outcomes: list[tuple[int, list[str]]] = []
    lock = threading.Lock()

    def worker() -> None:
        with TestClient(app) as client:
            barrier.wait()
            r = client.post(PUSH, headers=terminal_a.headers, json=body)
            statuses = [x["status"] for x in r.json()["results"]] if r.status_code == 200 else []
            with lock:
                outcomes.append((r.status_code, statuses))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(outcomes) == 50
    assert Counter(code for code, _ in outcomes) == {200: 50}
    applied = [s for _, s in outcomes if "applied" in s]
    assert applied == [["applied"] * 4]
    assert all(s == ["duplicate"] * 4 for _, s in outcomes if s != applied[0])
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(Order)) == 3
        assert db.scalar(select(func.count()).select_from(PushInbox)) == 4
        assert db.scalar(select(func.count()).select_from(InventoryAdjustment)) == 9
        levels = {v.id: v.stock_quantity for v in db.scalars(select(Variant))}
        assert all(levels[v] == 7 for v in catalog_a.variant_ids)
        totals = db.scalars(select(Order.total)).all()
        assert all(t == Decimal("11.37") for t in totals)


@pytest.mark.postgres
@postgresql_only
def test_batches_touching_the_same_rows_in_opposite_orders_do_not_deadlock(
    app: FastAPI, world_db: tuple[str, World], catalog_a: Catalog, clock: FakeClock,
) -> None:
    url, world = world_db
    tills = [pair(url, world.a, clock.now, "Till") for _ in range(2)]
    first, last = catalog_a.variant_ids[0], catalog_a.variant_ids[2]
    bodies = []
    for till, order in zip(tills, ((first, last), (last, first)), strict=True):
        sid, opened = drawer_open(till, clock.now)
        ops = [opened]
        for _ in range(5):  # each sale alternates, so the batches cross each other
            ops += [sale(till, catalog_a, sid, clock.now, lines=[(v, 1)])[1] for v in order]
        bodies.append((till, {"app_version": "1", "cache_schema_version": 1, "ops": ops}))
    barrier = threading.Barrier(2)
    codes: list[int] = []

    def worker(till: Terminal, body: dict[str, Any]) -> None:
        with TestClient(app) as client:
            barrier.wait()
            codes.append(client.post(PUSH, headers=till.headers, json=body).status_code)

    threads = [threading.Thread(target=worker, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert codes == [200, 200]
    with db_session(app) as db:
        levels = {v.id: v.stock_quantity for v in db.scalars(select(Variant))}
        ledger = {vid: sorted(db.scalars(select(InventoryAdjustment.new_quantity).where(
            InventoryAdjustment.variant_id == vid)).all()) for vid in (first, last)}
    assert levels[first] == levels[last] == 0
    # Each batch read the levels before the other committed; the levels its ledger rows state
    # were settled when it locked the variants: every level from 9 down to 0, once.
    assert ledger[first] == ledger[last] == list(range(10))

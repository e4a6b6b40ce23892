"""Rate limits: the sliding window, its stores, the 429 answer, per-plan limits; plan limits."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.clock import FakeClock
from server.config import Settings
from server.db import migrate
from server.db.engine import make_engine
from server.db.tenancy import set_current_store
from server.errors import PlanLimitReached
from server.ratelimit.limiter import SlidingWindowLimiter
from server.ratelimit.stores import DatabaseCounterStore, MemoryCounterStore
from server.seed.operators import create_store
from server.stores import plan_service
from tests.server.conftest import World, bearer, db_session, login

T0 = 1_800_000_000.0  # a window boundary for period 60 (divisible by 60)


def _limiter_cases(store_factory: Callable[[], Any]) -> None:
    lim = SlidingWindowLimiter(store_factory())
    decisions = [lim.hit("k", 5, 60, T0 + i) for i in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    refused = decisions[-1]
    assert refused.retry_after > 0 and refused.headers()["Retry-After"] == str(refused.retry_after)
    # Early in the next window the previous one still weighs: 5 * (1 - 0.1) = 4.5 -> 0 room.
    assert not lim.hit("k", 5, 60, T0 + 66).allowed
    # Half-way through it, 5 * 0.5 = 2.5: two more fit, the third does not.
    assert [lim.hit("k", 5, 60, T0 + 90 + i / 10).allowed for i in range(3)] == [True, True,
                                                                                 False]
    # Two windows later everything has decayed.
    assert all(lim.hit("k", 5, 60, T0 + 240 + i).allowed for i in range(5))
    # Keys are independent, refused hits are not counted.
    assert lim.hit("other", 5, 60, T0 + 240).remaining == 4


def test_sliding_window_in_memory() -> None:
    _limiter_cases(MemoryCounterStore)


def test_sliding_window_in_the_database(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    _limiter_cases(lambda: DatabaseCounterStore(engine))
    engine.dispose()


def test_retry_after_says_when_a_request_fits_again() -> None:
    lim = SlidingWindowLimiter(MemoryCounterStore())
    for i in range(10):
        lim.hit("k", 10, 60, T0 + i)
    refused = lim.hit("k", 10, 60, T0 + 30)
    assert not refused.allowed
    later = T0 + 30 + refused.retry_after
    assert lim.hit("k", 10, 60, later).allowed
    assert not SlidingWindowLimiter(MemoryCounterStore()).hit("z", 0, 60, T0).allowed


def test_workers_sharing_the_database_admit_exactly_the_limit(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    limiters = [SlidingWindowLimiter(DatabaseCounterStore(engine)) for _ in range(4)]
    allowed: list[bool] = []
    lock = threading.Lock()

    def worker(lim: SlidingWindowLimiter) -> None:
        for _ in range(10):
            ok = lim.hit("shared", 25, 60, T0 + 1).allowed
            with lock:
                allowed.append(ok)

    threads = [threading.Thread(target=worker, args=(lim,)) for lim in limiters]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert allowed.count(True) == 25 and len(allowed) == 40


def test_a_429_carries_the_four_headers_and_a_problem_body(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    headers = bearer(login(client, world.b.emails["owner"]), world.b.store_id)  # Basic: 120
    for i in range(120):
        r = client.get("/api/v1/auth/me", headers=headers)
        assert r.status_code == 200, i
    assert r.headers["X-RateLimit-Limit"] == "120" and r.headers["X-RateLimit-Remaining"] == "0"
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 429
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "rate_limited" and body["status"] == 429
    assert r.headers["X-RateLimit-Limit"] == "120"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    retry = int(r.headers["Retry-After"])
    assert 0 < retry <= 120 and body["retry_after"] == retry
    assert int(r.headers["X-RateLimit-Reset"]) >= int(clock().timestamp()) + retry
    # Another user of the same store has their own budget.
    other = bearer(login(client, world.b.emails["manager"]), world.b.store_id)
    assert client.get("/api/v1/auth/me", headers=other).status_code == 200
    clock.advance(seconds=retry)
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_the_limit_follows_the_stores_plan(
    client: TestClient, app: FastAPI, world: World
) -> None:
    pro = client.get("/api/v1/store", headers=bearer(login(client, world.a.emails["owner"])))
    assert pro.headers["X-RateLimit-Limit"] == "300"
    basic = client.get("/api/v1/store", headers=bearer(login(client, world.b.emails["owner"])))
    assert basic.headers["X-RateLimit-Limit"] == "120"
    with db_session(app) as db:
        db.info["all_stores"] = True
        free = create_store(db, name="Free Shop", slug="free-shop", email="f@f.test",
                            plan="FREE")
        ent = create_store(db, name="Big Co", slug="big-co", email="b@b.test",
                           plan="ENTERPRISE")
        db.commit()
        ids = (free.id, ent.id)
    with app.state.session_factory() as db:
        set_current_store(db, ids[0])
        assert plan_service.plan_of(db, store_id=ids[0]).api_rate_limit == 60
        set_current_store(db, ids[1])
        assert plan_service.plan_of(db, store_id=ids[1]).api_rate_limit == 1000


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


@pytest.mark.parametrize("settings_overrides", [{"anonymous_rate_limit": 5}], indirect=True)
def test_unauthenticated_requests_are_limited_per_ip(client: TestClient) -> None:
    codes = [client.get("/api/v1/auth/me").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    r = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer stc_forged"})
    assert r.status_code == 429 and "Retry-After" in r.headers


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_store": "database"}],
                         indirect=True)
def test_the_database_store_is_shared_by_workers(
    app: FastAPI, settings: Settings, clock: FakeClock, world: World
) -> None:
    second = create_app(settings, clock=clock)  # another worker on the same database
    try:
        with TestClient(app) as one, TestClient(second) as two:
            token = login(one, world.b.emails["owner"])
            headers = bearer(token, world.b.store_id)
            codes = [(one if i % 2 else two).get("/api/v1/auth/me", headers=headers).status_code
                     for i in range(121)]
        assert codes.count(200) == 120 and codes[-1] == 429
    finally:
        second.state.engine.dispose()


# ---- plan limits ----------------------------------------------------------------------------


def _add(client: TestClient, headers: dict[str, str], n: int) -> Any:
    return client.post("/api/v1/staff", headers=headers, json={
        "email": f"staff{n}@x.test", "name": f"Staff {n}", "role": "VIEWER",
        "password": "Staff-Pass-123"})


def test_staff_limit_blocks_with_a_clear_message(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    r = _add(client, auth("b", "owner"), 1)  # Basic allows 3 and B has 3
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "plan_limit_reached" and body["resource"] == "STAFF"
    assert body["limit"] == 3 and body["used"] == 3
    assert "Basic plan allows 3 staff members" in body["detail"]


def test_staff_limit_warns_from_eighty_percent(
    client: TestClient, auth: Callable[..., dict[str, str]], world: World
) -> None:
    owner = auth("a", "owner")  # Pro allows 10 and A has 3
    warnings = [_add(client, owner, n).json()["plan_warning"] for n in range(7)]
    assert warnings[:4] == [None] * 4  # 4..7 of 10
    assert warnings[4] and "8/10 staff members used (80%" in warnings[4]
    assert "10/10" in warnings[6]
    assert _add(client, owner, 99).status_code == 403
    # Deactivating frees a seat; reactivating checks the limit again.
    staff = client.get("/api/v1/staff", headers=owner).json()
    viewer = next(s["user_id"] for s in staff if s["role"] == "VIEWER")
    assert client.delete(f"/api/v1/staff/{viewer}", headers=owner).status_code == 204
    assert _add(client, owner, 100).status_code == 201
    r = client.patch(f"/api/v1/staff/{viewer}", headers=owner, json={"is_active": True})
    assert r.status_code == 403 and r.json()["code"] == "plan_limit_reached"
    plan = client.get("/api/v1/store/plan", headers=owner).json()
    staff_limit = next(x for x in plan["limits"] if x["resource"] == "STAFF")
    assert staff_limit["state"] == "WARN" and staff_limit["used"] == 10


def test_pos_access_needs_a_plan_that_has_it(app: FastAPI, world: World,
                                             clock: FakeClock) -> None:
    with db_session(app) as db:
        db.info["all_stores"] = True
        free = create_store(db, name="Free Shop", slug="free-shop", email="f@f.test",
                            plan="FREE")
        db.commit()
        free_id = free.id
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        plan_service.require_pos_access(db, store_id=world.a.store_id, now=clock())
        with pytest.raises(PlanLimitReached, match="does not include POS") as exc:
            set_current_store(db, free_id)
            plan_service.require_pos_access(db, store_id=free_id, now=clock())
        assert exc.value.code == "pos_not_in_plan"
        # A Pro trial that ended more than 7 days ago is suspended: no selling.
        set_current_store(db, world.a.store_id)
        later = clock() + timedelta(days=14 + 7 + 1)
        with pytest.raises(PlanLimitReached) as exc:
            plan_service.require_pos_access(db, store_id=world.a.store_id, now=later)
        assert exc.value.code == "subscription_suspended"


def test_product_and_monthly_order_limits_are_counted_from_the_database(
    app: FastAPI, clock: FakeClock
) -> None:
    from decimal import Decimal

    from server.catalog.models import Product
    from server.orders.models import Order
    from stormcom_pos.domain.plans import LimitResource, LimitState

    with db_session(app) as db:
        db.info["all_stores"] = True
        free = create_store(db, name="Free Shop", slug="free-shop", email="f@f.test",
                            plan="FREE")
        for i in range(8):
            db.add(Product(store_id=free.id, name=f"P{i}", slug=f"p{i}"))
        db.add(Product(store_id=free.id, name="gone", slug="gone", deleted_at=clock()))
        last_month = clock().replace(day=1) - timedelta(days=1)
        for i, created in enumerate([clock()] * 49 + [last_month] * 5):
            db.add(Order(store_id=free.id, order_number=f"ORD-{i}", subtotal=Decimal(1),
                         total=Decimal(1), created_at=created))
        db.commit()
        store_id = free.id
    with app.state.session_factory() as db:
        set_current_store(db, store_id)
        check = plan_service.check(db, store_id=store_id, resource=LimitResource.PRODUCTS,
                                   now=clock())
        assert check.state is LimitState.WARN and check.used == 9  # 9/10: warn
        check = plan_service.check(db, store_id=store_id, resource=LimitResource.ORDERS,
                                   now=clock())
        assert check.used == 50 and check.state is LimitState.WARN  # last month's don't count
        with pytest.raises(PlanLimitReached, match="50 orders this month"):
            plan_service.check(db, store_id=store_id, resource=LimitResource.ORDERS,
                               now=clock(), adding=2)

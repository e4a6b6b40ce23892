"""Staff sign-in: credentials, lockout, per-IP limit, passwords, sessions (decisions §3, §4)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.config import Settings
from server.identity import auth_service, hashing
from server.identity import views as identity_views
from server.identity.hashing import hash_token
from server.identity.models import PasswordHistory, User, UserStatus
from server.identity.models import Session as AuthSession
from server.seed.operators import create_user
from tests.server.conftest import PASSWORD, World, bearer, db_session, login

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


def _try(client: TestClient, email: str, password: str) -> Any:
    return client.post(LOGIN, json={"email": email, "password": password})


def test_login_returns_an_opaque_token_stored_hashed_with_stores_and_roles(
    client: TestClient, app: FastAPI, world: World
) -> None:
    r = _try(client, "Owner@A.test ", PASSWORD)  # case and spaces do not matter
    assert r.status_code == 200
    body = r.json()
    token = body["token"]
    assert token.startswith("stc_") and len(token) >= 40
    assert body["user"]["email"] == "owner@a.test"
    assert [(s["id"], s["role"]) for s in body["stores"]] == [(world.a.store_id, "OWNER")]
    assert "staff.write" in body["stores"][0]["permissions"]
    with db_session(app) as db:
        row = db.scalar(select(AuthSession).where(AuthSession.id == body["session_id"]))
        assert row is not None
        assert row.session_token == hash_token(token) != token
        assert row.user_agent == "testclient"
    assert client.get(ME, headers=bearer(token)).json()["current_store_id"] == world.a.store_id


def test_failed_sign_in_never_reveals_whether_the_email_exists(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks: list[str] = []
    real = auth_service.verify_password

    def counting(password: str, hashed: str) -> bool:
        checks.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    unknown = _try(client, "nobody@nowhere.test", "Whatever-1")
    wrong = _try(client, world.a.emails["owner"], "Wrong-Password-1")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["code"] == "invalid_credentials"
    assert unknown.headers["content-type"] == "application/problem+json"
    # bcrypt ran for the unknown email too (against the dummy hash), so timing matches.
    assert len(checks) == 2 and all(h.startswith("$2b$") for h in checks)


def test_five_failures_in_fifteen_minutes_lock_the_account_for_fifteen_minutes(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email = world.a.emails["cashier"]
    generic = _try(client, "nobody@nowhere.test", "x").json()
    for _ in range(5):
        clock.advance(minutes=2)
        assert _try(client, email, "Wrong-Password-1").status_code == 401
    locked = _try(client, email, PASSWORD)  # the right password, but locked
    assert locked.status_code == 401 and locked.json() == generic
    clock.advance(minutes=14)
    assert _try(client, email, PASSWORD).status_code == 401
    clock.advance(minutes=1, seconds=1)
    assert _try(client, email, PASSWORD).status_code == 200
    with db_session(app) as db:
        actions = db.scalars(select(AuditLog.action).where(
            AuditLog.user_id == world.a.users["cashier"])).all()
    assert actions.count("login.failed") == 5
    assert "user.locked" in actions and "login.refused_locked" in actions


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    email = world.a.emails["cashier"]
    for _ in range(4):
        assert _try(client, email, "Wrong-Password-1").status_code == 401
    clock.advance(minutes=16)
    for _ in range(4):
        assert _try(client, email, "Wrong-Password-1").status_code == 401
    assert _try(client, email, PASSWORD).status_code == 200


def test_per_ip_login_limit_is_twenty_per_five_minutes(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    for i in range(20):
        assert _try(client, f"user{i}@x.test", "Wrong-Password-1").status_code == 401
    r = _try(client, world.a.emails["owner"], PASSWORD)
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    assert r.headers["X-RateLimit-Limit"] == "20"
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["Retry-After"]) > 0
    clock.advance(minutes=10)
    assert _try(client, world.a.emails["owner"], PASSWORD).status_code == 200


def test_inactive_user_gets_the_same_generic_answer(
    client: TestClient, app: FastAPI, world: World
) -> None:
    with db_session(app) as db:
        user = db.get(User, world.a.users["cashier"])
        user.status = UserStatus.SUSPENDED
        db.commit()
    r = _try(client, world.a.emails["cashier"], PASSWORD)
    assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"


def test_bcrypt_runs_off_the_event_loop_and_production_cost_is_12() -> None:
    assert not inspect.iscoroutinefunction(identity_views.login)  # run in the thread pool
    assert not inspect.iscoroutinefunction(identity_views.change_password)
    assert hashing.BCRYPT_COST == 12
    assert Settings(database_url="sqlite://").bcrypt_cost == 12


def _change(client: TestClient, token: str, current: str, new: str) -> Any:
    return client.post("/api/v1/auth/password", headers=bearer(token),
                       json={"current_password": current, "new_password": new})


def test_password_change_enforces_policy_and_the_last_five(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    token = login(client, world.a.emails["manager"])
    weak = _change(client, token, PASSWORD, "short")
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"
    assert len(weak.json()["failures"]) >= 3
    wrong = _change(client, token, "Not-The-Password-1", "Brand-New-Pass-1")
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    same = _change(client, token, PASSWORD, PASSWORD)
    assert same.status_code == 422 and same.json()["code"] == "password_reused"

    passwords = [PASSWORD] + [f"Rotation-{i}-Pass!" for i in range(1, 6)]
    for old, new in zip(passwords, passwords[1:], strict=False):
        clock.advance(days=1)
        assert _change(client, token, old, new).status_code == 204
    current = passwords[-1]
    # The last five passwords (the current one included) are refused...
    for reused in passwords[-5:]:
        r = _change(client, token, current, reused)
        assert r.status_code == 422 and r.json()["code"] == "password_reused", reused
    # ...the sixth-newest is allowed again.
    assert _change(client, token, current, passwords[0]).status_code == 204
    assert _try(client, world.a.emails["manager"], passwords[0]).status_code == 200
    with db_session(app) as db:
        hashes = db.scalars(select(PasswordHistory.password_hash).where(
            PasswordHistory.user_id == world.a.users["manager"])).all()
    assert PASSWORD not in hashes and all(h.startswith("$2b$") for h in hashes)


def test_password_change_signs_out_other_sessions(client: TestClient, world: World) -> None:
    first = login(client, world.a.emails["manager"])
    second = login(client, world.a.emails["manager"])
    assert _change(client, first, PASSWORD, "Brand-New-Pass-1").status_code == 204
    assert client.get(ME, headers=bearer(first)).status_code == 200
    assert client.get(ME, headers=bearer(second)).status_code == 401


def test_idle_expiry_after_seven_days_unused(client: TestClient, world: World,
                                             clock: FakeClock) -> None:
    token = login(client, world.a.emails["owner"])
    clock.advance(days=6, hours=23)
    assert client.get(ME, headers=bearer(token)).status_code == 200  # use renews idle time
    clock.advance(days=6, hours=23)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    clock.advance(days=7, seconds=1)
    r = client.get(ME, headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"


def test_absolute_expiry_after_thirty_days_even_when_used(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    token = login(client, world.a.emails["owner"])
    for _ in range(4):  # day 24
        clock.advance(days=6)
        assert client.get(ME, headers=bearer(token)).status_code == 200
    r = client.post("/api/v1/auth/refresh", headers=bearer(token))  # refresh does not extend it
    assert r.status_code == 200
    token = r.json()["token"]
    clock.advance(days=5, hours=23)
    assert client.get(ME, headers=bearer(token)).status_code == 200
    clock.advance(hours=1, seconds=1)
    assert client.get(ME, headers=bearer(token)).status_code == 401


def test_refresh_rotates_the_token(client: TestClient, world: World) -> None:
    old = login(client, world.a.emails["owner"])
    r = client.post("/api/v1/auth/refresh", headers=bearer(old))
    assert r.status_code == 200
    new = r.json()["token"]
    assert new != old
    assert client.get(ME, headers=bearer(old)).status_code == 401
    assert client.get(ME, headers=bearer(new)).status_code == 200


def test_list_and_revoke_sessions(client: TestClient, app: FastAPI, world: World) -> None:
    email = world.a.emails["owner"]
    phone = login(client, email, **{"User-Agent": "StormCom iOS"})
    laptop = login(client, email, **{"User-Agent": "Firefox"})
    tablet = login(client, email, **{"User-Agent": "Tablet"})
    r = client.get("/api/v1/auth/sessions", headers=bearer(laptop))
    assert r.status_code == 200
    sessions = r.json()
    assert {s["user_agent"] for s in sessions} == {"StormCom iOS", "Firefox", "Tablet"}
    assert [s["current"] for s in sessions].count(True) == 1
    assert all(s["ip_address"] == "testclient" and s["last_active_at"] for s in sessions)

    phone_id = next(s["id"] for s in sessions if s["user_agent"] == "StormCom iOS")
    assert client.delete(f"/api/v1/auth/sessions/{phone_id}",
                         headers=bearer(laptop)).status_code == 204
    assert client.get(ME, headers=bearer(phone)).status_code == 401
    assert client.get(ME, headers=bearer(tablet)).status_code == 200

    r = client.post("/api/v1/auth/sessions/revoke-others", headers=bearer(laptop))
    assert r.status_code == 200 and r.json() == {"revoked": 1}
    assert client.get(ME, headers=bearer(tablet)).status_code == 401
    assert client.get(ME, headers=bearer(laptop)).status_code == 200

    # Somebody else's session id is not found (not "forbidden").
    other = login(client, world.a.emails["cashier"])
    other_id = client.get("/api/v1/auth/sessions", headers=bearer(other)).json()[0]["id"]
    r = client.delete(f"/api/v1/auth/sessions/{other_id}", headers=bearer(laptop))
    assert r.status_code == 404
    assert client.get(ME, headers=bearer(other)).status_code == 200


def test_logout_kills_the_token_and_is_audited(
    client: TestClient, app: FastAPI, world: World
) -> None:
    token = login(client, world.a.emails["owner"])
    assert client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get(ME, headers=bearer(token)).status_code == 401
    with db_session(app) as db:
        row = db.scalar(select(AuditLog).where(AuditLog.action == "logout"))
    assert row is not None
    assert row.user_id == world.a.users["owner"]
    assert row.ip_address == "testclient" and row.user_agent == "testclient"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer nope", "Basic abc", "Bearer stc_bad"])
def test_missing_or_bad_token_is_401(client: TestClient, world: World, header: str) -> None:
    r = client.get(ME, headers={"Authorization": header} if header else {})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert r.json()["code"] == "unauthenticated"


def test_store_comes_from_membership_never_from_a_trusted_field(
    client: TestClient, app: FastAPI, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    # One membership: that store without any header.
    token = login(client, world.b.emails["manager"])
    assert client.get("/api/v1/store", headers=bearer(token)).json()["id"] == world.b.store_id
    # Naming a store the user is not staff of is refused, whatever the header says.
    r = client.get("/api/v1/store", headers=bearer(token, world.a.store_id))
    assert r.status_code == 403 and r.json()["code"] == "store_access_denied"
    assert world.a.name not in r.text
    # Two memberships: the header picks one, and without it the request must choose.
    r = client.post("/api/v1/staff", headers=auth("a", "owner"), json={
        "email": world.b.emails["manager"], "name": "x", "role": "VIEWER"})
    assert r.status_code == 409 and r.json()["code"] == "email_in_use"  # not A's to link
    assert world.b.users["manager"] not in r.text and "Bravo" not in r.text
    with db_session(app) as db:  # the platform operator links the account
        create_user(db, email=world.b.emails["manager"], name="x", password=PASSWORD,
                    store_slug=world.a.slug, role="VIEWER")
        db.commit()
    r = client.get("/api/v1/store", headers=bearer(token))
    assert r.status_code == 400 and r.json()["code"] == "store_required"
    r = client.get("/api/v1/store", headers=bearer(token, world.a.store_id))
    assert r.json()["id"] == world.a.store_id
    me = client.get(ME, headers=bearer(token, world.a.store_id)).json()
    assert me["role"] == "VIEWER" and "staff.write" not in me["permissions"]

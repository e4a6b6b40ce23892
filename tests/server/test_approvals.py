"""Manager approval at the till, POS PINs and PIN sign-in at a paired terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.identity import approvals_service
from server.identity.hashing import verify_password
from server.identity.models import User
from tests.server.conftest import PASSWORD, World, bearer, db_session, login
from tests.server.security_helpers import (
    API,
    device_headers,
    pair_terminal,
    service_session,
    set_pin,
    user_by_email,
)

APPROVALS = f"{API}/pos/approvals"
PIN_LOGIN = f"{API}/pos/pin-login"
Auth = Callable[[str, str], dict[str, str]]


def _ask(client: TestClient, headers: dict[str, str], approver: str, secret: str,
         permission: str = "pos.price_override") -> Response:
    return client.post(APPROVALS, headers=headers, json={
        "permission": permission, "action": "price_override", "reason": "damaged box",
        "approver": approver, "secret": secret,
        "context": {"variant_id": "v1", "old_price": "19.99", "new_price": "14.99"},
    })


def test_set_and_change_my_pin(client: TestClient, app: FastAPI, world: World) -> None:
    headers = bearer(login(client, world.a.emails["cashier"]))
    url = f"{API}/auth/pin"
    r = client.put(url, json={"pin": "4821", "current_password": "wrong"}, headers=headers)
    assert r.status_code == 403
    for weak in ("1111", "1234", "98765"):
        r = client.put(url, json={"pin": weak, "current_password": PASSWORD}, headers=headers)
        assert r.status_code == 422 and r.json()["code"] == "pin_too_simple", weak
    assert client.put(url, json={"pin": "12a4", "current_password": PASSWORD},
                      headers=headers).status_code == 422
    assert client.put(url, json={"pin": "4821", "current_password": PASSWORD},
                      headers=headers).status_code == 204
    assert client.put(url, json={"pin": "730519", "current_password": PASSWORD},
                      headers=headers).status_code == 204
    with db_session(app) as db:
        user = user_by_email(db, world.a.emails["cashier"])
        assert user.pos_pin_hash and user.pos_pin_hash.startswith("$2b$04$")
        assert verify_password("730519", user.pos_pin_hash)
        actions = db.scalars(select(AuditLog.action).where(AuditLog.entity_id == user.id)).all()
        assert {"pos_pin.set", "pos_pin.change"} <= set(actions)
    assert client.delete(url, headers=headers).status_code == 204
    with db_session(app) as db:
        assert user_by_email(db, world.a.emails["cashier"]).pos_pin_hash is None


def test_a_manager_approves_a_cashiers_price_override_with_their_pin(
    client: TestClient, app: FastAPI, world: World, auth: Auth, clock: FakeClock
) -> None:
    set_pin(app, world.a.emails["manager"], "2468")
    cashier = auth("a", "cashier")
    r = _ask(client, cashier, world.a.emails["manager"], "2468")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["approval_token"].startswith("sap_")
    assert body["approver_id"] == world.a.users["manager"]
    with db_session(app) as db:
        row = db.scalar(select(AuditLog).where(AuditLog.entity_id == body["approval_id"]))
        assert row is not None and row.action == "approval.grant"
        assert row.store_id == world.a.store_id and row.user_id == world.a.users["manager"]
        snap = row.after_snapshot or {}
        assert snap["permission"] == "pos.price_override" and snap["reason"] == "damaged box"
        assert snap["requester_id"] == world.a.users["cashier"]
        assert snap["context"]["new_price"] == "14.99"
    # The action's service spends the token once, for that permission, store and requester.
    url = str(app.state.settings.database_url)
    with service_session(url, world.a.store_id) as db:
        for kwargs in ({"permission": "pos.refund"}, {"store_id": world.b.store_id},
                       {"requester_id": world.a.users["owner"]}):
            args = {"token": body["approval_token"], "store_id": world.a.store_id,
                    "permission": "pos.price_override", "now": clock.now,
                    "requester_id": world.a.users["cashier"], **kwargs}
            with pytest.raises(approvals_service.ApprovalInvalid):
                approvals_service.consume(db, **args)  # type: ignore[arg-type]
            db.rollback()
        grant = approvals_service.consume(
            db, token=body["approval_token"], store_id=world.a.store_id,
            permission="pos.price_override", now=clock.now,
            requester_id=world.a.users["cashier"])
        assert grant.approver_id == world.a.users["manager"] and grant.reason == "damaged box"
        with pytest.raises(approvals_service.ApprovalInvalid):
            approvals_service.consume(db, token=body["approval_token"],
                                      store_id=world.a.store_id,
                                      permission="pos.price_override", now=clock.now)
    # An approval lapses after 5 minutes; the password works as well as the PIN.
    r = _ask(client, cashier, world.a.emails["manager"], PASSWORD, "pos.no_sale")
    token = r.json()["approval_token"]
    with service_session(url, world.a.store_id) as db, pytest.raises(
            approvals_service.ApprovalInvalid):
        approvals_service.consume(db, token=token, store_id=world.a.store_id,
                                  permission="pos.no_sale", now=clock.now + timedelta(minutes=5))


def test_who_may_approve(client: TestClient, app: FastAPI, world: World, auth: Auth) -> None:
    for email in (world.a.emails["cashier"], world.a.emails["manager"],
                  world.b.emails["manager"]):
        set_pin(app, email, "5791")
    cashier = auth("a", "cashier")
    # Another cashier lacks the permission.
    set_pin(app, world.a.emails["owner"], "5791")
    r = _ask(client, auth("a", "manager"), world.a.emails["cashier"], "5791")
    assert r.status_code == 403 and r.json()["code"] == "approver_lacks_permission"
    # Nobody approves their own request.
    r = _ask(client, auth("a", "manager"), world.a.emails["manager"], "5791")
    assert r.status_code == 403 and r.json()["code"] == "approver_not_allowed"
    # A manager of another store is not an approver here.
    r = _ask(client, cashier, world.b.emails["manager"], "5791")
    assert r.status_code == 403 and r.json()["code"] == "approval_refused"
    # Only POS approval permissions can be granted this way.
    r = _ask(client, cashier, world.a.emails["manager"], "5791", "billing.manage")
    assert r.status_code == 422
    # A terminal itself cannot ask: approvals are requested by a signed-in seller.
    terminal = pair_terminal(client, auth("a", "manager"))
    assert _ask(client, device_headers(terminal["token"]), world.a.emails["manager"], "5791"
                ).status_code == 403
    assert _ask(client, auth("a", "owner"), world.a.emails["manager"], "5791"
                ).status_code == 201


def test_wrong_pins_lock_the_approver_out(
    client: TestClient, app: FastAPI, world: World, auth: Auth, clock: FakeClock
) -> None:
    set_pin(app, world.a.emails["manager"], "8642")
    cashier = auth("a", "cashier")
    for guess in ("1357", "2468", "9753", "1470", "3690"):
        r = _ask(client, cashier, world.a.emails["manager"], guess)
        assert r.status_code == 403
    r = _ask(client, cashier, world.a.emails["manager"], "8642")
    assert r.status_code == 403  # locked, even with the right PIN
    with db_session(app) as db:
        manager = db.scalar(select(User).where(User.id == world.a.users["manager"]))
        assert manager is not None and manager.locked_until is not None
        failed = db.scalars(select(AuditLog).where(AuditLog.action == "approval.failed")).all()
        assert len(failed) == 6 and all(f.store_id == world.a.store_id for f in failed)
    clock.advance(minutes=16)
    assert _ask(client, cashier, world.a.emails["manager"], "8642"
                ).status_code == 201


def test_pin_sign_in_at_a_paired_terminal(
    client: TestClient, app: FastAPI, world: World, auth: Auth, clock: FakeClock
) -> None:
    set_pin(app, world.a.emails["cashier"], "3141")
    set_pin(app, world.b.emails["cashier"], "3141")
    terminal = pair_terminal(client, auth("a", "manager"))
    till = device_headers(terminal["token"])
    # Only from a terminal: a user session may not.
    r = client.post(PIN_LOGIN, json={"user": world.a.emails["cashier"], "pin": "3141"},
                    headers=auth("a", "manager"))
    assert r.status_code == 403
    r = client.post(PIN_LOGIN, json={"user": world.a.emails["cashier"], "pin": "3141"},
                    headers=till)
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["user"]["id"] == world.a.users["cashier"]
    expires = session["expires_at"].replace("Z", "+00:00")
    assert datetime.fromisoformat(expires) <= clock.now + timedelta(hours=12)
    me = client.get(f"{API}/auth/me", headers=bearer(session["token"], world.a.store_id))
    assert me.status_code == 200 and me.json()["role"] == "CASHIER"
    # By user id too; staff of another store cannot sign in at this till.
    r = client.post(PIN_LOGIN, json={"user": world.a.users["cashier"], "pin": "3141"},
                    headers=till)
    assert r.status_code == 200
    r = client.post(PIN_LOGIN, json={"user": world.b.emails["cashier"], "pin": "3141"},
                    headers=till)
    assert r.status_code == 401
    # Five wrong PINs lock the account, and the lock holds for the password too.
    for _ in range(5):
        r = client.post(PIN_LOGIN, json={"user": world.a.emails["cashier"], "pin": "0000"},
                        headers=till)
        assert r.status_code == 401 and r.json()["code"] == "invalid_credentials"
    r = client.post(PIN_LOGIN, json={"user": world.a.emails["cashier"], "pin": "3141"},
                    headers=till)
    assert r.status_code == 401  # locked
    r = client.post(f"{API}/auth/login", json={"email": world.a.emails["cashier"],
                                                "password": PASSWORD})
    assert r.status_code == 401
    with db_session(app) as db:
        rows = db.scalars(select(AuditLog).where(AuditLog.action.in_(
            ["login.pin", "login.pin_failed"]))).all()
        assert sorted({r.action for r in rows}) == ["login.pin", "login.pin_failed"]
        assert all(r.device_id == terminal["device_id"] for r in rows
                   if r.store_id == world.a.store_id)

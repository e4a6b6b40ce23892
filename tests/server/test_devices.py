"""Terminals: pairing codes, enrolment, credentials, access tokens, revocation and tenancy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.errors import PlanLimitReached
from server.identity.hashing import hash_token
from server.identity.principal import Principal
from server.pos import devices_service
from server.pos.models import Device, DeviceToken
from server.seed.operators import create_store
from tests.server.conftest import World, db_session
from tests.server.security_helpers import API, device_headers, pair_terminal, service_session

DEVICES = f"{API}/devices"
Auth = Callable[[str, str], dict[str, str]]


def test_pair_enrol_token_and_use_a_terminal(
    client: TestClient, app: FastAPI, world: World, auth: Auth
) -> None:
    manager = auth("a", "manager")
    r = client.post(f"{DEVICES}/pairing-codes", json={"name": "Front till"}, headers=manager)
    assert r.status_code == 201, r.text
    code = r.json()["pairing_code"]
    assert code.startswith("AAA-") and len(code.replace("-", "")) == 11
    listed = client.get(DEVICES, headers=manager).json()
    assert [(d["name"], d["state"]) for d in listed] == [("Front till", "PENDING")]

    r = client.post(f"{DEVICES}/enrol", json={"pairing_code": code.lower(), "app_version": "2.1"})
    assert r.status_code == 201, r.text
    enrolled = r.json()
    assert enrolled["store_id"] == world.a.store_id
    credential = enrolled["credential"]
    assert credential.startswith(f"sdc_{world.a.store_id}.")
    # The code is single use.
    r = client.post(f"{DEVICES}/enrol", json={"pairing_code": code})
    assert r.status_code == 400 and r.json()["code"] == "pairing_code_invalid"

    r = client.post(f"{DEVICES}/token", json={"credential": credential})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert token.startswith("std_") and r.json()["expires_in"] == 15 * 60
    me = client.get(f"{DEVICES}/me", headers=device_headers(token))
    assert me.status_code == 200 and me.json()["id"] == enrolled["device_id"]
    assert me.json()["state"] == "ACTIVE" and me.json()["app_version"] == "2.1"
    # A terminal is not a manager, nor a signed-in user.
    assert client.get(DEVICES, headers=device_headers(token)).status_code == 403
    assert client.get(f"{API}/auth/me", headers=device_headers(token)).status_code == 403

    with db_session(app) as db:
        device = db.scalar(select(Device).where(Device.id == enrolled["device_id"]))
        assert device is not None
        assert device.credential_hash == hash_token(credential)
        assert device.pairing_code_hash is None and device.paired_at is not None
        stored = db.scalars(select(DeviceToken.token_hash)).all()
        assert stored == [hash_token(token)]
        actions = db.scalars(select(AuditLog.action).where(
            AuditLog.entity_id == device.id).order_by(AuditLog.created_at)).all()
        assert set(actions) == {"device.create", "device.enrol"}


def test_revoking_a_device_stops_its_credential_and_tokens_at_once(
    client: TestClient, app: FastAPI, world: World, auth: Auth
) -> None:
    manager = auth("a", "manager")
    t = pair_terminal(client, manager)
    assert client.get(f"{DEVICES}/me", headers=device_headers(t["token"])).status_code == 200
    r = client.post(f"{DEVICES}/{t['device_id']}/revoke", json={"reason": "stolen"},
                    headers=manager)
    assert r.status_code == 200 and r.json()["state"] == "REVOKED"
    assert client.get(f"{DEVICES}/me", headers=device_headers(t["token"])).status_code == 401
    r = client.post(f"{DEVICES}/token", json={"credential": t["credential"]})
    assert r.status_code == 401 and r.json()["code"] == "device_credential_invalid"
    assert client.post(f"{DEVICES}/{t['device_id']}/revoke", headers=manager).status_code == 409
    with db_session(app) as db:
        assert db.scalars(select(DeviceToken)).all() == []
        row = db.scalar(select(AuditLog).where(AuditLog.action == "device.revoke"))
        assert row is not None and row.after_snapshot is not None
        assert row.after_snapshot["reason"] == "stolen"
        assert row.user_id == world.a.users["manager"]
    # Re-pairing the same terminal keeps its number and gives it a new credential.
    r = client.post(f"{DEVICES}/pairing-codes", headers=manager,
                    json={"name": "Till 9 (new box)", "device_id": t["device_id"]})
    assert r.status_code == 201
    number = r.json()["terminal_number"]
    enrolled = client.post(f"{DEVICES}/enrol", json={"pairing_code": r.json()["pairing_code"]})
    assert enrolled.status_code == 201
    assert enrolled.json()["terminal_number"] == number
    assert client.post(f"{DEVICES}/token", json={"credential": t["credential"]}).status_code == 401


def test_tokens_and_codes_expire(
    client: TestClient, world: World, auth: Auth, clock: FakeClock
) -> None:
    manager = auth("a", "owner")
    t = pair_terminal(client, manager)
    clock.advance(minutes=15)
    assert client.get(f"{DEVICES}/me", headers=device_headers(t["token"])).status_code == 401
    fresh = client.post(f"{DEVICES}/token", json={"credential": t["credential"]})
    assert fresh.status_code == 200
    assert client.get(f"{DEVICES}/me", headers=device_headers(
        fresh.json()["access_token"])).status_code == 200

    r = client.post(f"{DEVICES}/pairing-codes", headers=manager,
                    json={"name": "Back till", "expires_in_minutes": 15})
    clock.advance(minutes=15)
    late = client.post(f"{DEVICES}/enrol", json={"pairing_code": r.json()["pairing_code"]})
    assert late.status_code == 400
    listed = {d["name"]: d["state"] for d in client.get(DEVICES, headers=manager).json()}
    assert listed["Back till"] == "EXPIRED"
    for minutes in (14, 24 * 60 + 1):
        r = client.post(f"{DEVICES}/pairing-codes", headers=manager,
                        json={"name": "x", "expires_in_minutes": minutes})
        assert r.status_code == 422


def test_forged_or_foreign_tokens_are_refused(
    client: TestClient, world: World, auth: Auth
) -> None:
    t = pair_terminal(client, auth("a", "manager"))
    secret = t["token"].split(".", 1)[1]
    for bad in (f"std_{world.b.store_id}.{secret}", f"std_{secret}", t["token"] + "x",
                "std_" + "a" * 40 + ".x"):
        assert client.get(f"{DEVICES}/me", headers=device_headers(bad)).status_code == 401
    cred_secret = t["credential"].split(".", 1)[1]
    r = client.post(f"{DEVICES}/token",
                    json={"credential": f"sdc_{world.b.store_id}.{cred_secret}"})
    assert r.status_code == 401
    assert client.post(f"{DEVICES}/enrol", json={"pairing_code": "BBB-ABCD-EFGH"}
                       ).status_code == 400


def test_managers_see_and_revoke_only_their_own_stores_devices(
    client: TestClient, world: World, auth: Auth
) -> None:
    b_device = pair_terminal(client, auth("b", "manager"))
    a_manager = auth("a", "manager")
    a_device = pair_terminal(client, a_manager)
    assert [d["id"] for d in client.get(DEVICES, headers=a_manager).json()] == [
        a_device["device_id"]]
    assert client.get(f"{DEVICES}/{b_device['device_id']}", headers=a_manager).status_code == 404
    r = client.post(f"{DEVICES}/{b_device['device_id']}/revoke", headers=a_manager)
    assert r.status_code == 404
    r = client.post(f"{DEVICES}/pairing-codes", headers=a_manager,
                    json={"name": "steal", "device_id": b_device["device_id"]})
    assert r.status_code == 404
    # B's device still works; a device of A never sees B's store even if it asks.
    assert client.get(f"{DEVICES}/me", headers=device_headers(b_device["token"])).status_code \
        == 200
    headers = {**device_headers(a_device["token"]), "X-Store-Id": world.b.store_id}
    me = client.get(f"{DEVICES}/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == a_device["device_id"]
    # Only devices.manage may pair: a cashier may not.
    r = client.post(f"{DEVICES}/pairing-codes", json={"name": "x"}, headers=auth("a", "cashier"))
    assert r.status_code == 403


def test_service_level_bare_code_plan_gate_and_principal(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    now = clock.now
    actor = Principal(kind="user", user_id=world.a.users["owner"], store_id=world.a.store_id)
    with service_session(url, world.a.store_id) as db:
        from server.stores.models import Store

        store = db.scalar(select(Store).where(Store.id == world.a.store_id))
        assert store is not None
        pairing = devices_service.create_pairing(db, actor=actor, store=store, name="T",
                                                 now=now, lifetime=timedelta(hours=1))
        db.commit()
    bare = pairing.code.split("-", 1)[1]  # XXXX-XXXX without the store code
    with service_session(url) as db:
        enrolled = devices_service.enrol(db, code=bare, now=now)
        assert enrolled.device.store_id == world.a.store_id
        issued = devices_service.issue_access_token(db, credential=enrolled.credential, now=now,
                                                    lifetime=timedelta(minutes=5))
        db.commit()
    with service_session(url) as db:
        principal = devices_service.authenticate_device_token(db, issued.token, now)
        assert principal is not None and principal.kind == "device"
        assert principal.store_id == world.a.store_id and principal.rate_limit == 300
        assert devices_service.authenticate_device_token(
            db, issued.token, now + timedelta(minutes=5)) is None
    # A store on the Free plan has no POS terminals.
    with service_session(url) as db:
        db.info["all_stores"] = True  # an operator job
        free = create_store(db, name="Free", slug="free-shop", email="f@f.test", plan="FREE",
                            now=now)
        db.info.update(all_stores=False, store_id=free.id)
        with pytest.raises(PlanLimitReached):
            devices_service.create_pairing(db, actor=actor, store=free, name="T", now=now,
                                           lifetime=timedelta(hours=1))

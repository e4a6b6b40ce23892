"""Audit: every mutation leaves a row (enforced at commit), and the filtered, paged list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from server.api.deps import SessionDep, require_permission
from server.audit import service as audit_service
from server.audit.models import AuditLog
from server.identity.models import UserStore
from server.identity.principal import Principal
from server.pos.models import Device
from tests.server.conftest import World, db_session


def test_a_mutation_records_actor_store_entity_snapshots_ip_and_user_agent(
    client: TestClient, app: FastAPI, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    headers = auth("a", "owner") | {"User-Agent": "BackOffice/1.0"}
    r = client.patch("/api/v1/store", headers=headers, json={"name": "Alpha Prime",
                                                              "settings": {"idle_lock": 5}})
    assert r.status_code == 200
    with db_session(app) as db:
        row = db.scalar(select(AuditLog).where(AuditLog.action == "store.update"))
    assert row is not None
    assert (row.store_id, row.user_id, row.actor_email) == (
        world.a.store_id, world.a.users["owner"], world.a.emails["owner"])
    assert (row.entity_type, row.entity_id) == ("store", world.a.store_id)
    assert row.before_snapshot["name"] == "Alpha Mart"
    assert row.after_snapshot["name"] == "Alpha Prime"
    assert row.after_snapshot["settings"] == {"idle_lock": 5}
    assert row.ip_address == "testclient" and row.user_agent == "BackOffice/1.0"


def test_snapshots_never_hold_secrets(
    client: TestClient, app: FastAPI, auth: Callable[..., dict[str, str]]
) -> None:
    r = client.post("/api/v1/staff", headers=auth("a", "owner"), json={
        "email": "new@a.test", "name": "New", "role": "CASHIER", "password": "New-Pass-1234"})
    assert r.status_code == 201
    with db_session(app) as db:
        row = db.scalar(select(AuditLog).where(AuditLog.action == "user.create"))
    assert row is not None and row.after_snapshot["email"] == "new@a.test"
    assert "password" not in row.after_snapshot and "$2b$" not in str(row.after_snapshot)


def _unaudited_route(app: FastAPI, *, audited: bool) -> None:
    def write(db: SessionDep, actor: Annotated[Principal, require_permission("devices.manage")]
              ) -> dict[str, str]:
        device = Device(name="written", terminal_number=42)
        db.add(device)
        db.flush()
        if audited:
            audit_service.record(db, actor=actor, action="device.create", entity_type="device",
                                 entity_id=device.id)
        return {"id": device.id}

    app.router.add_api_route("/test/write", write, methods=["POST"])


def test_a_bulk_statement_without_an_audit_row_fails_too(
    app: FastAPI, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    def rename(db: SessionDep, _: Annotated[Principal, require_permission("settings.write")]
               ) -> dict[str, str]:
        db.execute(update(UserStore).values(is_active=False))
        return {}

    app.router.add_api_route("/test/bulk", rename, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/test/bulk", headers=auth("a", "owner"))
    assert r.status_code == 500
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(UserStore)
                         .where(UserStore.is_active.is_(False))) == 0


@pytest.mark.parametrize("audited", [True, False])
def test_a_write_without_an_audit_row_fails_and_rolls_back(
    app: FastAPI, world: World, auth: Callable[..., dict[str, str]], audited: bool
) -> None:
    _unaudited_route(app, audited=audited)
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = auth("a", "owner")
        r = client.post("/test/write", headers=headers)
    with db_session(app) as db:
        written = db.scalar(select(func.count()).select_from(Device)
                            .where(Device.name == "written"))
    if audited:
        assert r.status_code == 200 and written == 1
    else:
        assert r.status_code == 500 and r.json()["code"] == "internal_error"
        assert "Device" not in r.text  # no internals in the answer
        assert written == 0


def test_list_is_filtered_paged_and_needs_audit_read(
    client: TestClient, app: FastAPI, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    owner = auth("a", "owner")
    for i in range(25):
        assert client.patch("/api/v1/store", headers=owner,
                            json={"phone": f"+1555{i:04d}"}).status_code == 200
    manager = auth("a", "manager")
    client.patch(f"/api/v1/staff/{world.a.users['cashier']}", headers=owner,
                 json={"role": "STAFF"})
    b_owner = auth("b", "owner")
    client.patch("/api/v1/store", headers=b_owner, json={"phone": "+15559999"})

    url = "/api/v1/audit-logs"
    page1 = client.get(url, headers=manager).json()
    assert page1["page_size"] == 20 and len(page1["items"]) == 20
    assert page1["total"] == 26  # B's row is not A's
    assert all(i["store_id"] == world.a.store_id for i in page1["items"])
    page2 = client.get(url, headers=manager, params={"page": 2}).json()
    assert len(page2["items"]) == 6
    assert not {i["id"] for i in page1["items"]} & {i["id"] for i in page2["items"]}
    assert len(client.get(url, headers=manager, params={"page_size": 100}).json()["items"]) == 26
    r = client.get(url, headers=manager, params={"page_size": 101})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "page_size"

    by_action = client.get(url, headers=manager, params={"action": "staff.update"}).json()
    assert by_action["total"] == 1
    assert by_action["items"][0]["after_snapshot"]["role"] == "STAFF"
    by_entity = client.get(url, headers=manager, params={
        "entity_type": "staff", "entity_id": world.a.users["cashier"]}).json()
    assert by_entity["total"] == 1
    by_user = client.get(url, headers=manager, params={"user_id": world.a.users["owner"]})
    assert by_user.json()["total"] == 26
    assert client.get(url, headers=manager, params={
        "user_id": world.a.users["manager"]}).json()["total"] == 0
    now = datetime.now(UTC)
    assert client.get(url, headers=manager, params={
        "since": (now - timedelta(hours=1)).isoformat()}).json()["total"] == 26
    assert client.get(url, headers=manager, params={
        "until": (now - timedelta(hours=1)).isoformat()}).json()["total"] == 0
    assert client.get(url, headers=manager, params={
        "since": (now + timedelta(hours=1)).isoformat()}).json()["total"] == 0
    newest = page1["items"][0]["created_at"]
    assert newest >= page1["items"][-1]["created_at"]

    r = client.get(url, headers=auth("a", "cashier"))
    assert r.status_code == 403 and r.json()["permission"] == "audit.read"


def test_audit_rows_cannot_be_changed_through_the_orm(app: FastAPI, world: World) -> None:
    from server.audit.models import AuditLogImmutableError

    with db_session(app) as db:
        row = AuditLog(store_id=world.a.store_id, actor_email="system", action="x",
                       entity_type="y")
        db.add(row)
        db.commit()
        row.action = "changed"
        with pytest.raises(AuditLogImmutableError):
            db.commit()

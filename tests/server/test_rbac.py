"""RBAC: one named-permission dependency on every route, roles per store, super-admin reads."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.api.deps import SELF, route_access
from server.app import create_app
from server.audit.models import AuditLog
from server.clock import FakeClock
from server.config import Settings
from server.db.tenancy import set_current_store
from server.errors import Conflict
from server.identity import staff_service
from server.identity.permissions import ALL_PERMISSIONS
from server.identity.principal import Principal, RequestMeta
from tests.server.conftest import World, bearer, db_session, login

# Operations endpoints for load balancers: no token, no per-IP limit.
OPS = {("GET", "/health"), ("GET", "/ready")}


def api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    out = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            for method in sorted(ctx.methods or ()):
                out.append((method, str(ctx.path), route))
    return out


def test_every_route_checks_exactly_one_named_permission_or_is_marked_public() -> None:
    app = create_app(Settings(database_url="sqlite://", bcrypt_cost=4))
    routes = api_routes(app)
    assert len(routes) > 15
    public = set()
    for method, path, route in routes:
        perms, is_public = route_access(route.dependant)
        if (method, path) in OPS:
            assert not perms and not is_public
            continue
        if is_public:
            assert not perms, f"{method} {path} is public (IpLimited) but checks {perms}"
            public.add((method, path))
            continue
        assert len(perms) == 1, f"{method} {path} must check one permission, has {perms}"
        perm = next(iter(perms))
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", perm), f"{method} {path}: {perm}"
        assert perm == SELF or perm in ALL_PERMISSIONS or perm.startswith(("device", "pos.")), \
            f"{method} {path}: {perm} is no known permission"
    assert ("POST", "/api/v1/auth/login") in public
    # The published document agrees: every protected operation asks for the bearer token.
    doc = app.openapi()
    for method, path, _route in routes:
        op = doc["paths"].get(path, {}).get(method.lower())
        if op is None:
            continue
        assert ("security" in op) == ((method, path) not in public | OPS), (method, path)


def test_permissions_follow_the_role_in_the_store(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    cashier, manager, owner = auth("a", "cashier"), auth("a", "manager"), auth("a", "owner")
    r = client.get("/api/v1/staff", headers=cashier)
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied" and r.json()["permission"] == "staff.read"
    assert client.get("/api/v1/audit-logs", headers=cashier).status_code == 403
    assert client.get("/api/v1/staff", headers=manager).status_code == 200
    assert client.patch("/api/v1/store", headers=manager, json={"name": "M"}).status_code == 403
    assert client.patch("/api/v1/store", headers=owner, json={"name": "O"}).status_code == 200


def test_a_role_change_applies_on_the_next_request(
    client: TestClient, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    owner = auth("a", "owner")
    cashier = auth("a", "cashier")  # signed in before the change
    cashier_id = world.a.users["cashier"]
    assert client.get("/api/v1/staff", headers=cashier).status_code == 403
    r = client.patch(f"/api/v1/staff/{cashier_id}", headers=owner, json={"role": "MANAGER"})
    assert r.status_code == 200 and r.json()["role"] == "MANAGER"
    assert client.get("/api/v1/staff", headers=cashier).status_code == 200  # same token
    client.patch(f"/api/v1/staff/{cashier_id}", headers=owner, json={"role": "CASHIER"})
    assert client.get("/api/v1/staff", headers=cashier).status_code == 403
    # Deactivation too: the membership no longer opens the store.
    assert client.delete(f"/api/v1/staff/{cashier_id}", headers=owner).status_code == 204
    r = client.get("/api/v1/auth/me", headers=cashier)
    assert r.status_code == 403 and r.json()["code"] == "store_access_denied"


def test_nobody_grants_more_than_they_hold(
    client: TestClient, world: World, auth: Callable[..., dict[str, str]]
) -> None:
    manager = auth("a", "manager")
    owner = auth("a", "owner")
    # MANAGER lacks staff.write altogether.
    r = client.patch(f"/api/v1/staff/{world.a.users['cashier']}", headers=manager,
                     json={"role": "OWNER"})
    assert r.status_code == 403
    # An ADMIN cannot mint owners or touch the owner.
    admin_id = client.post("/api/v1/staff", headers=owner, json={
        "email": "admin@a.test", "name": "Admin", "role": "ADMIN",
        "password": "Admin-Pass-123"}).json()["user_id"]
    admin = bearer(login(client, "admin@a.test", "Admin-Pass-123"), world.a.store_id)
    r = client.patch(f"/api/v1/staff/{world.a.users['cashier']}", headers=admin,
                     json={"role": "OWNER"})
    assert r.status_code == 403 and r.json()["code"] == "role_above_yours"
    r = client.delete(f"/api/v1/staff/{world.a.users['owner']}", headers=admin)
    assert r.status_code == 403 and r.json()["code"] == "role_above_yours"
    # Nobody changes their own membership.
    r = client.patch(f"/api/v1/staff/{admin_id}", headers=admin, json={"role": "VIEWER"})
    assert r.status_code == 403 and r.json()["code"] == "own_membership"
    r = client.patch(f"/api/v1/staff/{world.a.users['owner']}", headers=owner,
                     json={"is_active": False})
    assert r.status_code == 403 and r.json()["code"] == "own_membership"


def test_the_last_owner_stays(client: TestClient, app: FastAPI, world: World, clock: FakeClock,
                              auth: Callable[..., dict[str, str]]) -> None:
    owner = auth("a", "owner")
    second = client.post("/api/v1/staff", headers=owner, json={
        "email": "owner2@a.test", "name": "Owner Two", "role": "OWNER",
        "password": "Owner-Two-123"}).json()["user_id"]
    other = bearer(login(client, "owner2@a.test", "Owner-Two-123"), world.a.store_id)
    assert client.delete(f"/api/v1/staff/{world.a.users['owner']}", headers=other).status_code \
        == 204
    r = client.patch(f"/api/v1/staff/{second}", headers=owner, json={"role": "VIEWER"})
    assert r.status_code == 403  # the first owner is deactivated: no access any more
    assert client.get("/api/v1/staff", headers=other).status_code == 200
    # A platform job holding every permission still cannot remove the last active owner.
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        job = Principal(kind="system", store_id=world.a.store_id,
                        permissions=frozenset(ALL_PERMISSIONS))
        with pytest.raises(Conflict, match="at least one active owner"):
            staff_service.update(db, actor=job, store_id=world.a.store_id, user_id=second,
                                 role="VIEWER", is_active=None, now=clock(), meta=RequestMeta())


def test_super_admin_reads_any_store_and_changes_none(
    client: TestClient, app: FastAPI, world: World, admin_token: str
) -> None:
    b = bearer(admin_token, world.b.store_id)
    r = client.get("/api/v1/store", headers=b)
    assert r.status_code == 200 and r.json()["id"] == world.b.store_id
    assert client.get("/api/v1/staff", headers=b).status_code == 200
    assert client.get("/api/v1/audit-logs", headers=b).status_code == 200
    me = client.get("/api/v1/auth/me", headers=b).json()
    assert me["read_only"] is True and all(p.endswith(".read") or p == SELF
                                           for p in me["permissions"])
    with db_session(app) as db:
        before = db.scalar(select(func.count()).select_from(AuditLog))
    for method, path, body in [
        ("PATCH", "/api/v1/store", {"name": "Hijacked"}),
        ("POST", "/api/v1/staff", {"email": "x@y.test", "name": "X", "role": "VIEWER",
                                   "password": "Xx-123456789"}),
        ("PATCH", f"/api/v1/staff/{world.b.users['cashier']}", {"role": "OWNER"}),
        ("DELETE", f"/api/v1/staff/{world.b.users['cashier']}", None),
    ]:
        r = client.request(method, path, headers=b, json=body)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["code"] == "super_admin_read_only"
    assert client.get("/api/v1/store", headers=b).json()["name"] == world.b.name
    with db_session(app) as db:
        assert db.scalar(select(func.count()).select_from(AuditLog)) == before
    # Without a store the super-admin must name one.
    r = client.get("/api/v1/store", headers=bearer(admin_token))
    assert r.status_code == 400 and r.json()["code"] == "store_required"
    # Their own account is theirs: sign-out works.
    assert client.post("/api/v1/auth/logout", headers=b).status_code == 204

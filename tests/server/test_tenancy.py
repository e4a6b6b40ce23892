"""Tenancy: the automatic store filter, and the cross-tenant probe over the whole route table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.engine import make_url

from server.app import create_app
from server.audit.models import AuditLog
from server.config import Settings
from server.db import rls
from server.db.base import StoreOwnedMixin
from server.db.engine import make_engine
from server.db.tenancy import ReadOnlySession, TenancyError, set_current_store
from server.identity.models import Session as AuthSession
from server.identity.models import UserStore
from server.pos.models import Device
from server.seed.operators import create_pairing_code
from server.stores.models import Store, StoreSubscription
from tests.conftest import postgresql_only
from tests.server.catalog_factories import seed_catalog_rows
from tests.server.commerce_helpers import seed_b_commerce
from tests.server.conftest import PASSWORD, World, bearer, db_session, login

# Routes that take no caller identity at all. Every other route is probed.
PUBLIC = {("POST", "/api/v1/auth/login"), ("GET", "/health"), ("GET", "/ready")}

# Bodies: by default built from the route's JSON schema (required fields; B's ids in id fields,
# B's emails in email fields). List a body here when that is not valid: a route with path
# parameters that answers 422 fails the probe, since validation would hide the lookup.
# "{b:<kind>}" is replaced with one of store B's ids of that kind.
SAMPLE_BODIES: dict[tuple[str, str], Any] = {
    # (the same password again: refused, so the probe can keep signing in)
    ("POST", "/api/v1/auth/password"): {"current_password": PASSWORD, "new_password": PASSWORD},
    ("POST", "/api/v1/staff"): {"email": "{b:email}", "name": "Probe", "role": "VIEWER",
                                "password": "Probe-Pass-123"},
    ("PATCH", "/api/v1/staff/{user_id}"): {"role": "VIEWER"},  # not the first role, OWNER
    ("PATCH", "/api/v1/store"): {"name": "Probe", "email": "{b:email}"},
}

# Which of store B's ids to try for each path-parameter name. A route with a parameter not
# listed here fails the probe. Every parameter is also tried with B's store id and a user id.
PARAM_KINDS = {
    "user_id": "user",
    "session_id": "session",
    "device_id": "device",
    "store_id": "store",
    "membership_id": "membership",
    "product_id": "product",
    "variant_id": "variant",
    "category_id": "category",
    "brand_id": "brand",
    "attribute_id": "attribute",
    "media_id": "media",
    "customer_id": "customer",
    "address_id": "address",
    "order_id": "order",
    "shipment_id": "shipment",
    "payment_id": "payment",
    "gateway": "gateway",
    "pos_session_id": "pos_session",
    "tax_rate_id": "tax_rate",
    "zone_id": "zone",
    "rate_id": "rate",
    "coupon_id": "coupon",
    "flash_sale_id": "flash_sale",
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_enabled": False}  # the probe signs in again whenever it signs out


def _b_ids(app: FastAPI, client: TestClient, world: World) -> dict[str, list[str]]:
    """Store B's ids by kind, and every row id of every store-owned table of B."""
    for role in ("owner", "manager", "cashier"):
        token = login(client, world.b.emails[role])  # B has live sessions...
    owner_b = bearer(login(client, world.b.emails["owner"]), world.b.store_id)
    r = client.patch("/api/v1/store", headers=owner_b, json={"phone": "+15550100"})
    assert r.status_code == 200  # ...and store audit rows
    del token
    with db_session(app) as db:
        store = db.get(Store, world.b.store_id)
        create_pairing_code(db, store=store, name="B till")
        db.commit()
        catalog_ids = seed_catalog_rows(db, world.b.store_id)
        ids: dict[str, list[str]] = {
            "store": [world.b.store_id],
            "user": list(world.b.users.values()),
            "email": list(world.b.emails.values()),
            "session": list(db.scalars(select(AuthSession.id).where(
                AuthSession.user_id.in_(world.b.users.values())))),
            "device": list(db.scalars(select(Device.id).where(
                Device.store_id == world.b.store_id))),
            "membership": list(db.scalars(select(UserStore.id).where(
                UserStore.store_id == world.b.store_id))),
            "audit": list(db.scalars(select(AuditLog.id).where(
                AuditLog.store_id == world.b.store_id))),
        }
        ids.update(catalog_ids)
        ids.update(seed_b_commerce(app, world.b.store_id))
        owned = []
        for mapper in _store_owned_mappers():
            cls = mapper.class_
            owned += db.scalars(select(cls.id).where(cls.store_id == world.b.store_id)).all()
        ids["owned"] = owned
    assert all(ids[k] for k in ("session", "device", "membership", "audit")), ids
    return ids


def _store_owned_mappers() -> list[Any]:
    from server.db.base import Base

    return [m for m in Base.registry.mappers if issubclass(m.class_, StoreOwnedMixin)]


def _fill(value: Any, ids: dict[str, list[str]]) -> Any:
    if isinstance(value, str):
        m = re.fullmatch(r"\{b:(\w+)\}", value)
        return ids[m.group(1)][0] if m else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _body_for(route: APIRoute, ids: dict[str, list[str]]) -> Any:
    """A body from the route's JSON schema: required fields only, B's ids where ids fit."""
    if route.body_field is None:
        return None
    from pydantic import TypeAdapter

    schema = TypeAdapter(route.body_field.field_info.annotation).json_schema()
    defs = schema.get("$defs", {})

    def make(node: dict[str, Any], name: str = "") -> Any:
        if "$ref" in node:
            return make(defs[node["$ref"].split("/")[-1]], name)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in node:
                options = [o for o in node[key] if o.get("type") != "null"] or node[key]
                return make(options[0], name)
        if "enum" in node:
            return node["enum"][0]
        if "const" in node:
            return node["const"]
        kind = node.get("type")
        if kind == "object":
            return {k: make(v, k) for k, v in node.get("properties", {}).items()
                    if k in node.get("required", [])}
        if kind == "array":
            return [make(node.get("items", {}), name) for _ in range(node.get("minItems", 0))]
        if kind == "integer" or kind == "number":
            return node.get("minimum", node.get("exclusiveMinimum", 0) + 1)
        if kind == "boolean":
            return False
        if name.endswith("_id") or name == "id":
            return "{b:owned}"
        if "email" in name:
            return "{b:email}"
        if "pattern" in node:
            for guess in ("123456", "VIEWER", "ABCD-EFGH", "#000000", "en", "12345678"):
                if re.search(node["pattern"], guess):
                    return guess
        return "x" * max(1, node.get("minLength", 8))

    return make(schema)


def _candidates(ids: dict[str, list[str]], kind: str) -> list[str]:
    """B ids to put in a path parameter: two of its own kind, then B's store id and a user id
    (ids a route might look up under any name). Kept short: the probe calls every route."""
    out = list(ids[kind][:2])
    for extra in (ids["store"][0], ids["user"][0]):
        if extra not in out:
            out.append(extra)
    return out


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    out = []
    for ctx in iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            out += [(m, str(ctx.path), ctx.original_route) for m in sorted(ctx.methods or ())]
    return out


def _b_state(app: FastAPI, world: World) -> tuple[Any, ...]:
    with db_session(app) as db:
        store = db.get(Store, world.b.store_id)
        members = sorted((m.user_id, m.role_id, m.is_active) for m in db.scalars(
            select(UserStore).where(UserStore.store_id == world.b.store_id)))
        sessions = db.scalar(select(func.count()).select_from(AuthSession).where(
            AuthSession.user_id.in_(world.b.users.values())))
        return (store.name, store.email, store.updated_at, members, sessions)


def test_cross_tenant_probe(app: FastAPI, client: TestClient, world: World) -> None:
    """As store A's owner, call every route and method with store B's ids: always 404 or 403
    for a B id in the path, never a trace of B's data in any answer, and B unchanged."""
    ids = _b_ids(app, client, world)
    pool = sorted({i for k, v in ids.items() if k != "email" for i in v})
    secrets = set(pool) | set(ids["email"]) | {world.b.name, world.b.slug}
    with db_session(app) as db:
        store_b = db.get(Store, world.b.store_id)
        secrets |= {store_b.code, store_b.email}
    before = _b_state(app, world)

    routes = _routes(app)
    probed = 0
    token = login(client, world.a.emails["owner"])
    for method, path, route in routes:
        if (method, path) in PUBLIC:
            continue
        params = re.findall(r"\{(\w+)(?::\w+)?\}", path)
        unknown = [p for p in params if p not in PARAM_KINDS]
        assert not unknown, f"{method} {path}: add B ids for {unknown} to PARAM_KINDS"
        body = _fill(SAMPLE_BODIES.get((method, path)) or _body_for(route, ids), ids)
        query = {p.name: ids["user"][0] for p in route.dependant.query_params
                 if p.name.endswith("_id")}
        candidates = [_candidates(ids, PARAM_KINDS[p]) for p in params]
        attempts = ([dict(zip(params, combo, strict=True))
                     for combo in zip(*candidates, strict=False)] if params else [{}])
        for values in attempts:
            url = path
            for name, value in values.items():
                url = re.sub(r"\{" + name + r"(?::\w+)?\}", value, url)
            r = client.request(method, url, headers=bearer(token, world.a.store_id), json=body,
                               params=query)
            if r.status_code == 401:  # an earlier call signed out or rotated the token
                token = login(client, world.a.emails["owner"])
                r = client.request(method, url, headers=bearer(token, world.a.store_id),
                                   json=body, params=query)
            probed += 1
            where = f"{method} {url} -> {r.status_code} {r.text[:300]}"
            assert r.status_code < 500, where
            if params:
                assert r.status_code != 422, f"{where}: add a valid body to SAMPLE_BODIES"
                assert r.status_code in (403, 404), where
            # Echoing what the caller sent is not a leak; anything else of B's is.
            answer = r.text.replace(url, "<request path>")
            sent = set(_strings(body)) | set(query.values())
            leaked = [s for s in secrets - sent if s and s in answer]
            assert not leaked, f"{where} leaks B's {leaked}"
    assert probed >= len(routes) - len(PUBLIC)
    assert _b_state(app, world) == before, "the probe changed store B"


def test_probe_tables_are_complete(app: FastAPI) -> None:
    """Every path parameter in the route table has B ids to try."""
    for method, path, _ in _routes(app):
        for p in re.findall(r"\{(\w+)(?::\w+)?\}", path):
            assert p in PARAM_KINDS, f"{method} {path}: {p}"


def test_an_id_from_another_store_is_404(
    client: TestClient, world: World, app: FastAPI
) -> None:
    owner_a = bearer(login(client, world.a.emails["owner"]), world.a.store_id)
    b_user = world.b.users["cashier"]
    for method, body in (("PATCH", {"role": "VIEWER"}), ("DELETE", None)):
        r = client.request(method, f"/api/v1/staff/{b_user}", headers=owner_a, json=body)
        assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/v1/staff", headers=owner_a)
    assert {s["user_id"] for s in r.json()} == set(world.a.users.values())
    r = client.get("/api/v1/audit-logs", headers=owner_a, params={"user_id": b_user})
    assert r.json()["items"] == []


# ---- the ORM filter itself ------------------------------------------------------------------


def _seed_devices(app: FastAPI, world: World) -> None:
    with db_session(app) as db:
        for t in (world.a, world.b):
            db.add(Device(store_id=t.store_id, name=f"till {t.key}", terminal_number=1))
        db.commit()


def test_every_orm_select_is_filtered_by_the_current_store(app: FastAPI, world: World) -> None:
    _seed_devices(app, world)
    with app.state.session_factory() as db:
        assert db.scalars(select(Device)).all() == []  # no store: nothing (fail closed)
        set_current_store(db, world.a.store_id)
        rows = db.scalars(select(Device)).all()
        assert [d.store_id for d in rows] == [world.a.store_id]
        # Joins, aliases and counts are filtered too.
        members = db.scalars(select(UserStore).join(Store)).all()
        assert {m.store_id for m in members} == {world.a.store_id}
        assert db.scalar(select(func.count()).select_from(Device)) == 1
        b_device = db.scalar(select(Device.id).where(Device.store_id == world.b.store_id)
                             .execution_options(all_stores=True))
        assert b_device is not None
        assert db.get(Device, b_device) is None
        # The named bypass sees everything.
        everything = db.scalars(select(Device).execution_options(all_stores=True)).all()
        assert len(everything) == 2


def test_orm_update_and_delete_only_touch_the_current_store(
    app: FastAPI, world: World
) -> None:
    _seed_devices(app, world)
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        db.execute(update(Device).values(name="renamed"))
        db.execute(delete(StoreSubscription))
        db.commit()
    with db_session(app) as db:
        names = {r[0]: r[1] for r in db.execute(select(Device.store_id, Device.name))}
        assert names == {world.a.store_id: "renamed", world.b.store_id: "till b"}
        subs = set(db.scalars(select(StoreSubscription.store_id)))
        assert subs == {world.b.store_id}


def test_new_rows_take_the_current_store_and_cannot_target_another(
    app: FastAPI, world: World
) -> None:
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id)
        device = Device(name="new", terminal_number=7)
        db.add(device)
        db.flush()
        assert device.store_id == world.a.store_id
        db.add(Device(store_id=world.b.store_id, name="sneaky", terminal_number=8))
        with pytest.raises(TenancyError):
            db.flush()
        db.rollback()
    with app.state.session_factory() as db:
        db.add(Device(name="orphan", terminal_number=9))
        with pytest.raises(TenancyError):
            db.flush()  # no current store
        db.rollback()
    with app.state.session_factory() as db:
        set_current_store(db, world.a.store_id, read_only=True)
        device = db.scalars(select(Device)).first() or Device(name="x", terminal_number=10)
        db.add(Device(name="ro", terminal_number=11))
        with pytest.raises(ReadOnlySession):
            db.flush()
        db.rollback()


@postgresql_only  # SQLite has no session settings
def test_postgresql_transactions_carry_the_store_setting(
    app: FastAPI, world: World, backend: str
) -> None:
    query = text("SELECT current_setting('app.current_store_id', true)")
    with app.state.session_factory() as db:
        assert db.scalar(query) in (None, "")
        set_current_store(db, world.a.store_id)  # mid-transaction: applied at once
        assert db.scalar(query) == world.a.store_id
        db.commit()
        assert db.scalar(query) == world.a.store_id  # a new transaction sets it again
        db.rollback()
    with app.state.session_factory() as db:
        set_current_store(db, world.b.store_id)  # before any transaction
        assert db.scalar(query) == world.b.store_id


# ---- with PostgreSQL row-level security: the server connected as the application role ------



@pytest.fixture
def app_role_client(world_db: tuple[str, World], clock: Any) -> Iterator[TestClient]:
    """The API served by a login that is a member of ``stormcom_app`` (RLS applies)."""
    url = world_db[0]
    role = f"web_{make_url(url).database}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN IN ROLE {rls.APP_ROLE}"))
    app = create_app(Settings(database_url=make_url(url).set(username=role)
                              .render_as_string(hide_password=False), bcrypt_cost=4),
                     clock=clock)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        app.state.engine.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.dispose()


@postgresql_only
def test_staff_work_in_their_store_when_the_server_runs_as_the_app_role(
    app_role_client: TestClient, world: World
) -> None:
    client = app_role_client
    token = login(client, world.a.emails["owner"])
    a = bearer(token, world.a.store_id)
    assert client.get("/api/v1/store", headers=a).json()["id"] == world.a.store_id
    assert {s["user_id"] for s in client.get("/api/v1/staff", headers=a).json()} \
        == set(world.a.users.values())
    assert client.patch("/api/v1/store", headers=a, json={"phone": "+1555"}).status_code == 200
    r = client.get("/api/v1/store", headers=bearer(token, world.b.store_id))
    assert r.status_code == 403 and r.json()["code"] == "store_access_denied"


@postgresql_only
def test_sign_in_lists_my_stores_when_the_server_runs_as_the_app_role(
    app_role_client: TestClient, world: World
) -> None:
    r = app_role_client.post("/api/v1/auth/login", json={"email": world.a.emails["owner"],
                                                         "password": PASSWORD})
    assert [s["id"] for s in r.json()["stores"]] == [world.a.store_id]
    # One membership: no X-Store-Id needed.
    me = app_role_client.get("/api/v1/auth/me", headers=bearer(r.json()["token"]))
    assert me.json()["current_store_id"] == world.a.store_id

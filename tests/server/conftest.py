"""Server API fixtures: a migrated database per test with two tenants, an app, a client.

Speed: the schema is migrated (``server.db.migrate.upgrade``) and the two tenants seeded once
per backend into a template; each test's ``db_url`` database is then a copy of it (SQLite's
backup API, PostgreSQL's ``CREATE DATABASE .. TEMPLATE``). bcrypt runs at cost 4 here
(``Settings.bcrypt_cost``; production stays 12). Time comes from a ``FakeClock``.

Tenants: A ("Alpha Mart", Pro plan) and B ("Bravo Goods", Basic plan), each with an owner, a
manager and a cashier; plus a platform super-admin who is staff of neither.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from server.app import create_app
from server.clock import FakeClock
from server.config import Settings
from server.db import migrate
from server.db.engine import make_engine, make_session_factory
from server.identity.hashing import hash_password
from server.identity.models import User, UserStore
from server.identity.permissions import SystemRole
from server.seed.operators import create_store, ensure_system_roles
from server.stores.models import Store

PASSWORD = "Correct-Horse-9"
TEST_BCRYPT_COST = 4
ROLES = ("owner", "manager", "cashier")
_template_counter = itertools.count(1)


@dataclass
class Tenant:
    key: str
    store_id: str
    name: str
    slug: str
    users: dict[str, str] = field(default_factory=dict)  # role -> user id
    emails: dict[str, str] = field(default_factory=dict)  # role -> email


@dataclass
class World:
    a: Tenant
    b: Tenant
    super_admin_id: str
    super_admin_email: str

    def tenant(self, key: str) -> Tenant:
        return self.a if key == "a" else self.b


def _seed(url: str) -> World:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as db:
        roles = ensure_system_roles(db)
        tenants = []
        for key, name, plan in (("a", "Alpha Mart", "PRO"), ("b", "Bravo Goods", "BASIC")):
            store = create_store(db, name=name, slug=f"{key}-store", email=f"shop@{key}.test",
                                 plan=plan, code=key.upper() * 3)
            tenant = Tenant(key, store.id, name, store.slug)
            for role in ROLES:
                email = f"{role}@{key}.test"
                user = User(email=email, name=f"{role.title()} {name}",
                            password=hash_password(PASSWORD, cost=TEST_BCRYPT_COST))
                db.add(user)
                db.flush()
                db.add(UserStore(user_id=user.id, store_id=store.id,
                                 role_id=roles[SystemRole(role.upper())].id))
                tenant.users[role] = user.id
                tenant.emails[role] = email
            tenants.append(tenant)
        admin = User(email="root@platform.test", name="Platform Admin", is_super_admin=True,
                     password=hash_password(PASSWORD, cost=TEST_BCRYPT_COST))
        db.add(admin)
        db.commit()
        world = World(tenants[0], tenants[1], admin.id, admin.email)
    engine.dispose()
    return world


@pytest.fixture(scope="session")
def _templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return {}


def _pg_admin(cluster: Any) -> Any:
    import psycopg

    return psycopg.connect(f"host=127.0.0.1 port={cluster.port} user={cluster.superuser} "
                           "dbname=postgres", autocommit=True)


@pytest.fixture
def world_db(
    db_url: str, backend: str, request: pytest.FixtureRequest, _templates: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, World]:
    """``db_url`` filled with a copy of the migrated, seeded template."""
    if backend == "sqlite":
        if "sqlite" not in _templates:
            path = tmp_path_factory.mktemp("template") / "template.db"
            _templates["sqlite"] = (path, _seed(f"sqlite:///{path}"))
        path, world = _templates["sqlite"]
        target = make_url(db_url).database
        assert target
        with sqlite3.connect(path) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return db_url, world
    cluster = request.getfixturevalue("pg_cluster")
    if "postgresql" not in _templates:
        name = f"tmpl_{os.getpid()}_{next(_template_counter)}"
        _templates["postgresql"] = (name, _seed(cluster.create_database(name)))
    name, world = _templates["postgresql"]
    target = make_url(db_url).database
    with _pg_admin(cluster) as conn:
        conn.execute(f'DROP DATABASE "{target}"')
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{name}" STRATEGY FILE_COPY')
    return db_url, world


@pytest.fixture
def world(world_db: tuple[str, World]) -> World:
    return world_db[1]


@pytest.fixture
def clock() -> FakeClock:
    """Frozen at the start of the current minute (rows the database dates itself stay close)."""
    return FakeClock(datetime.now(UTC).replace(second=0, microsecond=0))


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override in a test module to change settings for its app."""
    return {}


@pytest.fixture
def settings(world_db: tuple[str, World], settings_overrides: dict[str, Any]) -> Settings:
    values: dict[str, Any] = {"database_url": world_db[0], "bcrypt_cost": TEST_BCRYPT_COST}
    values.update(settings_overrides)
    return Settings(**values)


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def login(client: TestClient, email: str, password: str = PASSWORD, **headers: str) -> str:
    """Sign in; returns the bearer token."""
    r = client.post("/api/v1/auth/login", json={"email": email, "password": password},
                    headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["token"])


def bearer(token: str, store_id: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {token}"}
    if store_id:
        h["X-Store-Id"] = store_id
    return h


@pytest.fixture
def auth(client: TestClient, world: World) -> Callable[..., dict[str, str]]:
    """``auth("a", "owner")`` -> headers of a fresh session of that user in that store."""

    def make(tenant: str, role: str) -> dict[str, str]:
        t = world.tenant(tenant)
        return bearer(login(client, t.emails[role]), t.store_id)

    return make


@pytest.fixture
def admin_token(client: TestClient, world: World) -> str:
    return login(client, world.super_admin_email)


def db_session(app: FastAPI) -> Any:
    """A plain (unfiltered) session on the app's database, for assertions."""
    return make_session_factory(app.state.engine)()


def store_of(app: FastAPI, store_id: str) -> Store:
    with db_session(app) as db:
        store = db.scalar(select(Store).where(Store.id == store_id))
        assert store is not None
        return store

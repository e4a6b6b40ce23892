"""PostgreSQL row-level security, the application role and the audit-log guard (migration 0003).

The central test runs raw SQL as the application role (``SET ROLE stormcom_app`` inside a test
transaction): without ``app.current_store_id`` it sees no store-owned row; with it, only that
store's rows, and it cannot write another store's rows nor bypass the policy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError

from server.clock import FakeClock
from server.db import migrate, rls
from server.db.all_models import Base
from server.db.engine import make_engine
from server.identity.principal import Principal
from server.pos import devices_service
from server.stores.models import Store
from tests.conftest import postgresql_only
from tests.server.conftest import World
from tests.server.security_helpers import service_session


@contextmanager
def _tx(url: str) -> Iterator[Connection]:
    """One connection in one transaction (as the superuser), rolled back at the end."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            try:
                yield conn
            finally:
                tx.rollback()
    finally:
        engine.dispose()


def _count(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


def _set(conn: Connection, name: str, value: str) -> None:
    conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})


@contextmanager
def _role(url: str, name: str, *options: str) -> Iterator[str]:
    """A throwaway role for this database, dropped afterwards (roles are cluster-wide)."""
    role = f"{name}_{make_url(url).database}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} {' '.join(options)}"))
    try:
        yield role
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
        engine.dispose()


@pytest.mark.postgres
@postgresql_only
def test_every_store_owned_table_has_forced_rls_and_the_policy(
    world_db: tuple[str, World],
) -> None:
    expected = {t.name for t in Base.metadata.sorted_tables if "store_id" in t.c}
    assert {"product", "order", "device", "device_token", "audit_log", "user_store"} <= expected
    with _tx(world_db[0]) as conn:
        assert rls.tables_with_policy(conn) == expected
        assert "store" not in rls.tables_with_policy(conn)
        # The app role may use every table, later migrations' tables included (default
        # privileges), but only read and append the audit log.
        for table in Base.metadata.tables:
            assert conn.execute(text("SELECT has_table_privilege(:r, :t, 'SELECT, INSERT')"),
                                {"r": rls.APP_ROLE, "t": f'"{table}"'}).scalar_one(), table
        for privilege in ("UPDATE", "DELETE", "TRUNCATE"):
            assert not conn.execute(text("SELECT has_table_privilege(:r, 'audit_log', :p)"),
                                    {"r": rls.APP_ROLE, "p": privilege}).scalar_one()


@pytest.mark.postgres
@postgresql_only
def test_the_app_role_sees_nothing_without_the_store_and_only_its_store_with_it(
    world_db: tuple[str, World],
) -> None:
    url, world = world_db
    with _tx(url) as conn:
        assert _count(conn, "user_store") == 6  # the superuser skips RLS: both stores
        conn.execute(text(f"SET LOCAL ROLE {rls.APP_ROLE}"))
        for table in ("user_store", "store_subscription", "device", "audit_log"):
            assert _count(conn, table) == 0, table
        assert _count(conn, "store") == 2  # not store-owned
        _set(conn, rls.STORE_SETTING, world.a.store_id)
        rows = conn.execute(text("SELECT store_id FROM user_store")).scalars().all()
        assert rows and set(rows) == {world.a.store_id} and len(rows) == 3
        assert conn.execute(text("SELECT count(*) FROM user_store WHERE store_id = :b"),
                            {"b": world.b.store_id}).scalar_one() == 0
        # The app role cannot switch the policy off.
        _set(conn, rls.BYPASS_SETTING, "on")
        assert set(conn.execute(text("SELECT store_id FROM user_store")).scalars()) == {
            world.a.store_id}
        _set(conn, rls.BYPASS_SETTING, "off")
        # Updates and deletes of another store's rows touch nothing.
        moved = conn.execute(text("UPDATE store_subscription SET current_products = 99 "
                                  "WHERE store_id = :b"), {"b": world.b.store_id})
        assert moved.rowcount == 0
        conn.execute(text("SAVEPOINT before_insert"))
        with pytest.raises(ProgrammingError, match="row-level security"):
            conn.execute(text(
                "INSERT INTO device (id, store_id, name, terminal_number, status, "
                "last_pushed_seq, last_pulled_cursor, last_receipt_counter, created_at, "
                "updated_at) VALUES ('dev-b', :b, 'x', 77, 'ACTIVE', 0, 0, 0, now(), now())"),
                {"b": world.b.store_id})
        conn.execute(text("ROLLBACK TO SAVEPOINT before_insert"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("UPDATE audit_log SET action = 'x'"))


@pytest.mark.postgres
@postgresql_only
def test_platform_jobs_bypass_with_the_setting_but_the_app_role_cannot(
    world_db: tuple[str, World],
) -> None:
    url, world = world_db
    with _role(url, "rls_owner", "NOLOGIN") as role:
        with _tx(url) as conn:
            conn.execute(text(f"GRANT SELECT ON user_store TO {role}"))
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            assert _count(conn, "user_store") == 0
            _set(conn, rls.BYPASS_SETTING, "on")
            assert _count(conn, "user_store") == 6
            conn.execute(text("RESET ROLE"))
            conn.execute(text(f"SET LOCAL ROLE {rls.APP_ROLE}"))
            assert _count(conn, "user_store") == 0


@pytest.mark.postgres
@postgresql_only
def test_an_owner_holding_the_app_role_without_inheriting_it_still_bypasses(
    world_db: tuple[str, World],
) -> None:
    """PostgreSQL 16 grants a role back to the non-superuser that created it, as a member that
    does not inherit it: so the owner that ran migration 0003 may hold ``stormcom_app``. It
    does not act with that role's rights, so its platform jobs must still bypass; a login that
    inherits the role (the server's) still cannot."""
    url, _ = world_db
    with _role(url, "rls_owner16", "NOLOGIN", "NOINHERIT") as owner, \
            _role(url, "rls_web", "NOLOGIN", "IN ROLE", rls.APP_ROLE) as web:
        with _tx(url) as conn:
            conn.execute(text(f"GRANT {rls.APP_ROLE} TO {owner}"))
            conn.execute(text(f"GRANT SELECT ON user_store TO {owner}"))
            conn.execute(text(f"SET LOCAL ROLE {owner}"))
            assert conn.execute(text("SELECT pg_has_role(:r, 'MEMBER')"),
                                {"r": rls.APP_ROLE}).scalar_one()
            _set(conn, rls.BYPASS_SETTING, "on")
            assert _count(conn, "user_store") == 6
            assert rls.sees_every_store(conn)
            conn.execute(text("RESET ROLE"))
            conn.execute(text(f"SET LOCAL ROLE {web}"))
            assert _count(conn, "user_store") == 0
            assert not rls.sees_every_store(conn)


@pytest.mark.postgres
@postgresql_only
def test_terminals_work_when_the_server_connects_as_the_app_role(
    world_db: tuple[str, World], clock: FakeClock
) -> None:
    url, world = world_db
    now = clock.now
    actor = Principal(kind="user", user_id=world.b.users["owner"], store_id=world.b.store_id)
    with service_session(url, world.b.store_id) as db:
        store = db.get(Store, world.b.store_id)
        assert store is not None
        full = devices_service.create_pairing(db, actor=actor, store=store, name="T1", now=now,
                                              lifetime=timedelta(hours=1))
        bare = devices_service.create_pairing(db, actor=actor, store=store, name="T2", now=now,
                                              lifetime=timedelta(hours=1))
        db.commit()
    with _role(url, "rls_web", "LOGIN", "IN ROLE", rls.APP_ROLE) as login_role:
        app_url = make_url(url).set(username=login_role).render_as_string(hide_password=False)
        with service_session(app_url) as db:
            enrolled = devices_service.enrol(db, code=full.code, now=now)
            issued = devices_service.issue_access_token(
                db, credential=enrolled.credential, now=now, lifetime=timedelta(minutes=15))
            db.commit()
        with service_session(app_url) as db:
            principal = devices_service.authenticate_device_token(db, issued.token, now)
            assert principal is not None and principal.store_id == world.b.store_id
        with service_session(app_url) as db:
            # The bare code needs a cross-store lookup, which RLS refuses the app role.
            with pytest.raises(devices_service.PairingInvalid):
                devices_service.enrol(db, code=bare.code.split("-", 1)[1], now=now)


def _audit_row(conn: Connection, store_id: str | None, user_id: str | None = None) -> str:
    row_id = f"audit{abs(hash((store_id, user_id))) % 10**9}"
    conn.execute(text(
        "INSERT INTO audit_log (id, store_id, user_id, actor_email, action, entity_type, "
        "created_at, updated_at) VALUES (:id, :s, :u, 'x@y', 'test', 'thing', now(), now())"),
        {"id": row_id, "s": store_id, "u": user_id})
    return row_id


@pytest.mark.postgres
@postgresql_only
def test_the_audit_log_refuses_update_delete_and_truncate(world_db: tuple[str, World]) -> None:
    url, world = world_db
    engine: Engine = make_engine(url)
    try:
        with engine.begin() as conn:
            row_id = _audit_row(conn, world.a.store_id)
        for stmt in ("UPDATE audit_log SET action = 'changed' WHERE id = :id",
                     "DELETE FROM audit_log WHERE id = :id", "TRUNCATE audit_log"):
            with engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
                conn.execute(text(stmt), {"id": row_id})
        with engine.begin() as conn:  # the retention purge may delete
            _set(conn, rls.RETENTION_SETTING, "on")
            assert conn.execute(text("DELETE FROM audit_log WHERE id = :id"),
                                {"id": row_id}).rowcount == 1
            _set(conn, rls.RETENTION_SETTING, "off")
            kept = _audit_row(conn, world.a.store_id, world.a.users["cashier"])
            b_row = _audit_row(conn, world.b.store_id)
        # The schema's own foreign-key actions still work: a deleted user is nulled out...
        with engine.begin() as conn:
            conn.execute(text('DELETE FROM "user" WHERE id = :u'), {"u": world.a.users["cashier"]})
            assert conn.execute(text("SELECT user_id, action FROM audit_log WHERE id = :id"),
                                {"id": kept}).one() == (None, "test")
        # ... and deleting a store takes its audit rows with it.
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM store WHERE id = :s"), {"s": world.b.store_id})
            assert conn.execute(text("SELECT count(*) FROM audit_log WHERE id = :id"),
                                {"id": b_row}).scalar_one() == 0
    finally:
        engine.dispose()


@pytest.mark.postgres
@postgresql_only
def test_downgrade_removes_policies_functions_triggers_and_grants(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "0002")
        with engine.connect() as conn:
            assert rls.tables_with_policy(conn) == set()
            assert conn.execute(text(
                "SELECT count(*) FROM pg_class WHERE relrowsecurity AND relnamespace = "
                "current_schema()::regnamespace")).scalar_one() == 0
            assert conn.execute(text(
                "SELECT count(*) FROM pg_proc WHERE proname IN (:a, :b)"),
                {"a": rls.BYPASS_FUNCTION, "b": rls.AUDIT_GUARD_FUNCTION}).scalar_one() == 0
            assert conn.execute(text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
                "AND NOT tgisinternal")).scalar_one() == 0
            grants = conn.execute(text(
                "SELECT count(*) FROM information_schema.role_table_grants "
                "WHERE grantee = :r"), {"r": rls.APP_ROLE}).scalar_one()
            assert grants == 0
        migrate.upgrade(engine)  # and back up again
        with engine.connect() as conn:
            assert "device_token" in rls.tables_with_policy(conn)
    finally:
        engine.dispose()


def test_the_helpers_are_no_ops_on_sqlite(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        with engine.begin() as conn:
            rls.install(conn)
            rls.uninstall(conn)
        from sqlalchemy.orm import Session

        with Session(engine) as db, rls.bypass_rls(db), rls.audit_retention(db):
            assert db.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
@postgresql_only
def test_the_app_role_reads_the_signed_in_users_memberships_in_every_store_only(
    world_db: tuple[str, World],
) -> None:
    url, world = world_db
    owner_a = world.a.users["owner"]
    with _tx(url) as conn:
        conn.execute(text(f"SET LOCAL ROLE {rls.APP_ROLE}"))
        _set(conn, rls.USER_SETTING, owner_a)
        rows = conn.execute(text("SELECT user_id, store_id FROM user_store")).all()
        assert rows == [(owner_a, world.a.store_id)]
        plans = conn.execute(text("SELECT store_id FROM store_subscription")).scalars().all()
        assert set(plans) <= {world.a.store_id}
        # Reading is all it grants: no write to another user's membership.
        moved = conn.execute(text("UPDATE user_store SET is_active = false WHERE user_id = :u"),
                             {"u": owner_a})
        assert moved.rowcount == 0


@pytest.mark.postgres
@postgresql_only
def test_sign_in_resolves_the_store_when_the_server_connects_as_the_app_role(
    world_db: tuple[str, World],
) -> None:
    from server.identity import sessions_service
    from server.identity.models import User

    url, world = world_db
    with _role(url, "rls_login", "LOGIN", "IN ROLE", rls.APP_ROLE) as login_role:
        app_url = make_url(url).set(username=login_role).render_as_string(hide_password=False)
        with service_session(app_url) as db:
            user = db.get(User, world.b.users["manager"])
            assert user is not None
            principal = sessions_service.principal_for(db, user, store_id=None)
            assert principal.store_id == world.b.store_id
            assert principal.role and principal.role.upper() == "MANAGER"

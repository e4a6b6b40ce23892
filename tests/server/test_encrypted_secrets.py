"""The secret columns hold Fernet tokens (``server.db.encrypted``): SQL sees only ciphertext while
the ORM reads the plaintext, keys rotate, a wrong key is a clear error, migration 0008 encrypts
what 0007 stored (and downgrade restores it), and the key rule per backend."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect, select, text

from server import cli
from server.app import create_app
from server.audit import service as audit
from server.audit.models import AuditLog
from server.clock import FakeClock
from server.config import ConfigError, Settings
from server.db import encrypted, migrate, rls
from server.db.base import JsonType, new_id
from server.db.engine import make_engine, make_session_factory
from server.identity.models import User
from server.integrations.models import ExternalPlatform, ExternalPlatformIntegration
from server.payments.models import PaymentGatewayConfig
from tests.conftest import postgresql_only
from tests.pgcluster import DATA_KEY
from tests.server.conftest import PASSWORD, World, bearer, db_session, login
from tests.server.security_helpers import API, totp_now

MODELS: dict[str, Any] = {"user": User, "payment_gateway_config": PaymentGatewayConfig,
                          "external_platform_integration": ExternalPlatformIntegration}
PLAINTEXT = {
    ("user", "mfa_secret"): "JBSWY3DPEHPK3PXPJBSWY3DP",
    ("payment_gateway_config", "secret_key"): "sk_live_plain_gateway_key",
    ("payment_gateway_config", "webhook_secret"): "whsec_plain_gateway_hook",
    ("external_platform_integration", "api_key"): "ck_woo_plain_api_key",
    ("external_platform_integration", "api_secret"): "cs_woo_plain_api_secret",
    ("external_platform_integration", "webhook_secret"): "woo_plain_webhook_secret",
}


@pytest.fixture(autouse=True)
def _run_key() -> Iterator[None]:
    """Each test starts and ends with the run's key (the keyring is process-wide)."""
    encrypted.configure([DATA_KEY])
    yield
    encrypted.configure([DATA_KEY])


def _write(engine: Engine, world: World, values: dict[tuple[str, str], str]) -> dict[str, str]:
    """Store ``values`` through the ORM on one row per table; returns each table's row id."""
    def of(table: str) -> dict[str, str]:
        return {col: v for (t, col), v in values.items() if t == table}

    with make_session_factory(engine)() as db:
        user = db.get(User, world.a.users["owner"])
        assert user is not None
        for attr, value in of("user").items():
            setattr(user, attr, value)
        gateway = PaymentGatewayConfig(
            store_id=world.a.store_id, gateway="test",
            **{"secret_key": "sk_unused", **of("payment_gateway_config")})
        integration = ExternalPlatformIntegration(
            store_id=world.a.store_id, platform=ExternalPlatform.WOOCOMMERCE,
            api_url="https://shop.example.test",
            **{"api_key": "ck_unused", **of("external_platform_integration")})
        db.add_all([gateway, integration])
        db.commit()
        return {"user": user.id, "payment_gateway_config": gateway.id,
                "external_platform_integration": integration.id}


def _written_under(key: str, world_db: tuple[str, World]) -> tuple[str, Engine, dict[str, str]]:
    """The secrets of ``PLAINTEXT`` written under ``key`` alone: (url, engine, row ids)."""
    url, world = world_db
    engine = make_engine(url)
    encrypted.configure([key])
    return url, engine, _write(engine, world, PLAINTEXT)


# Both read past row-level security, for the migration test that runs as a plain owner role.
def _raw(engine: Engine, table: str, column: str, row_id: str) -> Any:
    with engine.begin() as conn, rls.bypass_rls(conn):
        return conn.execute(text(f'SELECT {column} FROM "{table}" WHERE id = :id'),
                            {"id": row_id}).scalar_one()


def _orm(engine: Engine, table: str, column: str, row_id: str) -> Any:
    with make_session_factory(engine)() as db, rls.bypass_rls(db):
        return getattr(db.get(MODELS[table], row_id), column)


@pytest.mark.parametrize(("table", "column"), list(PLAINTEXT))
def test_sql_reads_a_token_and_the_orm_the_plaintext(
    world_db: tuple[str, World], table: str, column: str
) -> None:
    url, world = world_db
    engine = make_engine(url)
    ids = _write(engine, world, PLAINTEXT)
    plaintext = PLAINTEXT[table, column]
    stored = _raw(engine, table, column, ids[table])
    assert plaintext not in stored and stored.startswith("gAAAAA")  # a Fernet token: 0x80, a time
    assert Fernet(DATA_KEY).decrypt(stored).decode() == plaintext
    assert _orm(engine, table, column, ids[table]) == plaintext
    engine.dispose()


def test_null_stays_null(world_db: tuple[str, World]) -> None:
    url, world = world_db
    engine = make_engine(url)
    ids = _write(engine, world, {})
    for table, column in [("user", "mfa_secret"), ("external_platform_integration", "api_secret"),
                          ("payment_gateway_config", "webhook_secret")]:
        assert _raw(engine, table, column, ids[table]) is None
        assert _orm(engine, table, column, ids[table]) is None
    engine.dispose()


def test_mfa_enrol_and_sign_in_over_http_with_the_secret_encrypted(
    client: TestClient, app: FastAPI, world: World, clock: FakeClock
) -> None:
    email, user_id = world.a.emails["cashier"], world.a.users["cashier"]
    headers = bearer(login(client, email))
    r = client.post(f"{API}/auth/mfa/totp", headers=headers)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    stored = _raw(app.state.engine, "user", "mfa_secret", user_id)
    assert secret not in stored and Fernet(DATA_KEY).decrypt(stored).decode() == secret
    r = client.post(f"{API}/auth/mfa/totp/confirm", headers=headers,
                    json={"code": totp_now(secret, clock.now)})
    assert r.status_code == 200, r.text
    clock.advance(seconds=60)
    r = client.post(f"{API}/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 401 and r.json()["code"] == "mfa_required"
    r = client.post(f"{API}/auth/mfa/challenge", json={
        "mfa_token": r.json()["mfa_token"], "code": totp_now(secret, clock.now)})
    assert r.status_code == 200, r.text
    assert client.get(f"{API}/auth/me", headers=bearer(r.json()["token"])).status_code == 200


def test_rotation_reads_old_tokens_and_writes_with_the_first_key(
    world_db: tuple[str, World],
) -> None:
    key_a, key_b = encrypted.generate_key(), encrypted.generate_key()
    url, engine, ids = _written_under(key_a, world_db)
    old = _raw(engine, "user", "mfa_secret", ids["user"])

    encrypted.configure_from_settings(Settings(database_url=url, data_keys=f"{key_b}, {key_a}"))
    for (table, column), plaintext in PLAINTEXT.items():
        assert _orm(engine, table, column, ids[table]) == plaintext
    with make_session_factory(engine)() as db:
        gateway = db.get(PaymentGatewayConfig, ids["payment_gateway_config"])
        assert gateway is not None
        gateway.secret_key = "sk_live_rotated"
        db.commit()
    new = _raw(engine, "payment_gateway_config", "secret_key", ids["payment_gateway_config"])
    assert Fernet(key_b).decrypt(new) == b"sk_live_rotated"
    with pytest.raises(InvalidToken):
        Fernet(key_a).decrypt(new)
    assert _raw(engine, "user", "mfa_secret", ids["user"]) == old  # untouched until rewritten
    assert Fernet(key_a).decrypt(old).decode() == PLAINTEXT["user", "mfa_secret"]
    engine.dispose()


def test_a_wrong_key_names_the_column_and_the_setting(world_db: tuple[str, World]) -> None:
    url, world = world_db
    engine = make_engine(url)
    ids = _write(engine, world, PLAINTEXT)
    encrypted.configure_from_settings(
        Settings(database_url=url, data_keys=encrypted.generate_key()))
    with pytest.raises(encrypted.WrongDataKey) as caught:
        _orm(engine, "payment_gateway_config", "secret_key", ids["payment_gateway_config"])
    message = str(caught.value)
    assert message.startswith("payment_gateway_config.secret_key: ")
    assert "does not match" in message and "STORMCOM_DATA_KEYS" in message
    with pytest.raises(encrypted.WrongDataKey, match=r"^user\.mfa_secret: "):
        _orm(engine, "user", "mfa_secret", ids["user"])
    engine.dispose()


def test_secrets_stay_out_of_audit_snapshots_and_api_answers(
    client: TestClient, app: FastAPI, auth: Any
) -> None:
    integration = ExternalPlatformIntegration(
        platform=ExternalPlatform.SHOPIFY, api_url="https://x.test", api_key="ck_1",
        api_secret="cs_2", webhook_secret="wh_3")
    snap = audit.snapshot(integration)
    assert snap["api_url"] == "https://x.test"
    assert not {"api_key", "api_secret", "webhook_secret"} & set(snap)
    gateway = PaymentGatewayConfig(gateway="test", secret_key="sk_4", webhook_secret="wh_5")
    assert not {"secret_key", "webhook_secret"} & set(audit.snapshot(gateway))

    h = auth("a", "owner")
    r = client.post(f"{API}/payment-gateways", headers=h, json={
        "gateway": "test", "secret_key": "sk_test_abcdef", "webhook_secret": "whsec_ghijkl"})
    assert r.status_code == 200, r.text
    listed = client.get(f"{API}/payment-gateways", headers=h)
    for answer in (r, listed):
        assert "sk_test_abcdef" not in answer.text and "whsec_ghijkl" not in answer.text
    assert listed.json()[0]["has_secret_key"] is True
    with db_session(app) as db:
        rows = db.scalars(select(AuditLog).where(
            AuditLog.action == "payment_gateway.save")).all()
        assert len(rows) == 1 and rows[0].after_snapshot["gateway"] == "test"
        dumped = json.dumps([[row.before_snapshot, row.after_snapshot] for row in rows])
    assert "sk_test_abcdef" not in dumped and "whsec_ghijkl" not in dumped


# ---- migration 0008 --------------------------------------------------------------------------

def _insert(conn: Any, table_name: str, /, **values: Any) -> None:
    """A raw INSERT of the columns given (the schema of revision 0007, whatever the models)."""
    def type_of(value: Any) -> Any:
        if isinstance(value, dict):
            return JsonType
        if isinstance(value, bool):
            return sa.Boolean()
        return sa.DateTime(timezone=True) if isinstance(value, datetime) else None

    now = datetime.now(UTC)
    values = {"created_at": now, "updated_at": now, **values}
    target = sa.table(table_name, *(sa.column(k, type_of(v)) for k, v in values.items()))
    conn.execute(target.insert().values(**values))


def _plaintext_rows_at_0007(engine: Engine) -> dict[str, str]:
    migrate.upgrade(engine, "0007")
    ids = {"store": new_id(), "user": new_id(), "bare_user": new_id(), "history": new_id(),
           "payment_gateway_config": new_id(), "external_platform_integration": new_id()}
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT set_config(:n, :v, true)"),
                         {"n": rls.STORE_SETTING, "v": ids["store"]})
        _insert(conn, "store", id=ids["store"], name="Old Shop", slug="old", code="OLD",
                status="ACTIVE", timezone="UTC", currency="USD", language="en",
                primary_color="#000", secondary_color="#fff", email="o@old.test",
                onboarding_completed=True, allow_coupons_with_flash_sale=False, settings={})
        for key, secret in (("user", PLAINTEXT["user", "mfa_secret"]), ("bare_user", None)):
            _insert(conn, "user", id=ids[key], email=f"{key}@old.test", password="x",
                    mfa_enabled=secret is not None, mfa_secret=secret, sms_enabled=False,
                    language="en", timezone="UTC", status="ACTIVE", is_super_admin=False,
                    failed_login_count=0)
        # A row that the user's ON DELETE CASCADE would take with it.
        _insert(conn, "password_history", id=ids["history"], user_id=ids["user"],
                password_hash="old")
        _insert(conn, "payment_gateway_config", id=ids["payment_gateway_config"],
                store_id=ids["store"], gateway="test", is_active=True, is_test_mode=True,
                settings={}, **{c: v for (t, c), v in PLAINTEXT.items()
                                if t == "payment_gateway_config"})
        _insert(conn, "external_platform_integration", id=ids["external_platform_integration"],
                store_id=ids["store"], platform="SHOPIFY", sync_direction="BIDIRECTIONAL",
                api_url="https://old.test", api_key=PLAINTEXT["external_platform_integration",
                                                               "api_key"],
                api_secret=None, webhook_secret=PLAINTEXT["external_platform_integration",
                                                          "webhook_secret"],
                entity_overrides={}, conflict_resolution="LAST_WRITE_WINS", is_active=True,
                sync_status="IDLE")
    return ids


def _column_type(engine: Engine, table: str, column: str) -> str:
    found = {c["name"]: c["type"] for c in inspect(engine).get_columns(table)}
    return type(found[column]).__name__.upper()


def _check_migration(engine: Engine, ids: dict[str, str]) -> None:
    migrate.upgrade(engine)
    expected = {k: v for k, v in PLAINTEXT.items() if k[1] != "api_secret"}
    for (table_name, column), plaintext in expected.items():
        stored = _raw(engine, table_name, column, ids[table_name])
        assert plaintext not in stored, f"{table_name}.{column} left in plaintext"
        assert Fernet(DATA_KEY).decrypt(stored).decode() == plaintext
        assert _orm(engine, table_name, column, ids[table_name]) == plaintext
        assert _column_type(engine, table_name, column) == "TEXT"
    assert _raw(engine, "external_platform_integration", "api_secret",
                ids["external_platform_integration"]) is None
    assert _raw(engine, "user", "mfa_secret", ids["bare_user"]) is None

    migrate.downgrade(engine, "0007")
    for (table_name, column), plaintext in expected.items():
        assert _raw(engine, table_name, column, ids[table_name]) == plaintext
        assert _column_type(engine, table_name, column) == "VARCHAR"
    assert _raw(engine, "user", "mfa_secret", ids["bare_user"]) is None


def test_the_migration_encrypts_what_0007_stored_and_downgrade_restores_it(db_url: str) -> None:
    engine = make_engine(db_url)
    ids = _plaintext_rows_at_0007(engine)
    _check_migration(engine, ids)
    with engine.connect() as conn:
        # SQLite rebuilt ``user`` with foreign keys off: its children are intact, and the
        # pooled connection enforces foreign keys again.
        assert conn.execute(text("SELECT count(*) FROM password_history WHERE user_id = :u"),
                            {"u": ids["user"]}).scalar_one() == 1
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


@pytest.mark.postgres
@postgresql_only
def test_the_migration_reaches_store_rows_under_row_level_security_as_the_owner(
    backend: str, pg_cluster: Any
) -> None:
    """Run by a plain owner role (not a superuser, which skips RLS): without the bypass it
    would see none of the store-owned rows and leave them in plaintext."""
    import psycopg

    name = f"owner_{os.getpid()}_{new_id()[:8]}"
    admin = f"host=127.0.0.1 port={pg_cluster.port} user={pg_cluster.superuser} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                     f"'{rls.APP_ROLE}') THEN CREATE ROLE {rls.APP_ROLE} NOLOGIN; END IF; END $$")
        conn.execute(f"CREATE ROLE {name} LOGIN")
        conn.execute(f'CREATE DATABASE "{name}" OWNER {name}')
    engine = make_engine(pg_cluster.url(name, user=name))
    try:
        with engine.connect() as conn:
            assert not conn.execute(text("SELECT rolsuper FROM pg_roles "
                                         "WHERE rolname = current_user")).scalar_one()
        ids = _plaintext_rows_at_0007(engine)
        _check_migration(engine, ids)
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}"')
            conn.execute(f"DROP ROLE {name}")


# ---- the key rule per backend ----------------------------------------------------------------

def test_postgresql_without_a_key_refuses_to_start_and_says_how_to_make_one() -> None:
    settings = Settings(database_url="postgresql+psycopg://app@db.internal/stormcom",
                        data_keys="")
    with pytest.raises(ConfigError) as caught:
        create_app(settings)
    message = str(caught.value)
    assert "STORMCOM_DATA_KEYS is not set" in message and "gen-data-key" in message


def test_the_cli_refuses_postgresql_without_a_key_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STORMCOM_DATABASE_URL", "postgresql+psycopg://app@127.0.0.1:1/x")
    monkeypatch.delenv("STORMCOM_DATA_KEYS")
    assert cli.main(["migrate"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "STORMCOM_DATA_KEYS is not set" in lines[0]


def test_gen_data_key_prints_a_new_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["gen-data-key"]) == 0
    assert cli.main(["gen-data-key"]) == 0
    first, second = capsys.readouterr().out.split()
    assert first != second
    assert Fernet(first).decrypt(Fernet(first).encrypt(b"x")) == b"x"


def test_sqlite_without_a_key_makes_data_key_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'shop.db'}"
    keys, source = encrypted.load_keys(Settings(database_url=url, data_keys=""))
    key_file = tmp_path / "var" / "data.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert keys == [key_file.read_text().strip()] and str(key_file) in source
    Fernet(keys[0])
    assert encrypted.load_keys(Settings(database_url=url, data_keys=""))[0] == keys  # kept
    assert sorted(p.name for p in key_file.parent.iterdir()) == ["data.key"]

    encrypted.configure_from_settings(Settings(database_url=url, data_keys=""))
    assert Fernet(keys[0]).decrypt(encrypted.encrypt("s")) == b"s"


def test_the_setting_wins_over_the_key_file_and_bad_keys_are_config_errors(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    key = encrypted.generate_key()
    assert encrypted.load_keys(Settings(database_url=url, data_keys=key)) == (
        [key], "STORMCOM_DATA_KEYS")
    assert not (tmp_path / "data.key").exists()
    with pytest.raises(ConfigError, match="STORMCOM_DATA_KEYS holds something that is not"):
        encrypted.configure_from_settings(Settings(database_url=url, data_keys="not-a-key"))
    (tmp_path / "data.key").write_text("garbage\n")
    with pytest.raises(ConfigError, match="data.key holds something that is not"):
        encrypted.configure_from_settings(Settings(database_url=url, data_keys=""))


def _stored_secrets(engine: Engine) -> int:
    with engine.begin() as conn, rls.bypass_rls(conn):
        return sum(conn.execute(text(f'SELECT count({column}) FROM "{table}"')).scalar_one()
                   for table, column in PLAINTEXT)


def test_rotate_data_key_moves_every_stored_secret_to_the_first_key(
    world_db: tuple[str, World], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key_a, key_b = encrypted.generate_key(), encrypted.generate_key()
    url, engine, ids = _written_under(key_a, world_db)
    stored = _stored_secrets(engine)
    monkeypatch.setenv("STORMCOM_DATABASE_URL", url)
    # The seeded rows were written under the run's key: it stays listed until they move too.
    monkeypatch.setenv("STORMCOM_DATA_KEYS", f"{key_b},{key_a},{DATA_KEY}")

    assert cli.main(["rotate-data-key"]) == 0

    assert f"re-encrypted {stored} stored secrets" in capsys.readouterr().out
    for (table, column), plaintext in PLAINTEXT.items():
        assert Fernet(key_b).decrypt(_raw(engine, table, column, ids[table])).decode() == plaintext
    encrypted.configure([key_b])  # the old keys can go
    for (table, column), plaintext in PLAINTEXT.items():
        assert _orm(engine, table, column, ids[table]) == plaintext
    engine.dispose()


def test_rotate_data_key_without_the_old_key_fails_naming_the_column_and_changes_nothing(
    world_db: tuple[str, World], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, world = world_db
    engine = make_engine(url)
    ids = _write(engine, world, PLAINTEXT)
    before = _raw(engine, "payment_gateway_config", "secret_key", ids["payment_gateway_config"])
    monkeypatch.setenv("STORMCOM_DATABASE_URL", url)
    monkeypatch.setenv("STORMCOM_DATA_KEYS", encrypted.generate_key())

    assert cli.main(["rotate-data-key"]) == 2

    error = capsys.readouterr().err
    assert "does not decrypt with the data key" in error and "STORMCOM_DATA_KEYS" in error
    assert any(f"{table}.{column}" in error for table, column in PLAINTEXT)
    assert _raw(engine, "payment_gateway_config", "secret_key",
                ids["payment_gateway_config"]) == before
    engine.dispose()


@pytest.mark.postgres
@postgresql_only
def test_rewriting_secrets_as_the_application_role_is_refused(
    world_db: tuple[str, World],
) -> None:
    """Row-level security would hide every other store's rows from it: refuse, do not skip."""
    url, _ = world_db
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SET LOCAL ROLE {rls.APP_ROLE}"))
            with pytest.raises(ConfigError, match="needs the database owner"):
                encrypted.rewrite_columns(conn, {"user": ["mfa_secret"]}, encrypted.rotate)
    finally:
        engine.dispose()


def test_rotation_covers_exactly_the_encrypted_columns_of_the_models() -> None:
    from server.db.all_models import Base

    found = {(table, column) for table, columns in encrypted.secret_columns(Base.metadata).items()
             for column in columns}
    assert found == set(PLAINTEXT)

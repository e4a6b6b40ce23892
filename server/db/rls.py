"""PostgreSQL row-level security (defence in depth behind ``server.db.tenancy``) and the
audit-log guard. Migration 0003 installs both; on SQLite everything here is a no-op.

**Row-level security.** Every table with a ``store_id`` column gets RLS enabled *and forced*
(so the table owner is subject to it too) and one policy, ``store_isolation``::

    USING      (store_id = current_setting('app.current_store_id', true) OR stormcom_rls_bypass())
    WITH CHECK (the same; plus ``store_id IS NULL`` where the column is nullable: audit_log's
                platform-level events)

``app.current_store_id`` is set per transaction by the request's session
(``server.db.tenancy.set_current_store``). Without it a query sees no store-owned row at all.

**Bypass for platform jobs.** ``stormcom_rls_bypass()`` is true when the transaction set
``app.bypass_rls = 'on'`` *and* the current role does not act with the application role's
rights (``pg_has_role(.., 'USAGE')``: not a member that inherits it).
So only the owner/migration role (retention purges, cross-store reports, operator commands when
the owner is not a superuser) can bypass, through :func:`bypass_rls`; the application role can
set the variable but it has no effect. Superusers skip RLS entirely (PostgreSQL's rule).

**The application role.** ``stormcom_app`` is created ``NOLOGIN``, owns nothing, and gets
SELECT/INSERT/UPDATE/DELETE on the tables (only SELECT/INSERT on ``audit_log``, only SELECT on
``alembic_version``), also on tables the owner creates later (default privileges). Production
gives the server a login that is a member of it, e.g.::

    CREATE ROLE stormcom_web LOGIN PASSWORD '...' IN ROLE stormcom_app;
    -- STORMCOM_DATABASE_URL=postgresql+psycopg://stormcom_web:...@db/stormcom

(or ``ALTER ROLE stormcom_app LOGIN PASSWORD '...'``), while migrations keep running as the
owner. Never make the owner a member of ``stormcom_app``. Roles are cluster-wide: creating it
needs CREATEROLE, and downgrade drops it only when no other database still uses it.

**Audit log guard.** A trigger refuses UPDATE, DELETE and TRUNCATE on ``audit_log``, except:

- DELETE/TRUNCATE when the transaction set ``app.audit_retention = 'on'`` (the retention purge
  after a year, :func:`audit_retention`; the application role has no DELETE privilege anyway);
- the foreign-key actions of the schema: deleting a store cascades to its audit rows, deleting
  a user or device nulls ``user_id``/``device_id`` (a nested trigger changing nothing else).

Tables created by later migrations must call :func:`enable_table` themselves (a test checks that
every ``store_id`` table of the models has its policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

APP_ROLE = "stormcom_app"
POLICY = "store_isolation"
STORE_SETTING = "app.current_store_id"
BYPASS_SETTING = "app.bypass_rls"
RETENTION_SETTING = "app.audit_retention"
BYPASS_FUNCTION = "stormcom_rls_bypass"
AUDIT_GUARD_FUNCTION = "stormcom_audit_log_guard"
AUDIT_TABLE = "audit_log"

_CREATE_ROLE = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object THEN NULL;
END $$"""

_DROP_ROLE = f"""
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    DROP ROLE {APP_ROLE};
  END IF;
EXCEPTION WHEN dependent_objects_still_exist THEN
  RAISE NOTICE 'role {APP_ROLE} is still used by another database; kept';
END $$"""

# USAGE, not MEMBER: whether the role acts with the app role's rights. PostgreSQL 16 grants a
# role back to the non-superuser that created it, as a member that does not inherit it: the
# owner that ran migration 0003 holds stormcom_app that way, and must still bypass.
_BYPASS_FN = f"""
CREATE OR REPLACE FUNCTION {BYPASS_FUNCTION}() RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('{BYPASS_SETTING}', true), '') = 'on'
     AND NOT pg_has_role('{APP_ROLE}', 'USAGE')
$$"""

_AUDIT_GUARD_FN = f"""
CREATE OR REPLACE FUNCTION {AUDIT_GUARD_FUNCTION}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'TRUNCATE')
     AND coalesce(current_setting('{RETENTION_SETTING}', true), '') = 'on' THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'DELETE' AND pg_trigger_depth() > 1 THEN
    RETURN OLD;  -- ON DELETE CASCADE from store
  END IF;
  IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1
     AND (to_jsonb(NEW) - 'user_id' - 'device_id') = (to_jsonb(OLD) - 'user_id' - 'device_id')
     AND (NEW.user_id IS NULL OR NEW.user_id = OLD.user_id)
     AND (NEW.device_id IS NULL OR NEW.device_id = OLD.device_id) THEN
    RETURN NEW;  -- ON DELETE SET NULL from user or device
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Retention purges set app.audit_retention = on in their transaction.';
END $$"""

_AUDIT_TRIGGERS = [
    f"CREATE TRIGGER audit_log_immutable BEFORE UPDATE OR DELETE ON {AUDIT_TABLE} "
    f"FOR EACH ROW EXECUTE FUNCTION {AUDIT_GUARD_FUNCTION}()",
    f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {AUDIT_TABLE} "
    f"FOR EACH STATEMENT EXECUTE FUNCTION {AUDIT_GUARD_FUNCTION}()",
]

_GRANTS = [
    f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}",
    f"REVOKE UPDATE, DELETE ON {AUDIT_TABLE} FROM {APP_ROLE}",
    f"REVOKE INSERT, UPDATE, DELETE ON alembic_version FROM {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}",
]

_REVOKES = [
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {APP_ROLE}",
    f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {APP_ROLE}",
    f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {APP_ROLE}",
    f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {APP_ROLE}",
    f"REVOKE ALL ON SCHEMA public FROM {APP_ROLE}",
]


def is_postgres(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def store_owned_tables(conn: Connection) -> list[tuple[str, bool]]:
    """(table, store_id nullable) for every base table of the schema with a store_id column."""
    rows = conn.execute(text(
        "SELECT c.table_name, c.is_nullable = 'YES' FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
        "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
        "WHERE c.table_schema = current_schema() AND c.column_name = 'store_id' "
        "ORDER BY c.table_name"
    ))
    return [(str(r[0]), bool(r[1])) for r in rows]


def enable_table(conn: Connection, table: str, *, nullable: bool = False) -> None:
    """Force RLS on one store-owned table with the ``store_isolation`` policy."""
    match = f"store_id = current_setting('{STORE_SETTING}', true) OR {BYPASS_FUNCTION}()"
    check = f"store_id IS NULL OR {match}" if nullable else match
    conn.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
    conn.execute(text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
    conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
    conn.execute(text(
        f'CREATE POLICY {POLICY} ON "{table}" FOR ALL USING ({match}) WITH CHECK ({check})'
    ))


def disable_table(conn: Connection, table: str) -> None:
    conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
    conn.execute(text(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY'))
    conn.execute(text(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY'))


def install(conn: Connection) -> None:
    """Role, grants, bypass function, policies and the audit guard (PostgreSQL only)."""
    if not is_postgres(conn):
        return
    conn.execute(text(_CREATE_ROLE))
    install_bypass_function(conn)
    for table, nullable in store_owned_tables(conn):
        enable_table(conn, table, nullable=nullable)
    for stmt in _GRANTS:
        conn.execute(text(stmt))
    conn.execute(text(_AUDIT_GUARD_FN))
    for stmt in _AUDIT_TRIGGERS:
        conn.execute(text(stmt))


def install_bypass_function(conn: Connection) -> None:
    """(Re)define ``stormcom_rls_bypass()`` as this module has it (PostgreSQL only)."""
    if is_postgres(conn):
        conn.execute(text(_BYPASS_FN))


def uninstall(conn: Connection) -> None:
    """Undo :func:`install` exactly (the role survives while another database uses it)."""
    if not is_postgres(conn):
        return
    conn.execute(text(f"DROP TRIGGER IF EXISTS audit_log_no_truncate ON {AUDIT_TABLE}"))
    conn.execute(text(f"DROP TRIGGER IF EXISTS audit_log_immutable ON {AUDIT_TABLE}"))
    conn.execute(text(f"DROP FUNCTION IF EXISTS {AUDIT_GUARD_FUNCTION}()"))
    for table, _nullable in store_owned_tables(conn):
        disable_table(conn, table)
    conn.execute(text(f"DROP FUNCTION IF EXISTS {BYPASS_FUNCTION}()"))
    role = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE})
    if role.first() is not None:
        for stmt in _REVOKES:
            conn.execute(text(stmt))
    conn.execute(text(_DROP_ROLE))


USER_SETTING = "app.current_user_id"
MEMBER_POLICY = "own_memberships"
_ME = f"current_setting('{USER_SETTING}', true)"
_MEMBER_POLICIES = {
    "user_store": f"user_id = {_ME}",
    "store_subscription": (
        f"store_id IN (SELECT us.store_id FROM user_store us WHERE us.user_id = {_ME})"),
}


def install_member_policies(conn: Connection) -> None:
    """SELECT policies letting the signed-in user read their memberships in every store."""
    if not is_postgres(conn):
        return
    for table, using in _MEMBER_POLICIES.items():
        conn.execute(text(f'DROP POLICY IF EXISTS {MEMBER_POLICY} ON "{table}"'))
        conn.execute(text(
            f'CREATE POLICY {MEMBER_POLICY} ON "{table}" FOR SELECT USING ({using})'))


def uninstall_member_policies(conn: Connection) -> None:
    if not is_postgres(conn):
        return
    for table in _MEMBER_POLICIES:
        conn.execute(text(f'DROP POLICY IF EXISTS {MEMBER_POLICY} ON "{table}"'))


def tables_with_policy(conn: Connection) -> set[str]:
    """Tables of the current schema that have RLS forced and the store policy."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_policy p ON p.polrelid = c.oid AND p.polname = :policy "
        "WHERE n.nspname = current_schema() AND c.relrowsecurity AND c.relforcerowsecurity"
    ), {"policy": POLICY})
    return {str(r[0]) for r in rows}


def _set_local(db: Session | Connection, name: str, value: str) -> None:
    db.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def sees_every_store(db: Session | Connection) -> bool:
    """Whether this transaction reads every store's rows: always on SQLite; on PostgreSQL a
    superuser, or the owner inside :func:`bypass_rls` (never the application role)."""
    bind = db.get_bind() if isinstance(db, Session) else db
    if bind.dialect.name != "postgresql":
        return True
    return bool(db.execute(text(
        f"SELECT {BYPASS_FUNCTION}() OR (SELECT rolsuper FROM pg_roles "
        "WHERE rolname = current_user)")).scalar())


@contextmanager
def bypass_rls(db: Session | Connection) -> Iterator[None]:
    """Let a platform job (or a data migration) running as the owner role read and write every
    store's rows for the rest of this block (in this transaction). No effect for the
    application role, nor on SQLite. Combine with the ORM's ``all_stores`` execution option."""
    bind = db.get_bind() if isinstance(db, Session) else db
    if bind.dialect.name != "postgresql":
        yield
        return
    _set_local(db, BYPASS_SETTING, "on")
    try:
        yield
    finally:
        _set_local(db, BYPASS_SETTING, "off")


@contextmanager
def audit_retention(session: Session) -> Iterator[None]:
    """Allow the retention purge to DELETE audit rows in this block (owner role only: the
    application role has no DELETE privilege on audit_log)."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    _set_local(session, RETENTION_SETTING, "on")
    try:
        yield
    finally:
        _set_local(session, RETENTION_SETTING, "off")

"""Automatic store filtering for every ORM query (the house tenancy rule).

A session made by :func:`make_tenant_session_factory` reads its current store from
``session.info["store_id"]`` (set with :func:`set_current_store` once the request knows it):

- every ORM SELECT, UPDATE and DELETE gets
  ``with_loader_criteria(StoreOwnedMixin, cls.store_id == <store>)``, aliases and relationship
  loads included; with no current store, store-owned rows are not visible at all (fail closed);
- a new store-owned row without ``store_id`` gets the current store; a flush that would write a
  row of another store raises :class:`TenancyError`;
- a read-only session (a super-admin looking at a store they are not staff of) refuses to flush
  any store-owned change;
- on PostgreSQL every transaction starts with
  ``SELECT set_config('app.current_store_id', <store>, true)`` so row-level security policies
  see the same store.

The only bypass is the explicit, named execution option ``all_stores``::

    session.scalars(select(UserStore).execution_options(all_stores=True))

(for platform reads and system jobs); ``session.info["all_stores"] = True`` likewise lets a
system job flush rows of several stores. Grep for ``all_stores`` to audit every bypass.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, false, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import (
    ORMExecuteState,
    Session,
    SessionTransaction,
    sessionmaker,
    with_loader_criteria,
)

from server.db.base import StoreOwnedMixin

ALL_STORES = "all_stores"
STORE_KEY = "store_id"
READ_ONLY_KEY = "read_only"
PG_SETTING = "app.current_store_id"
PG_USER_SETTING = "app.current_user_id"
USER_KEY = "user_id"


class TenancyError(RuntimeError):
    """Code tried to write a row of a store other than the session's current store."""


class ReadOnlySession(TenancyError):
    """A read-only (cross-store super-admin) session tried to change store data."""


def current_store(session: Session) -> str | None:
    value = session.info.get(STORE_KEY)
    return str(value) if value else None


def set_current_user(session: Session, user_id: str) -> None:
    """On PostgreSQL, publish the signed-in user as ``app.current_user_id`` for this session's
    transactions (row-level security lets a user see their own memberships in every store)."""
    session.info[USER_KEY] = user_id
    if session.in_transaction():
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            apply_pg_setting(conn, user_id, PG_USER_SETTING)


def set_current_store(session: Session, store_id: str | None, *, read_only: bool = False) -> None:
    """Make ``store_id`` the session's store; on PostgreSQL also for the open transaction."""
    unchanged = session.info.get(STORE_KEY) == store_id
    session.info[STORE_KEY] = store_id
    session.info[READ_ONLY_KEY] = read_only
    # In a transaction the current store was applied when it began or when it last changed.
    if store_id and not unchanged and session.in_transaction():
        conn = session.connection()
        if conn.dialect.name == "postgresql":
            apply_pg_setting(conn, store_id)


def apply_pg_setting(conn: Connection, value: str, name: str = PG_SETTING) -> None:
    """Set a row-level-security setting (the store by default) for the open transaction."""
    conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def _after_begin(session: Session, tx: SessionTransaction, conn: Connection) -> None:
    if conn.dialect.name != "postgresql" or tx.nested:  # a SAVEPOINT inherits the settings
        return
    store_id = current_store(session)
    if store_id:
        apply_pg_setting(conn, store_id)
    user_id = session.info.get(USER_KEY)
    if user_id:
        apply_pg_setting(conn, str(user_id), PG_USER_SETTING)


def _add_store_criteria(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get(ALL_STORES, False):
        return
    store_id = current_store(state.session)
    if store_id is None:
        criteria = with_loader_criteria(StoreOwnedMixin, lambda cls: false(), include_aliases=True)
    else:
        criteria = with_loader_criteria(
            StoreOwnedMixin, lambda cls: cls.store_id == store_id, include_aliases=True
        )
    state.statement = state.statement.options(criteria)


def check_new(session: Session, objects: Any) -> None:
    """The rule for new rows (also for rows written without a flush, ``server.db.bulk``): a
    store-owned row without a store gets the current one; one of another store raises."""
    if session.info.get(ALL_STORES):
        return
    store_id, read_only = current_store(session), bool(session.info.get(READ_ONLY_KEY))
    for obj in objects:
        if not isinstance(obj, StoreOwnedMixin):
            continue
        if read_only:
            raise ReadOnlySession("this session may not change store data")
        if obj.store_id is None:
            if store_id is None:
                raise TenancyError(f"new {type(obj).__name__} has no store and none is current")
            obj.store_id = store_id
        elif obj.store_id != store_id:
            raise TenancyError(f"new {type(obj).__name__} belongs to another store")


def _check_changed(session: Session, objects: Any) -> None:
    """The rule for changed and deleted rows: only the current store's, and none in a read-only
    session (the store row itself included)."""
    if session.info.get(ALL_STORES):
        return
    store_id, read_only = current_store(session), bool(session.info.get(READ_ONLY_KEY))
    for obj in objects:
        if read_only and (isinstance(obj, StoreOwnedMixin) or obj.__table__.name == "store"):
            raise ReadOnlySession("this session may not change store data")
        if isinstance(obj, StoreOwnedMixin) and obj.store_id != store_id:
            raise TenancyError(f"{type(obj).__name__} {getattr(obj, 'id', '')} is another store's")


def _check_flush(session: Session, _ctx: Any, _instances: Any) -> None:
    check_new(session, session.new)
    _check_changed(session, [*session.dirty, *session.deleted])


def install(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Add the tenancy hooks to every session this factory makes."""
    event.listen(factory, "do_orm_execute", _add_store_criteria)
    event.listen(factory, "before_flush", _check_flush)
    event.listen(factory, "after_begin", _after_begin)
    return factory


def make_tenant_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory whose sessions are filtered by their current store."""
    return install(sessionmaker(bind=engine, expire_on_commit=False))

"""Change capture for statements the unit of work never sees: bulk INSERT, UPDATE and DELETE
run through ``Session.execute`` (``insert(Product)`` with a list of rows, the atomic
``update(Variant).where(...).values(stock_quantity=Variant.stock_quantity - 1)``, ...).

The affected ids come from the statement itself, never from a guess:

- INSERT: the ids in the parameters (ids missing from them are minted here, as the column
  default would); a single ``.values(...)`` insert gets ``RETURNING id`` appended;
- UPDATE / DELETE by primary key with a list of parameter sets: the ids in the parameters;
- ORM UPDATE / DELETE with a WHERE: run with ``synchronize_session="fetch"``, whose
  ``RETURNING`` reports the matched primary keys (PostgreSQL and SQLite >= 3.35); if the
  statement has its own RETURNING, the id is appended to it and stripped from the result;
- a Core UPDATE / DELETE without RETURNING (rare): the ids matching its WHERE, read just before
  it runs (a row that starts matching in between is missed; prefer the ORM form).

A bulk DELETE of a table with mirrored children (products -> variants...) notes the rows the
database cascades to. ``execution_options(sync_capture=False)`` turns all this off for a
statement whose changes the caller records itself (``server.sync.changes.record``).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.engine import Result
from sqlalchemy.orm import ORMExecuteState

from server.db.base import new_id
from server.db.tenancy import current_store
from server.sync import changes, mirror
from server.sync.models import ChangeOp

log = logging.getLogger("stormcom.sync")
USER = "user"


def _value_keys(stmt: Any) -> set[str]:
    keys: set[str] = set()
    for k in list(getattr(stmt, "_values", None) or ()) + list(
            getattr(stmt, "_ordered_values", None) or ()):
        key = k[0] if isinstance(k, tuple) else k
        keys.add(str(getattr(key, "key", None) or getattr(key, "name", key)))
    return keys


def _note(state: ORMExecuteState, name: str, rows: list[tuple[str, str | None]],
          op: ChangeOp) -> None:
    session = state.session
    fallback = current_store(session)
    if name == USER:
        for user_id, _ in rows:
            for member_of in changes._staff_stores(session.connection(), user_id):
                changes.record(session, store_id=member_of, entity_type=mirror.STAFF,
                               entity_id=user_id, op=op)
        return
    for row_id, store_id in rows:
        store: str | None = row_id if name == mirror.STORE else (store_id or fallback)
        if store is None:
            log.warning("change to %s %s has no store; not sequenced", name, row_id)
            continue
        changes.record(session, store_id=store, entity_type=name, entity_id=row_id, op=op)


def _store_of(params: dict[str, Any], name: str) -> str | None:
    return str(params["id"]) if name == mirror.STORE else params.get("store_id")


def _on_insert(state: ORMExecuteState, table: Table) -> Result[Any] | None:
    name = table.name
    params = state.parameters
    if isinstance(params, dict) and params:
        params = [params]
    if isinstance(params, list) and params and all(isinstance(p, dict) for p in params):
        filled = [p if p.get("id") else {**p, "id": new_id()} for p in params]
        _note(state, name, [(str(p["id"]), _store_of(p, name)) for p in filled], ChangeOp.UPSERT)
        changed = any(a is not b for a, b in zip(params, filled, strict=True))
        if not changed:
            return None
        return state.invoke_statement(
            params=filled if isinstance(state.parameters, list) else filled[0])
    return _via_returning(state, table, ChangeOp.UPSERT)


def _via_returning(state: ORMExecuteState, table: Table, op: ChangeOp) -> Result[Any]:
    """Run the statement with ``id`` (and ``store_id``) appended to its RETURNING."""
    stmt: Any = state.statement
    width = len(stmt._returning)
    extra = [table.c.id] + ([table.c.store_id] if "store_id" in table.c else [])
    result = state.invoke_statement(statement=stmt.returning(*extra))
    frozen = result.freeze()
    rows = [(str(r[width]), str(r[width + 1]) if len(extra) > 1 and r[width + 1] else None)
            for r in frozen.data]
    _note(state, table.name, rows, op)
    return frozen().columns(*range(width)) if width else frozen()


def _preselect(state: ORMExecuteState, table: Table) -> list[tuple[str, str | None]]:
    cols = [table.c.id] + ([table.c.store_id] if "store_id" in table.c else [])
    query = select(*cols)
    where = getattr(state.statement, "whereclause", None)
    if where is not None:
        query = query.where(where)
    if "store_id" in table.c and not state.execution_options.get("all_stores"):
        store = current_store(state.session)
        if store is not None:
            query = query.where(table.c.store_id == store)
    conn = state.session.connection()
    return [(str(r[0]), str(r[1]) if len(r) > 1 else None) for r in conn.execute(query)]


def _cascade_deletes(state: ORMExecuteState, table: Table) -> None:
    out: list[changes.Key] = []
    seen: set[tuple[str, str]] = set()
    for row_id, _ in _preselect(state, table):
        changes._cascade(state.session, table.name, row_id, out, seen)
    changes.record_many(state.session, out)


def _update_op(stmt: Any, params: Any) -> ChangeOp:
    """DELETE for a soft delete (``deleted_at`` set to a value), else UPSERT."""
    if isinstance(params, list):
        return ChangeOp.DELETE if any(p.get("deleted_at") for p in params) else ChangeOp.UPSERT
    for key, value in (getattr(stmt, "_values", None) or {}).items():
        if str(getattr(key, "key", None) or getattr(key, "name", key)) == "deleted_at":
            bound = getattr(value, "value", value)
            return ChangeOp.UPSERT if bound is None else ChangeOp.DELETE
    return ChangeOp.UPSERT


def _with_stores(
    state: ORMExecuteState, table: Table, ids: list[str]
) -> list[tuple[str, str | None]]:
    if "store_id" not in table.c or not ids:
        return [(i, None) for i in ids]
    query = select(table.c.id, table.c.store_id).where(table.c.id.in_(ids))
    return [(str(r[0]), str(r[1])) for r in state.session.connection().execute(query)]


def on_execute(state: ORMExecuteState) -> Result[Any] | None:
    """The ``do_orm_execute`` hook (see the module docstring)."""
    if not (state.is_insert or state.is_update or state.is_delete):
        return None
    if state.execution_options.get("sync_capture", True) is False:
        return None
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if not isinstance(table, Table) or name is None:
        return None
    if state.is_insert:
        return _on_insert(state, table) if name in mirror.MIRRORED_TABLES else None
    if state.is_delete and name in changes._children() and name != mirror.STORE:
        _cascade_deletes(state, table)
    if name == USER:
        if state.is_delete or not _value_keys(state.statement) & set(mirror.STAFF_USER_FIELDS):
            return None
    elif name not in mirror.MIRRORED_TABLES or (name == mirror.STORE and state.is_delete):
        return None
    params = state.parameters
    op = ChangeOp.DELETE if state.is_delete else _update_op(state.statement, params)
    if isinstance(params, list) and params and all("id" in p for p in params):
        _note(state, name, [(str(p["id"]), p.get("store_id")) for p in params], op)
        return None
    if getattr(state.statement, "_returning", None):
        return _via_returning(state, table, op)
    cross_store = "store_id" in table.c and (
        state.execution_options.get("all_stores") or current_store(state.session) is None)
    if state.bind_mapper is None or (cross_store and state.is_delete):
        _note(state, name, _preselect(state, table), op)
        return None
    result = state.invoke_statement(execution_options={"synchronize_session": "fetch"})
    rows = getattr(result, "returned_defaults_rows", None)
    if rows is None:
        log.warning("bulk %s of %s: the backend cannot report the rows; not sequenced",
                    "DELETE" if state.is_delete else "UPDATE", name)
        return result
    ids = [str(r[0]) for r in rows]
    _note(state, name, _with_stores(state, table, ids) if cross_store else
          [(i, None) for i in ids], op)
    return result

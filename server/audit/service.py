"""Write and read the audit log. Insert-only: there is no update or delete path here.

``record`` is called by every service (or view) that changes data, in the same transaction as
the change, so the log and the change commit or roll back together. The request's session is
checked at commit (``server.api.deps``): a request that wrote data without recording an audit
row fails, unless its only writes are housekeeping that :func:`mark_housekeeping` declared.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session

from server.audit.models import AuditLog
from server.identity.principal import Principal, RequestMeta

AUDITED_KEY = "audited"
HOUSEKEEPING_KEY = "housekeeping"
WRITES_KEY = "written_models"  # filled by the request's session (server.api.deps)

# Never copied into a snapshot, whatever the entity.
SECRET_FIELDS = frozenset({
    "password", "password_hash", "session_token", "token", "pos_pin_hash", "mfa_secret",
    "mfa_backup_codes", "credential_hash", "pairing_code_hash", "refresh_token",
    "access_token", "id_token", "secret_key", "webhook_secret", "api_key", "api_secret",
})


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def snapshot(obj: Any, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """The column values of an ORM object as JSON-safe data, secrets left out."""
    skip = SECRET_FIELDS | set(exclude)
    mapper = inspect(obj).mapper
    return {
        attr.key: _jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in skip
    }


def record(
    session: Session,
    *,
    actor: Principal,
    action: str,
    entity_type: str,
    entity_id: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    request_meta: RequestMeta | None = None,
    store_id: str | None = None,
) -> AuditLog:
    """Add one audit row (the store defaults to the actor's current store)."""
    meta = request_meta or RequestMeta()
    row = AuditLog(
        store_id=store_id if store_id is not None else actor.store_id,
        user_id=actor.user_id,
        actor_email=actor.label,
        device_id=actor.device_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before_snapshot=_jsonable(before) if before is not None else None,
        after_snapshot=_jsonable(after) if after is not None else None,
        ip_address=meta.ip,
        user_agent=meta.user_agent,
    )
    session.add(row)
    session.info[AUDITED_KEY] = True
    return row


def mark_housekeeping(session: Session, *models: type) -> None:
    """Declare writes to these models in this transaction as bookkeeping, not audited actions
    (a session's last-activity time, a device's last-seen time)."""
    session.info.setdefault(HOUSEKEEPING_KEY, set()).update(models)


@dataclass(frozen=True, slots=True)
class AuditFilter:
    user_id: str | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(store_id: str, flt: AuditFilter) -> Select[Any]:
    # AuditLog's store is nullable (platform events), so it is filtered here explicitly.
    stmt = select(AuditLog).where(AuditLog.store_id == store_id)
    if flt.user_id:
        stmt = stmt.where(AuditLog.user_id == flt.user_id)
    if flt.action:
        stmt = stmt.where(AuditLog.action == flt.action)
    if flt.entity_type:
        stmt = stmt.where(AuditLog.entity_type == flt.entity_type)
    if flt.entity_id:
        stmt = stmt.where(AuditLog.entity_id == flt.entity_id)
    if flt.since:
        stmt = stmt.where(AuditLog.created_at >= flt.since)
    if flt.until:
        stmt = stmt.where(AuditLog.created_at < flt.until)
    return stmt


def list_(
    session: Session, *, store_id: str, flt: AuditFilter, page: int, page_size: int
) -> tuple[Sequence[AuditLog], int]:
    """One page of a store's audit log, newest first, and the total count."""
    stmt = _filtered(store_id, flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    ).all()
    return rows, int(total)

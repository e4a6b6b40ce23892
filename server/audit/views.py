"""The back office's audit-log list: filtered, newest first, paged (20 by default, 100 max)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import CurrentTenant, SessionDep, require_permission
from server.api.errors import problem_responses
from server.audit import service as audit_service
from server.audit.schemas import AuditLogPage, AuditLogRead
from server.clock import as_utc
from server.identity.principal import Principal

router = APIRouter(prefix="/audit-logs", tags=["audit"])


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value).astimezone(UTC)


@router.get("", response_model=AuditLogPage, responses=problem_responses(400, 401, 403, 422))
def list_audit_logs(
    _: Annotated[Principal, require_permission("audit.read")],
    store_id: CurrentTenant,
    db: SessionDep,
    user_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    entity_type: Annotated[str | None, Query(max_length=100)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="From this instant (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AuditLogPage:
    """The current store's audit log, filtered by user, action, entity and date."""
    flt = audit_service.AuditFilter(user_id=user_id, action=action, entity_type=entity_type,
                                    entity_id=entity_id, since=_utc(since), until=_utc(until))
    rows, total = audit_service.list_(db, store_id=store_id, flt=flt, page=page,
                                      page_size=page_size)
    return AuditLogPage(
        items=[AuditLogRead.model_validate(r, from_attributes=True) for r in rows],
        total=total, page=page, page_size=page_size,
    )

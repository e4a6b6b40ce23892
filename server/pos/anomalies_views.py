"""GET /anomalies: the back office's list of what POS ingestion flagged (orders.read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from server.api.deps import CurrentTenant, SessionDep, require_permission
from server.api.errors import problem_responses
from server.api.schema_types import UtcDateTime
from server.clock import as_utc
from server.identity.principal import Principal
from server.pos import anomalies_service
from server.pos.anomaly_models import AnomalyKind

router = APIRouter(prefix="/anomalies", tags=["pos"])


class AnomalyRead(BaseModel):
    id: str
    kind: AnomalyKind
    entity_type: str
    entity_id: str | None
    device_id: str | None
    op_id: str | None
    detail: dict[str, Any]
    occurred_at: UtcDateTime | None
    created_at: UtcDateTime


class AnomalyPage(BaseModel):
    items: list[AnomalyRead]
    total: int
    page: int
    page_size: int
    by_kind: dict[str, int]


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value).astimezone(UTC)


@router.get("", response_model=AnomalyPage, responses=problem_responses(400, 401, 403, 422))
def list_anomalies(
    _: Annotated[Principal, require_permission("orders.read")],
    store_id: CurrentTenant,
    db: SessionDep,
    kind: Annotated[list[AnomalyKind] | None, Query(description="One or more kinds")] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    entity_type: Annotated[str | None, Query(max_length=64)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    op_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[datetime | None, Query(description="From this instant (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AnomalyPage:
    """Price mismatches, negative stock, late operations after a close, quarantined
    operations and the other flags of accepted till operations, newest first."""
    flt = anomalies_service.AnomalyFilter(
        kinds=tuple(kind or ()), device_id=device_id, entity_type=entity_type,
        entity_id=entity_id, op_id=op_id, since=_utc(since), until=_utc(until))
    rows, total = anomalies_service.list_(db, store_id=store_id, flt=flt, page=page,
                                          page_size=page_size)
    return AnomalyPage(items=[AnomalyRead.model_validate(r, from_attributes=True) for r in rows],
                       total=total, page=page, page_size=page_size,
                       by_kind=anomalies_service.counts(db, store_id=store_id, flt=flt))

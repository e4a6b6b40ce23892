"""The back office's anomaly list: what ingestion flagged, newest first, filtered and paged.

Rows come from ``PosAnomaly`` (see :mod:`server.pos.anomaly_models`): price mismatches,
negative stock, late operations after a close, quarantined operations and the other kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.pos.anomaly_models import AnomalyKind, PosAnomaly


@dataclass(frozen=True, slots=True)
class AnomalyFilter:
    kinds: tuple[AnomalyKind, ...] = ()
    device_id: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    op_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(store_id: str, flt: AnomalyFilter) -> Select[Any]:
    stmt = select(PosAnomaly).where(PosAnomaly.store_id == store_id)
    if flt.kinds:
        stmt = stmt.where(PosAnomaly.kind.in_(flt.kinds))
    if flt.device_id:
        stmt = stmt.where(PosAnomaly.device_id == flt.device_id)
    if flt.entity_type:
        stmt = stmt.where(PosAnomaly.entity_type == flt.entity_type)
    if flt.entity_id:
        stmt = stmt.where(PosAnomaly.entity_id == flt.entity_id)
    if flt.op_id:
        stmt = stmt.where(PosAnomaly.op_id == flt.op_id)
    if flt.since:
        stmt = stmt.where(PosAnomaly.created_at >= flt.since)
    if flt.until:
        stmt = stmt.where(PosAnomaly.created_at < flt.until)
    return stmt


def list_(session: Session, *, store_id: str, flt: AnomalyFilter, page: int,
          page_size: int) -> tuple[Sequence[PosAnomaly], int]:
    """One page of the store's anomalies, newest first, and the total count."""
    stmt = _filtered(store_id, flt)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(PosAnomaly.created_at.desc(), PosAnomaly.id.desc())
        .offset((page - 1) * page_size).limit(page_size)).all()
    return rows, int(total)


def counts(session: Session, *, store_id: str, flt: AnomalyFilter) -> dict[str, int]:
    """How many of each kind match the filter (the list's summary)."""
    sub = _filtered(store_id, flt).subquery()
    rows = session.execute(select(sub.c.kind, func.count()).group_by(sub.c.kind))
    return {AnomalyKind(kind).value: int(n) for kind, n in rows}

"""Tax rates: CRUD, and the store's rates as the shared tax rules see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.errors import Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.tax.models import TaxRate
from server.tax.schemas import TaxRateCreate, TaxRateUpdate
from stormcom_pos.domain import tax as tax_rules

SORTS = {
    "priority": (TaxRate.priority, TaxRate.id),
    "name": (TaxRate.name, TaxRate.id),
    "-created_at": (TaxRate.created_at.desc(), TaxRate.id),
    "created_at": (TaxRate.created_at, TaxRate.id),
}
NOT_NULL = ("name", "country", "rate", "is_compound", "priority", "is_active")


def get(session: Session, *, tax_rate_id: str) -> TaxRate:
    """A live tax rate of the current store, or 404."""
    rate = session.get(TaxRate, tax_rate_id)
    if rate is None or rate.deleted_at is not None:
        raise NotFound("There is no such tax rate.", code="tax_rate_not_found")
    return rate


def list_(
    session: Session, *, country: str | None, is_active: bool | None, q: str | None,
    sort: str, page: int, page_size: int,
) -> tuple[Sequence[TaxRate], int]:
    """One page of the store's tax rates."""
    stmt = select(TaxRate).where(TaxRate.deleted_at.is_(None))
    if country:
        stmt = stmt.where(TaxRate.country == country.upper())
    if is_active is not None:
        stmt = stmt.where(TaxRate.is_active.is_(is_active))
    if q:
        stmt = stmt.where(func.lower(TaxRate.name).contains(q.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*SORTS[sort]).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return rows, int(total)


def create(session: Session, *, actor: Principal, data: TaxRateCreate,
           meta: RequestMeta) -> TaxRate:
    """Add a tax rate."""
    rate = TaxRate(**data.model_dump())
    session.add(rate)
    session.flush()
    audit.record(session, actor=actor, action="tax_rate.create", entity_type="tax_rate",
                 entity_id=rate.id, after=audit.snapshot(rate), request_meta=meta)
    return rate


def update(session: Session, *, actor: Principal, rate: TaxRate, data: TaxRateUpdate,
           meta: RequestMeta) -> TaxRate:
    """Change the fields sent."""
    changes: dict[str, Any] = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k in NOT_NULL if k in changes and changes[k] is None)
    if nulls:
        raise Invalid(f"{', '.join(nulls)} cannot be null.", code="invalid_field")
    before = audit.snapshot(rate)
    for key, value in changes.items():
        setattr(rate, key, value)
    session.flush()
    audit.record(session, actor=actor, action="tax_rate.update", entity_type="tax_rate",
                 entity_id=rate.id, before=before, after=audit.snapshot(rate),
                 request_meta=meta)
    return rate


def delete(session: Session, *, actor: Principal, rate: TaxRate, now: datetime,
           meta: RequestMeta) -> None:
    """Soft-delete: past orders keep their tax lines; the rate stops applying."""
    before = audit.snapshot(rate)
    rate.deleted_at = now
    rate.is_active = False
    session.flush()
    audit.record(session, actor=actor, action="tax_rate.delete", entity_type="tax_rate",
                 entity_id=rate.id, before=before, request_meta=meta)


def to_rule(rate: TaxRate) -> tax_rules.TaxRate:
    return tax_rules.TaxRate(
        id=rate.id, name=rate.name, rate=rate.rate, country=rate.country, state=rate.state,
        city=rate.city, postal_code=rate.postal_code, priority=rate.priority,
        is_compound=rate.is_compound, is_active=rate.is_active,
    )


def active_rules(session: Session) -> tuple[tax_rules.TaxRate, ...]:
    """Every live, active rate of the current store for the shared tax rules."""
    rows = session.scalars(select(TaxRate).where(TaxRate.deleted_at.is_(None),
                                                 TaxRate.is_active.is_(True))).all()
    return tuple(to_rule(r) for r in rows)

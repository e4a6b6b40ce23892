"""Tax rates of the current store."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from server.api.deps import MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.identity.principal import Principal
from server.tax import service as tax_service
from server.tax.models import TaxRate
from server.tax.schemas import TaxRateCreate, TaxRatePage, TaxRateRead, TaxRateUpdate

router = APIRouter(prefix="/tax-rates", tags=["tax"])
Reader = Annotated[Principal, require_permission("settings.read")]
Writer = Annotated[Principal, require_permission("tax.write")]


def _read(rate: TaxRate) -> TaxRateRead:
    return TaxRateRead.model_validate(rate, from_attributes=True)


@router.get("", response_model=TaxRatePage, responses=problem_responses(400, 401, 403, 422))
def list_tax_rates(
    _: Reader,
    db: SessionDep,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    is_active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Literal["priority", "name", "created_at", "-created_at"] = "priority",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TaxRatePage:
    """The store's tax rates, filtered by country, active flag and name."""
    rows, total = tax_service.list_(db, country=country, is_active=is_active, q=q, sort=sort,
                                    page=page, page_size=page_size)
    return TaxRatePage(items=[_read(r) for r in rows], total=total, page=page,
                       page_size=page_size)


@router.post("", response_model=TaxRateRead, status_code=201,
             responses=problem_responses(400, 401, 403, 422))
def create_tax_rate(body: TaxRateCreate, actor: Writer, db: SessionDep,
                    meta: MetaDep) -> TaxRateRead:
    """Add a tax rate (a fraction with up to 6 decimals: 0.09975 for Quebec's QST)."""
    return _read(tax_service.create(db, actor=actor, data=body, meta=meta))


@router.get("/{tax_rate_id}", response_model=TaxRateRead,
            responses=problem_responses(400, 401, 403, 404))
def get_tax_rate(tax_rate_id: str, _: Reader, db: SessionDep) -> TaxRateRead:
    """One tax rate."""
    return _read(tax_service.get(db, tax_rate_id=tax_rate_id))


@router.patch("/{tax_rate_id}", response_model=TaxRateRead,
              responses=problem_responses(400, 401, 403, 404, 422))
def update_tax_rate(tax_rate_id: str, body: TaxRateUpdate, actor: Writer, db: SessionDep,
                    meta: MetaDep) -> TaxRateRead:
    """Change a tax rate (only the fields sent)."""
    rate = tax_service.get(db, tax_rate_id=tax_rate_id)
    return _read(tax_service.update(db, actor=actor, rate=rate, data=body, meta=meta))


@router.delete("/{tax_rate_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404))
def delete_tax_rate(tax_rate_id: str, actor: Writer, db: SessionDep, now: NowDep,
                    meta: MetaDep) -> Response:
    """Retire a tax rate (orders already priced keep their tax lines)."""
    rate = tax_service.get(db, tax_rate_id=tax_rate_id)
    tax_service.delete(db, actor=actor, rate=rate, now=now, meta=meta)
    return Response(status_code=204)

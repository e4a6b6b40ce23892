"""Stock: the movement ledger, manual adjustments, stock counts and the low-stock list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from server.api.deps import CurrentTenant, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.catalog.view_params import IdQuery, PageQ, PageSizeQ
from server.clock import as_utc
from server.identity.principal import Principal
from server.inventory import service as inventory_service
from server.inventory.models import AdjustmentReason
from server.inventory.schemas import (
    AdjustmentCreate,
    CountResultLine,
    LowStockItem,
    LowStockPage,
    MovementPage,
    MovementRead,
    StockCountCreate,
    StockCountRead,
)

router = APIRouter(prefix="/inventory", tags=["inventory"])
Reader = Annotated[Principal, require_permission("inventory.read")]
Writer = Annotated[Principal, require_permission("inventory.write")]
Counter = Annotated[Principal, require_permission("inventory.count")]


def _movement(row: object) -> MovementRead:
    return MovementRead.model_validate(row, from_attributes=True)


@router.get("/movements", response_model=MovementPage,
            responses=problem_responses(400, 401, 403, 422))
def list_movements(
    _: Reader, db: SessionDep, variant_id: IdQuery = None, product_id: IdQuery = None,
    reason: AdjustmentReason | None = None, order_id: IdQuery = None,
    since: Annotated[datetime | None, Query(description="From this instant (inclusive)")] = None,
    until: Annotated[datetime | None, Query(description="Before this instant")] = None,
    page: PageQ = 1, page_size: PageSizeQ = 20,
) -> MovementPage:
    """The append-only stock ledger, newest first."""
    flt = inventory_service.MovementFilter(
        variant_id=variant_id, product_id=product_id, reason=reason, order_id=order_id,
        since=as_utc(since) if since else None, until=as_utc(until) if until else None)
    rows, total = inventory_service.movements(db, flt=flt, page=page, page_size=page_size)
    return MovementPage(items=[_movement(r) for r in rows], total=total, page=page,
                        page_size=page_size)


@router.post("/adjustments", response_model=MovementRead, status_code=201,
             responses=problem_responses(400, 401, 403, 422))
def create_adjustment(body: AdjustmentCreate, actor: Writer, store_id: CurrentTenant,
                      db: SessionDep, now: NowDep, meta: MetaDep) -> MovementRead:
    """Move stock by a signed quantity with a reason; stock may go below zero."""
    row = inventory_service.adjust(db, actor=actor, store_id=store_id,
                                   variant_id=body.variant_id, delta=body.delta,
                                   reason=body.reason.value, note=body.note, now=now, meta=meta)
    return _movement(row)


@router.post("/counts", response_model=StockCountRead, status_code=201,
             responses=problem_responses(400, 401, 403, 422))
def create_count(body: StockCountCreate, actor: Counter, store_id: CurrentTenant,
                 db: SessionDep, now: NowDep, meta: MetaDep) -> StockCountRead:
    """Record a stock count: each line becomes a CORRECTION movement (counted vs on hand, or
    vs ``seen`` when the counter's figure is sent)."""
    results = inventory_service.count(
        db, actor=actor, store_id=store_id,
        items=[(line.variant_id, line.counted, line.seen) for line in body.items],
        note=body.note, now=now, meta=meta)
    return StockCountRead(items=[CountResultLine.model_validate(r, from_attributes=True)
                                 for r in results])


@router.get("/low-stock", response_model=LowStockPage,
            responses=problem_responses(400, 401, 403, 422))
def list_low_stock(_: Reader, db: SessionDep, page: PageQ = 1,
                   page_size: PageSizeQ = 20) -> LowStockPage:
    """Tracked, active variants at or below their low-stock threshold, emptiest first."""
    rows, total = inventory_service.low_stock(db, page=page, page_size=page_size)
    return LowStockPage(
        items=[LowStockItem(variant_id=v.id, product_id=v.product_id, product_name=name,
                            sku=v.sku, barcode=v.barcode, stock_quantity=v.stock_quantity,
                            low_stock_threshold=v.low_stock_threshold) for v, name in rows],
        total=total, page=page, page_size=page_size)

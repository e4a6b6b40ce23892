"""Coupons, flash sales, and "validate these coupons for this cart"."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from server.api.deps import CurrentStore, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.identity.principal import Principal
from server.orders import pricing as order_pricing
from server.promotions import service as promotions_service
from server.promotions.models import Coupon, FlashSale, FlashSaleStatus
from server.promotions.schemas import (
    AppliedCouponRead,
    CouponCheck,
    CouponCheckRead,
    CouponCreate,
    CouponPage,
    CouponRead,
    CouponUpdate,
    FlashSaleCreate,
    FlashSalePage,
    FlashSaleRead,
    FlashSaleUpdate,
    RejectedCouponRead,
)
from stormcom_pos.domain.tax import TaxAddress

router = APIRouter(tags=["promotions"])
Reader = Annotated[Principal, require_permission("promotions.read")]
Writer = Annotated[Principal, require_permission("promotions.write")]
Page = Annotated[int, Query(ge=1, le=100_000)]
Size = Annotated[int, Query(ge=1, le=100)]


def _coupon(coupon: Coupon) -> CouponRead:
    return CouponRead.model_validate(coupon, from_attributes=True)


def _sale(sale: FlashSale) -> FlashSaleRead:
    products = list(sale.products or [])
    return FlashSaleRead(
        id=sale.id, name=sale.name, description=sale.description,
        discount_type=sale.discount_type, discount_value=sale.discount_value,
        product_ids=[p for p in products if p != promotions_service.ALL],
        all_products=promotions_service.ALL in products, start_at=sale.start_at,
        end_at=sale.end_at, status=sale.status, created_at=sale.created_at,
        updated_at=sale.updated_at,
    )


@router.get("/coupons", response_model=CouponPage,
            responses=problem_responses(400, 401, 403, 422))
def list_coupons(_: Reader, db: SessionDep,
                 q: Annotated[str | None, Query(max_length=100)] = None,
                 is_active: bool | None = None,
                 sort: Literal["code", "-created_at", "valid_from"] = "code",
                 page: Page = 1, page_size: Size = 20) -> CouponPage:
    """The store's coupons, searched by code or name."""
    rows, total = promotions_service.list_coupons(db, q=q, is_active=is_active, sort=sort,
                                                  page=page, page_size=page_size)
    return CouponPage(items=[_coupon(c) for c in rows], total=total, page=page,
                      page_size=page_size)


@router.post("/coupons", response_model=CouponRead, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_coupon(body: CouponCreate, actor: Writer, db: SessionDep,
                  meta: MetaDep) -> CouponRead:
    """Add a coupon (codes are upper case and unique in the store)."""
    return _coupon(promotions_service.create_coupon(db, actor=actor, data=body, meta=meta))


@router.post("/coupons/validate", response_model=CouponCheckRead,
             responses=problem_responses(400, 401, 403, 422))
def validate_coupons(body: CouponCheck, _: Reader, db: SessionDep, store: CurrentStore,
                     now: NowDep) -> CouponCheckRead:
    """Would these codes apply to this cart? Each refusal comes with its readable reason."""
    loaded = order_pricing.load_cart(db, [order_pricing.LineRequest(line.variant_id,
                                                                    line.quantity)
                                          for line in body.lines])
    where = body.address
    address = (TaxAddress(where.country.upper(), where.state, where.city, where.postal_code)
               if where else None)
    priced = order_pricing.price(db, store=store, loaded=loaded, customer_id=body.customer_id,
                                 address=address, codes=body.codes,
                                 shipping=order_pricing.ZERO, now=now)
    return CouponCheckRead(
        valid=not priced.rejected_coupons,
        applied=[AppliedCouponRead(code=c.code, discount_type=c.discount_type, amount=c.amount)
                 for c in priced.applied_coupons],
        rejected=[RejectedCouponRead(code=r.coupon_code, reason_code=str(r.code),
                                     reason=r.reason) for r in priced.rejected_coupons],
        subtotal=priced.subtotal, discount_total=priced.discount_total,
        tax_total=priced.tax_total, total=priced.total,
    )


@router.get("/coupons/{coupon_id}", response_model=CouponRead,
            responses=problem_responses(400, 401, 403, 404))
def get_coupon(coupon_id: str, _: Reader, db: SessionDep) -> CouponRead:
    """One coupon."""
    return _coupon(promotions_service.get_coupon(db, coupon_id=coupon_id))


@router.patch("/coupons/{coupon_id}", response_model=CouponRead,
              responses=problem_responses(400, 401, 403, 404, 409, 422))
def update_coupon(coupon_id: str, body: CouponUpdate, actor: Writer, db: SessionDep,
                  meta: MetaDep) -> CouponRead:
    """Change a coupon (only the fields sent)."""
    coupon = promotions_service.get_coupon(db, coupon_id=coupon_id)
    return _coupon(promotions_service.update_coupon(db, actor=actor, coupon=coupon, data=body,
                                                    meta=meta))


@router.delete("/coupons/{coupon_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404))
def delete_coupon(coupon_id: str, actor: Writer, db: SessionDep, now: NowDep,
                  meta: MetaDep) -> Response:
    """Retire a coupon (its code stays taken)."""
    coupon = promotions_service.get_coupon(db, coupon_id=coupon_id)
    promotions_service.delete_coupon(db, actor=actor, coupon=coupon, now=now, meta=meta)
    return Response(status_code=204)


@router.get("/flash-sales", response_model=FlashSalePage,
            responses=problem_responses(400, 401, 403, 422))
def list_flash_sales(_: Reader, db: SessionDep, status: FlashSaleStatus | None = None,
                     page: Page = 1, page_size: Size = 20) -> FlashSalePage:
    """The store's flash sales, latest start first."""
    rows, total = promotions_service.list_flash_sales(db, status=status, page=page,
                                                      page_size=page_size)
    return FlashSalePage(items=[_sale(s) for s in rows], total=total, page=page,
                         page_size=page_size)


@router.post("/flash-sales", response_model=FlashSaleRead, status_code=201,
             responses=problem_responses(400, 401, 403, 422))
def create_flash_sale(body: FlashSaleCreate, actor: Writer, db: SessionDep,
                      meta: MetaDep) -> FlashSaleRead:
    """Add a flash sale on some products (or all of them)."""
    return _sale(promotions_service.create_flash_sale(db, actor=actor, data=body, meta=meta))


@router.get("/flash-sales/{flash_sale_id}", response_model=FlashSaleRead,
            responses=problem_responses(400, 401, 403, 404))
def get_flash_sale(flash_sale_id: str, _: Reader, db: SessionDep) -> FlashSaleRead:
    """One flash sale."""
    return _sale(promotions_service.get_flash_sale(db, flash_sale_id=flash_sale_id))


@router.patch("/flash-sales/{flash_sale_id}", response_model=FlashSaleRead,
              responses=problem_responses(400, 401, 403, 404, 422))
def update_flash_sale(flash_sale_id: str, body: FlashSaleUpdate, actor: Writer,
                      db: SessionDep, meta: MetaDep) -> FlashSaleRead:
    """Change a flash sale (status CANCELED stops it)."""
    sale = promotions_service.get_flash_sale(db, flash_sale_id=flash_sale_id)
    return _sale(promotions_service.update_flash_sale(db, actor=actor, sale=sale, data=body,
                                                      meta=meta))


@router.delete("/flash-sales/{flash_sale_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404))
def delete_flash_sale(flash_sale_id: str, actor: Writer, db: SessionDep,
                      meta: MetaDep) -> Response:
    """Delete a flash sale (orders keep their discount lines)."""
    sale = promotions_service.get_flash_sale(db, flash_sale_id=flash_sale_id)
    promotions_service.delete_flash_sale(db, actor=actor, sale=sale, meta=meta)
    return Response(status_code=204)

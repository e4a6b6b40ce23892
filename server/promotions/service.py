"""Coupons and flash sales: CRUD, and what the shared pricing rules need from them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.clock import as_utc
from server.errors import Conflict, Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.orders.models import Order
from server.promotions.models import Coupon, FlashSale, FlashSaleStatus
from server.promotions.schemas import CouponCreate, CouponUpdate, FlashSaleCreate, FlashSaleUpdate
from stormcom_pos.domain import coupons as coupon_rules
from stormcom_pos.domain import discounts as sale_rules
from stormcom_pos.domain.coupons import EnteredCoupon
from stormcom_pos.domain.enums import DiscountType, OrderStatus

ALL = "all"
COUPON_SORTS = {"code": (Coupon.code,), "-created_at": (Coupon.created_at.desc(), Coupon.id),
                "valid_from": (Coupon.valid_from, Coupon.id)}
_COUPON_NOT_NULL = ("code", "name", "discount_type", "discount_value", "valid_from",
                    "is_active")


def _page(session: Session, stmt: Any, order: Sequence[Any], page: int,
          page_size: int) -> tuple[Sequence[Any], int]:
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(*order).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return rows, int(total)


# ---- coupons ----------------------------------------------------------------------------


def get_coupon(session: Session, *, coupon_id: str) -> Coupon:
    coupon = session.get(Coupon, coupon_id)
    if coupon is None or coupon.deleted_at is not None:
        raise NotFound("There is no such coupon.", code="coupon_not_found")
    return coupon


def list_coupons(session: Session, *, q: str | None, is_active: bool | None, sort: str,
                 page: int, page_size: int) -> tuple[Sequence[Coupon], int]:
    """One page of the store's coupons; ``q`` matches code or name."""
    stmt = select(Coupon).where(Coupon.deleted_at.is_(None))
    if q:
        needle = q.lower()
        stmt = stmt.where(func.lower(Coupon.code).contains(needle, autoescape=True)
                          | func.lower(Coupon.name).contains(needle, autoescape=True))
    if is_active is not None:
        stmt = stmt.where(Coupon.is_active.is_(is_active))
    return _page(session, stmt, COUPON_SORTS[sort], page, page_size)


def coupon_rule(coupon: Coupon) -> coupon_rules.Coupon:
    """The shared rules' view of a coupon (its constructor validates the values)."""
    return coupon_rules.Coupon(
        id=coupon.id, code=coupon.code, discount_type=coupon.discount_type,
        discount_value=coupon.discount_value, valid_from=as_utc(coupon.valid_from),
        valid_to=as_utc(coupon.valid_to) if coupon.valid_to else None, name=coupon.name,
        min_order_value=coupon.min_order_value, max_discount=coupon.max_discount,
        eligible_products=frozenset(coupon.eligible_products or ()),
        eligible_categories=frozenset(coupon.eligible_categories or ()),
        eligible_customers=frozenset(coupon.eligible_customers or ()),
        usage_limit_per_coupon=coupon.usage_limit_per_coupon,
        usage_limit_per_customer=coupon.usage_limit_per_customer,
        current_usage_count=coupon.current_usage_count, is_active=coupon.is_active,
        buy_quantity=coupon.buy_quantity, get_quantity=coupon.get_quantity,
    )


def _check_coupon(coupon: Coupon) -> None:
    if coupon.valid_to is not None and as_utc(coupon.valid_to) < as_utc(coupon.valid_from):
        raise Invalid("valid_to cannot be before valid_from.", code="invalid_coupon")
    if coupon.discount_type is not DiscountType.BUY_X_GET_Y:
        coupon.buy_quantity = coupon.get_quantity = None
    coupon_rule(coupon)  # InvalidDiscount (422) for a percentage over 100, missing X/Y, ...


def _flush_code(session: Session, coupon: Coupon) -> None:
    try:
        with session.begin_nested():
            session.add(coupon)
            session.flush()
    except IntegrityError:
        raise Conflict(f"The code {coupon.code} is already used by another coupon "
                       "(deleted coupons keep their codes).", code="coupon_code_taken") from None


def create_coupon(session: Session, *, actor: Principal, data: CouponCreate,
                  meta: RequestMeta) -> Coupon:
    """Add a coupon; codes are upper case and unique in the store."""
    values = data.model_dump()
    for key in ("eligible_products", "eligible_categories", "eligible_customers"):
        values[key] = values[key] or []
    coupon = Coupon(**values)
    _check_coupon(coupon)
    _flush_code(session, coupon)
    audit.record(session, actor=actor, action="coupon.create", entity_type="coupon",
                 entity_id=coupon.id, after=audit.snapshot(coupon), request_meta=meta)
    return coupon


def update_coupon(session: Session, *, actor: Principal, coupon: Coupon, data: CouponUpdate,
                  meta: RequestMeta) -> Coupon:
    """Change the fields sent."""
    changes = data.model_dump(exclude_unset=True)
    nulls = sorted(k for k in _COUPON_NOT_NULL if k in changes and changes[k] is None)
    if nulls:
        raise Invalid(f"{', '.join(nulls)} cannot be null.", code="invalid_field")
    before = audit.snapshot(coupon)
    for key, value in changes.items():
        if key.startswith("eligible_") and value is None:
            value = []
        setattr(coupon, key, value)
    _check_coupon(coupon)
    _flush_code(session, coupon)
    audit.record(session, actor=actor, action="coupon.update", entity_type="coupon",
                 entity_id=coupon.id, before=before, after=audit.snapshot(coupon),
                 request_meta=meta)
    return coupon


def delete_coupon(session: Session, *, actor: Principal, coupon: Coupon, now: datetime,
                  meta: RequestMeta) -> None:
    """Soft-delete: orders keep the code they used; the code stays taken."""
    before = audit.snapshot(coupon)
    coupon.deleted_at, coupon.is_active = now, False
    session.flush()
    audit.record(session, actor=actor, action="coupon.delete", entity_type="coupon",
                 entity_id=coupon.id, before=before, request_meta=meta)


def _customer_uses(session: Session, customer_id: str | None) -> dict[str, int]:
    """How often the customer used each code on orders that were not canceled."""
    if customer_id is None:
        return {}
    uses: dict[str, int] = {}
    rows = session.scalars(select(Order.discount_lines).where(
        Order.customer_id == customer_id, Order.status != OrderStatus.CANCELED,
        Order.deleted_at.is_(None)))
    for lines in rows:
        for code in {d.get("code") for d in lines or [] if d.get("kind") == "coupon"}:
            if code:
                uses[code] = uses.get(code, 0) + 1
    return uses


def entered_coupons(session: Session, *, codes: Iterable[str],
                    customer_id: str | None) -> tuple[EnteredCoupon, ...]:
    """Codes as entered, each with its live coupon (None if unknown) and the customer's uses."""
    wanted = [c.strip().upper() for c in codes]
    rows = session.scalars(select(Coupon).where(Coupon.code.in_(wanted),
                                                Coupon.deleted_at.is_(None))).all()
    by_code = {c.code: c for c in rows}
    uses = _customer_uses(session, customer_id)
    return tuple(
        EnteredCoupon(code, coupon_rule(by_code[code]) if code in by_code else None,
                      uses.get(code, 0))
        for code in wanted
    )


def consume(session: Session, *, coupon_ids: Iterable[str]) -> None:
    """Count one use of each coupon, atomically under its usage limit (409 when used up)."""
    for coupon_id in sorted(set(coupon_ids)):
        result = session.execute(
            update(Coupon).where(Coupon.id == coupon_id,
                                 Coupon.usage_limit_per_coupon.is_(None)
                                 | (Coupon.current_usage_count < Coupon.usage_limit_per_coupon))
            .values(current_usage_count=Coupon.current_usage_count + 1)
            .execution_options(synchronize_session=False))
        if getattr(result, "rowcount", 0) != 1:
            raise Conflict("A coupon on this order has just reached its usage limit.",
                           code="coupon_usage_limit_reached")


def give_back(session: Session, *, coupon_ids: Iterable[str]) -> None:
    """Return one use of each coupon (a canceled order)."""
    for coupon_id in sorted(set(coupon_ids)):
        session.execute(
            update(Coupon).where(Coupon.id == coupon_id, Coupon.current_usage_count > 0)
            .values(current_usage_count=Coupon.current_usage_count - 1)
            .execution_options(synchronize_session=False))


# ---- flash sales ------------------------------------------------------------------------


def get_flash_sale(session: Session, *, flash_sale_id: str) -> FlashSale:
    sale = session.get(FlashSale, flash_sale_id)
    if sale is None:
        raise NotFound("There is no such flash sale.", code="flash_sale_not_found")
    return sale


def list_flash_sales(session: Session, *, status: FlashSaleStatus | None, page: int,
                     page_size: int) -> tuple[Sequence[FlashSale], int]:
    """One page of the store's flash sales, latest start first."""
    stmt = select(FlashSale)
    if status is not None:
        stmt = stmt.where(FlashSale.status == status)
    return _page(session, stmt, (FlashSale.start_at.desc(), FlashSale.id), page, page_size)


def sale_rule(sale: FlashSale) -> sale_rules.FlashSale:
    products = list(sale.products or [])
    return sale_rules.FlashSale(
        id=sale.id, name=sale.name, discount_type=sale.discount_type,
        discount_value=sale.discount_value, start_at=as_utc(sale.start_at),
        end_at=as_utc(sale.end_at), status=sale.status,
        product_ids=frozenset(p for p in products if p != ALL), all_products=ALL in products,
    )


def _apply_sale(sale: FlashSale, changes: dict[str, Any]) -> None:
    products = changes.pop("product_ids", None)
    every = changes.pop("all_products", None)
    for key, value in changes.items():
        if value is None and key != "description":
            raise Invalid(f"{key} cannot be null.", code="invalid_field")
        setattr(sale, key, value)
    if products is not None or every is not None:
        current = [p for p in sale.products or [] if p != ALL]
        ids = list(products) if products is not None else current
        sale.products = [ALL] if every else ids
    if as_utc(sale.end_at) <= as_utc(sale.start_at):
        raise Invalid("end_at must be after start_at.", code="invalid_flash_sale")
    sale_rule(sale)  # InvalidDiscount (422): only PERCENTAGE (<= 100) or FIXED_AMOUNT


def create_flash_sale(session: Session, *, actor: Principal, data: FlashSaleCreate,
                      meta: RequestMeta) -> FlashSale:
    """Add a flash sale on some products, or on all of them."""
    sale = FlashSale(products=[], status=FlashSaleStatus.SCHEDULED)
    _apply_sale(sale, {k: v for k, v in data.model_dump().items()
                       if v is not None or k == "description"})
    session.add(sale)
    session.flush()
    audit.record(session, actor=actor, action="flash_sale.create", entity_type="flash_sale",
                 entity_id=sale.id, after=audit.snapshot(sale), request_meta=meta)
    return sale


def update_flash_sale(session: Session, *, actor: Principal, sale: FlashSale,
                      data: FlashSaleUpdate, meta: RequestMeta) -> FlashSale:
    """Change the fields sent (status CANCELED stops a sale)."""
    before = audit.snapshot(sale)
    _apply_sale(sale, data.model_dump(exclude_unset=True))
    session.flush()
    audit.record(session, actor=actor, action="flash_sale.update", entity_type="flash_sale",
                 entity_id=sale.id, before=before, after=audit.snapshot(sale),
                 request_meta=meta)
    return sale


def delete_flash_sale(session: Session, *, actor: Principal, sale: FlashSale,
                      meta: RequestMeta) -> None:
    """Delete a flash sale (orders keep their discount lines)."""
    before = audit.snapshot(sale)
    session.delete(sale)
    session.flush()
    audit.record(session, actor=actor, action="flash_sale.delete", entity_type="flash_sale",
                 entity_id=before["id"], before=before, request_meta=meta)


def live_sales(session: Session, *, now: datetime) -> tuple[sale_rules.FlashSale, ...]:
    """Flash sales that may run at ``now`` (the shared rules make the final call)."""
    rows = session.scalars(select(FlashSale).where(
        FlashSale.status.in_((FlashSaleStatus.SCHEDULED, FlashSaleStatus.ACTIVE)),
        FlashSale.start_at <= now, FlashSale.end_at >= now)).all()
    return tuple(sale_rule(s) for s in rows)

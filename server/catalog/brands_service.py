"""Brands: soft delete, which clears the brand from its products."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.models import Brand, Product
from server.catalog.rules import (
    flush_or_conflict,
    paged,
    reject_nulls,
    slug_race,
    unique_slug,
)
from server.catalog.schemas_taxonomy import BrandCreate, BrandUpdate
from server.errors import NotFound
from server.identity.principal import Principal, RequestMeta

BRAND_FIELDS = ("name", "description", "logo_url", "website_url", "is_active")
NOT_NULL = ("name", "slug", "is_active")


# ---- brands ---------------------------------------------------------------------------------


def get_brand(session: Session, *, brand_id: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.id == brand_id, Brand.deleted_at.is_(None)))
    if brand is None:
        raise NotFound("There is no such brand.", code="brand_not_found")
    return brand


def list_brands(session: Session, *, q: str | None, is_active: bool | None, sort: str,
                page: int, page_size: int) -> tuple[Sequence[Brand], int]:
    stmt = select(Brand).where(Brand.deleted_at.is_(None))
    if q:
        stmt = stmt.where(or_(Brand.name.icontains(q, autoescape=True),
                              Brand.slug.icontains(q, autoescape=True)))
    if is_active is not None:
        stmt = stmt.where(Brand.is_active.is_(is_active))
    col = Brand.created_at if sort.lstrip("-") == "created_at" else Brand.name
    order = (col.desc(), Brand.id.desc()) if sort.startswith("-") else (col.asc(), Brand.id.asc())
    return paged(session, stmt, order, page, page_size)


def create_brand(session: Session, *, actor: Principal, data: BrandCreate, now: datetime,
                 meta: RequestMeta) -> Brand:
    slug = unique_slug(session, Brand, name=data.name, wanted=data.slug)
    brand = Brand(slug=slug, created_at=now, updated_at=now,
                  **{k: getattr(data, k) for k in BRAND_FIELDS})
    session.add(brand)
    flush_or_conflict(session, slug_race(slug))
    audit.record(session, actor=actor, action="brand.create", entity_type="brand",
                 entity_id=brand.id, after=audit.snapshot(brand), request_meta=meta)
    return brand


def update_brand(session: Session, *, actor: Principal, brand: Brand, data: BrandUpdate,
                 now: datetime, meta: RequestMeta) -> Brand:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, NOT_NULL)
    before = audit.snapshot(brand)
    if "slug" in changes and changes["slug"] != brand.slug:
        brand.slug = unique_slug(session, Brand, name=brand.name, wanted=changes["slug"],
                                 exclude_id=brand.id)
    for name in BRAND_FIELDS:
        if name in changes:
            setattr(brand, name, changes[name])
    brand.updated_at = now
    flush_or_conflict(session, slug_race(brand.slug))
    audit.record(session, actor=actor, action="brand.update", entity_type="brand",
                 entity_id=brand.id, before=before, after=audit.snapshot(brand),
                 request_meta=meta)
    return brand


def delete_brand(session: Session, *, actor: Principal, brand: Brand, now: datetime,
                 meta: RequestMeta) -> None:
    before = audit.snapshot(brand)
    for product in session.scalars(select(Product).where(Product.brand_id == brand.id)):
        product.brand_id = None
        product.updated_at = now
    brand.deleted_at = now
    brand.updated_at = now
    audit.record(session, actor=actor, action="brand.delete", entity_type="brand",
                 entity_id=brand.id, before=before, after=audit.snapshot(brand),
                 request_meta=meta)

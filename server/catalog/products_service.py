"""Products: create with variants (plan limit checked), update, soft delete, get.

Categories, product attributes and labels are replaced as a set when an update sends them.
A product's reads (``get``) load everything its detail shows in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from server.audit import service as audit
from server.catalog import variants_service
from server.catalog.models import (
    Attribute,
    AttributeType,
    Brand,
    Category,
    Product,
    ProductAttribute,
    ProductCategory,
    ProductLabel,
    ProductStatus,
)
from server.catalog.rules import check_barcode, field_error, unique_slug
from server.catalog.schemas import LabelIn, ProductAttributeIn, ProductCreate, ProductUpdate
from server.db.base import new_id
from server.errors import NotFound
from server.identity.principal import Principal, RequestMeta
from server.stores import plan_service
from server.tax.models import TaxRate
from stormcom_pos.domain.plans import LimitCheck, LimitResource

SCALARS = ("description", "short_description", "sku", "meta_title", "meta_description",
           "meta_keywords")
NOT_NULL = ("name", "slug", "is_taxable", "status")


def _detail() -> tuple[Any, ...]:
    """Loader options for a product's detail (built on use: mappers configure lazily)."""
    return (
        selectinload(Product.variants),
        selectinload(Product.categories).options(joinedload(ProductCategory.category)),
        selectinload(Product.attributes).options(joinedload(ProductAttribute.attribute)),
        selectinload(Product.labels),
        selectinload(Product.media),
    )


def get(session: Session, *, product_id: str, detail: bool = True) -> Product:
    """A live product of the current store, or 404."""
    stmt = select(Product).where(Product.id == product_id, Product.deleted_at.is_(None))
    product = session.scalar(stmt.options(*_detail()) if detail else stmt)
    if product is None:
        raise NotFound("There is no such product.", code="product_not_found")
    return product


def _check_ref(session: Session, model: Any, ref_id: str | None, field: str, what: str) -> None:
    if ref_id is None:
        return
    stmt = select(model.id).where(model.id == ref_id)
    if hasattr(model, "deleted_at"):
        stmt = stmt.where(model.deleted_at.is_(None))
    if session.scalar(stmt) is None:
        raise field_error(field, f"there is no {what} {ref_id} in this store",
                          code="unknown_reference")


def _set_categories(session: Session, product: Product, ids: Sequence[str],
                    primary: str | None) -> None:
    wanted = list(dict.fromkeys(ids))
    if primary is not None and primary not in wanted:
        raise field_error("primary_category_id", "must be one of category_ids")
    if wanted:
        found = set(session.scalars(select(Category.id).where(
            Category.id.in_(wanted), Category.deleted_at.is_(None))))
        for i, cid in enumerate(wanted):
            if cid not in found:
                raise field_error(f"category_ids.{i}", f"there is no category {cid} in this "
                                  "store", code="unknown_reference")
    primary = primary or (wanted[0] if wanted else None)
    current = {link.category_id: link for link in product.categories}
    for cid, link in current.items():
        if cid not in wanted:
            product.categories.remove(link)  # delete-orphan: deleted at the flush
    session.flush()
    for cid in wanted:
        link = current.get(cid) or ProductCategory(product=product, category_id=cid,
                                                   store_id=product.store_id)
        link.is_primary = cid == primary
        session.add(link)


def _allowed(attribute: Attribute) -> set[str] | None:
    if attribute.type is AttributeType.TEXT:
        return None
    return {v["value"] if isinstance(v, dict) else str(v) for v in attribute.values or []}


def _set_attributes(session: Session, product: Product, items: Sequence[ProductAttributeIn]
                    ) -> None:
    ids = [a.attribute_id for a in items]
    attrs = {a.id: a for a in session.scalars(select(Attribute).where(Attribute.id.in_(ids)))}
    seen: set[str] = set()
    for i, item in enumerate(items):
        attr = attrs.get(item.attribute_id)
        if attr is None:
            raise field_error(f"attributes.{i}.attribute_id", f"there is no attribute "
                              f"{item.attribute_id} in this store", code="unknown_reference")
        if item.attribute_id in seen:
            raise field_error(f"attributes.{i}.attribute_id", "is given twice")
        seen.add(item.attribute_id)
        allowed = _allowed(attr)
        for j, value in enumerate(item.values):
            if allowed is not None and value not in allowed:
                raise field_error(f"attributes.{i}.values.{j}", f"'{value}' is not a value of "
                                  f"{attr.name} (allowed: {', '.join(sorted(allowed))})",
                                  code="unknown_attribute_value")
    current = {link.attribute_id: link for link in product.attributes}
    for aid, link in current.items():
        if aid not in seen:
            product.attributes.remove(link)
    session.flush()
    for item in items:
        link = current.get(item.attribute_id) or ProductAttribute(
            product=product, attribute_id=item.attribute_id, store_id=product.store_id)
        link.selected_values = list(dict.fromkeys(item.values))
        session.add(link)


def _set_labels(session: Session, product: Product, labels: Sequence[LabelIn]) -> None:
    product.labels.clear()  # delete-orphan: the old labels are deleted at the flush
    for label in labels:
        session.add(ProductLabel(product=product, store_id=product.store_id, label=label.label,
                                 color=label.color, priority=label.priority))


def create(
    session: Session, *, actor: Principal, store_id: str, currency: str, data: ProductCreate,
    now: datetime, meta: RequestMeta,
) -> tuple[Product, LimitCheck]:
    """Create a product and its variants; returns it and the plan check (WARN from 80%)."""
    limit = plan_service.check(session, store_id=store_id, resource=LimitResource.PRODUCTS,
                               now=now)
    check_barcode(data.barcode, "barcode")
    _check_ref(session, Brand, data.brand_id, "brand_id", "brand")
    _check_ref(session, TaxRate, data.tax_rate_id, "tax_rate_id", "tax rate")
    product = Product(
        id=new_id(), store_id=store_id, name=data.name,
        slug=unique_slug(session, Product, name=data.name, wanted=data.slug),
        brand_id=data.brand_id, barcode=data.barcode, tax_rate_id=data.tax_rate_id,
        is_taxable=data.is_taxable, status=data.status,
        published_at=now if data.status is ProductStatus.ACTIVE else None,
        created_at=now, updated_at=now, **{k: getattr(data, k) for k in SCALARS},
    )
    session.add(product)
    variants_service.add(session, product=product, items=data.variants, currency=currency,
                         actor=actor, now=now)
    _set_categories(session, product, data.category_ids, data.primary_category_id)
    _set_attributes(session, product, data.attributes)
    _set_labels(session, product, data.labels)
    session.flush()
    audit.record(session, actor=actor, action="product.create", entity_type="product",
                 entity_id=product.id, request_meta=meta,
                 after={**audit.snapshot(product),
                        "variants": [v.sku for v in product.variants]})
    session.expire(product)
    return get(session, product_id=product.id), limit


def update(
    session: Session, *, actor: Principal, product: Product, data: ProductUpdate,
    now: datetime, meta: RequestMeta,
) -> Product:
    """Change the fields sent; category, attribute and label sets are replaced when sent."""
    changes = data.model_dump(exclude_unset=True)
    for name in NOT_NULL:
        if name in changes and changes[name] is None:
            raise field_error(name, "cannot be null")
    before = audit.snapshot(product)
    if "slug" in changes and changes["slug"] != product.slug:
        product.slug = unique_slug(session, Product, name=product.name, wanted=changes["slug"],
                                   exclude_id=product.id)
    if "barcode" in changes:
        check_barcode(changes["barcode"], "barcode")
        product.barcode = changes["barcode"]
    if "brand_id" in changes:
        _check_ref(session, Brand, changes["brand_id"], "brand_id", "brand")
        product.brand_id = changes["brand_id"]
    if "tax_rate_id" in changes:
        _check_ref(session, TaxRate, changes["tax_rate_id"], "tax_rate_id", "tax rate")
        product.tax_rate_id = changes["tax_rate_id"]
    for name in (*SCALARS, "name", "is_taxable"):
        if name in changes:
            setattr(product, name, changes[name])
    if "status" in changes:
        product.status = changes["status"]
        if product.status is ProductStatus.ACTIVE and product.published_at is None:
            product.published_at = now
    if "category_ids" in changes or "primary_category_id" in changes:
        ids = changes.get("category_ids")
        if ids is None:
            ids = [link.category_id for link in product.categories]
        _set_categories(session, product, ids, changes.get("primary_category_id"))
    if changes.get("attributes") is not None:
        _set_attributes(session, product, data.attributes or [])
    if changes.get("labels") is not None:
        _set_labels(session, product, data.labels or [])
    product.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="product.update", entity_type="product",
                 entity_id=product.id, before=before, after=audit.snapshot(product),
                 request_meta=meta)
    session.expire(product)
    return get(session, product_id=product.id)


def soft_delete(
    session: Session, *, actor: Principal, product: Product, now: datetime, meta: RequestMeta
) -> None:
    """Mark the product and its variants deleted (their SKUs stay reserved)."""
    before = audit.snapshot(product)
    product.deleted_at = now
    product.updated_at = now
    for variant in product.variants:
        if variant.deleted_at is None:
            variant.deleted_at = now
            variant.updated_at = now
    audit.record(session, actor=actor, action="product.delete", entity_type="product",
                 entity_id=product.id, before=before, after=audit.snapshot(product),
                 request_meta=meta)

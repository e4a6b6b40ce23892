"""Variants: per-store unique SKUs, validated barcodes, one default per product.

A duplicate SKU is a 409 that names it (soft-deleted products keep their SKUs, since tills
and order history refer to them). A bad barcode is a 422 that says what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.models import Product, Variant
from server.catalog.rules import check_barcode, check_money, field_error, flush_or_conflict
from server.catalog.schemas import VariantCreate, VariantUpdate
from server.clock import as_utc
from server.errors import Conflict, Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.inventory import service as inventory
from server.inventory.models import AdjustmentReason

MONEY_FIELDS = ("price", "compare_at_price", "cost_price")
PLAIN_FIELDS = ("track_inventory", "low_stock_threshold", "weight", "length", "width",
                "height", "is_active", "attributes")


def live_variants(product: Product) -> list[Variant]:
    """The product's variants that are not deleted: the default first, then by age."""
    live = [v for v in product.variants if v.deleted_at is None]
    return sorted(live, key=lambda v: (not v.is_default, as_utc(v.created_at), v.sku))


def get(session: Session, *, product: Product, variant_id: str) -> Variant:
    """A live variant of this product, or 404."""
    variant = session.scalar(select(Variant).where(
        Variant.id == variant_id, Variant.product_id == product.id, Variant.deleted_at.is_(None)))
    if variant is None:
        raise NotFound("This product has no such variant.", code="variant_not_found")
    return variant


def check_skus(session: Session, skus: Sequence[tuple[str, str]],
               exclude_id: str | None = None) -> None:
    """409 naming the first SKU (``(field, sku)`` pairs) used twice or already in the store."""
    seen: dict[str, str] = {}
    for field, sku in skus:
        if sku in seen:
            raise Conflict(f"SKU '{sku}' is given twice in this request ({seen[sku]} and "
                           f"{field}).", code="duplicate_sku", sku=sku, field=field)
        seen[sku] = field
    if not seen:
        return
    stmt = (select(Variant.sku, Variant.deleted_at, Product.name, Product.deleted_at)
            .join(Product, Product.id == Variant.product_id).where(Variant.sku.in_(list(seen))))
    if exclude_id:
        stmt = stmt.where(Variant.id != exclude_id)
    row = session.execute(stmt.limit(1)).first()
    if row is not None:
        sku, v_deleted, name, p_deleted = row
        gone = " (deleted; SKUs stay reserved)" if v_deleted or p_deleted else ""
        raise Conflict(f"SKU '{sku}' is already used by the product '{name}'{gone}.",
                       code="duplicate_sku", sku=sku, field=seen[sku])


def check_barcodes(session: Session, codes: Sequence[tuple[str, str | None]],
                   exclude_id: str | None = None) -> None:
    """422 for an invalid barcode; 409 for one already on another live variant."""
    seen: dict[str, str] = {}
    for field, code in codes:
        if code is None:
            continue
        check_barcode(code, field)
        if code in seen:
            raise Conflict(f"Barcode {code} is given twice in this request ({seen[code]} and "
                           f"{field}).", code="duplicate_barcode", barcode=code, field=field)
        seen[code] = field
    if not seen:
        return
    stmt = select(Variant.barcode, Variant.sku).where(
        Variant.barcode.in_(list(seen)), Variant.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Variant.id != exclude_id)
    row = session.execute(stmt.limit(1)).first()
    if row is not None:
        code, sku = str(row[0]), row[1]
        raise Conflict(f"Barcode {code} is already used by the variant with SKU '{sku}'.",
                       code="duplicate_barcode", barcode=code, field=seen[code])


def _sku_race(sku: str) -> Conflict:
    return Conflict(f"SKU '{sku}' was just taken by another request.", code="duplicate_sku",
                    sku=sku)


def add(
    session: Session, *, product: Product, items: Sequence[VariantCreate], currency: str,
    actor: Principal, now: datetime, prefix: str = "variants",
) -> list[Variant]:
    """Create variants (checked together), with their opening stock as RESTOCK movements."""
    barcodes = [(f"{prefix}.{i}.barcode", v.barcode) for i, v in enumerate(items)]
    for field, code in barcodes:
        check_barcode(code, field)  # 422s before 409s
    check_skus(session, [(f"{prefix}.{i}.sku", v.sku) for i, v in enumerate(items)])
    check_barcodes(session, barcodes)
    defaults = [i for i, v in enumerate(items) if v.is_default]
    if len(defaults) > 1:
        raise field_error(f"{prefix}.{defaults[1]}.is_default",
                          "only one variant can be the default")
    has_default = any(v.is_default for v in live_variants(product))
    created = []
    for i, item in enumerate(items):
        values = item.model_dump(exclude={"initial_stock", *MONEY_FIELDS})
        for name in MONEY_FIELDS:
            values[name] = check_money(getattr(item, name), currency, f"{prefix}.{i}.{name}")
        variant = Variant(product=product, store_id=product.store_id, **values,
                          created_at=now, updated_at=now)
        created.append(variant)
    if defaults and has_default:
        for other in live_variants(product):
            if other not in created:
                other.is_default = False
    elif not defaults and not has_default:
        created[0].is_default = True
    session.add_all(created)
    flush_or_conflict(session, lambda _: _sku_race(items[0].sku))
    for item, variant in zip(items, created, strict=True):
        if item.initial_stock:
            inventory.move_stock(session, store_id=product.store_id, variant_id=variant.id,
                                 delta=item.initial_stock, reason=AdjustmentReason.RESTOCK,
                                 user_id=actor.user_id, note="Opening stock", now=now)
    return created


def create(
    session: Session, *, actor: Principal, product: Product, data: VariantCreate,
    currency: str, now: datetime, meta: RequestMeta,
) -> Variant:
    """Add one variant to a product."""
    (variant,) = add(session, product=product, items=[data], currency=currency, actor=actor,
                     now=now, prefix="body")
    product.updated_at = now
    audit.record(session, actor=actor, action="variant.create", entity_type="variant",
                 entity_id=variant.id, after=audit.snapshot(variant), request_meta=meta)
    return variant


def update(
    session: Session, *, actor: Principal, product: Product, variant: Variant,
    data: VariantUpdate, currency: str, now: datetime, meta: RequestMeta,
) -> Variant:
    """Change the fields sent (stock only moves through inventory)."""
    changes = data.model_dump(exclude_unset=True)
    for name in ("sku", "price", "track_inventory", "low_stock_threshold", "is_active",
                 "is_default", "attributes"):
        if name in changes and changes[name] is None:
            raise field_error(name, "cannot be null")
    before = audit.snapshot(variant)
    if "sku" in changes and changes["sku"] != variant.sku:
        check_skus(session, [("sku", changes["sku"])], exclude_id=variant.id)
        variant.sku = changes["sku"]
    if "barcode" in changes:
        check_barcodes(session, [("barcode", changes["barcode"])], exclude_id=variant.id)
        variant.barcode = changes["barcode"]
    for name in MONEY_FIELDS:
        if name in changes:
            setattr(variant, name, check_money(changes[name], currency, name))
    for name in PLAIN_FIELDS:
        if name in changes:
            setattr(variant, name, changes[name])
    if changes.get("is_default") is True:
        for other in live_variants(product):
            if other.id != variant.id:
                other.is_default = False
        variant.is_default = True
    elif changes.get("is_default") is False and variant.is_default:
        raise field_error("is_default", "make another variant the default instead")
    variant.updated_at = now
    flush_or_conflict(session, lambda _: _sku_race(variant.sku))
    audit.record(session, actor=actor, action="variant.update", entity_type="variant",
                 entity_id=variant.id, before=before, after=audit.snapshot(variant),
                 request_meta=meta)
    return variant


def delete(
    session: Session, *, actor: Principal, product: Product, variant: Variant, now: datetime,
    meta: RequestMeta,
) -> None:
    """Soft-delete a variant; the product keeps at least one, and a default."""
    others = [v for v in live_variants(product) if v.id != variant.id]
    if not others:
        raise Invalid("A product needs at least one variant: delete the product instead.",
                      code="last_variant")
    before = audit.snapshot(variant)
    variant.deleted_at = now
    variant.updated_at = now
    if variant.is_default:
        variant.is_default = False
        others[0].is_default = True
    audit.record(session, actor=actor, action="variant.delete", entity_type="variant",
                 entity_id=variant.id, before=before, after=audit.snapshot(variant),
                 request_meta=meta)

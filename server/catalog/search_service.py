"""Product lists, full-text search and SKU/barcode lookup (read-only).

- ``list_``: filtered, sorted, paged; ``q`` matches a name fragment or an exact SKU/barcode.
- ``search``: full-text relevance (PostgreSQL tsvector, SQLite FTS5) through
  ``search_index.search_product_ids``; every word matches as a prefix.
- ``lookup``: a live variant by exact SKU, else by barcode (GTIN-equivalent forms included,
  so a UPC-A stored as 12 digits is found from a 13-digit EAN scan of it).

Summaries (variant count, price range, stock) are computed per page in one extra query; prices
are compared in Python because SQLite stores money as exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, or_, select
from sqlalchemy.orm import Session

from server.catalog.models import Product, ProductCategory, ProductLabel, ProductStatus, Variant
from server.catalog.search_index import search_product_ids
from server.errors import NotFound
from stormcom_pos.domain.barcodes import InvalidBarcode, classify

SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "name": (Product.name.asc(), Product.id.asc()),
    "-name": (Product.name.desc(), Product.id.desc()),
    "created_at": (Product.created_at.asc(), Product.id.asc()),
    "-created_at": (Product.created_at.desc(), Product.id.desc()),
    "updated_at": (Product.updated_at.asc(), Product.id.asc()),
    "-updated_at": (Product.updated_at.desc(), Product.id.desc()),
}
MAX_SEARCH_RESULTS = 1000


@dataclass(frozen=True, slots=True)
class ProductFilter:
    q: str | None = None
    status: ProductStatus | None = None
    brand_id: str | None = None
    category_ids: list[str] | None = None  # a category and its descendants
    label: str | None = None


@dataclass(frozen=True, slots=True)
class ProductSummary:
    id: str
    name: str
    slug: str
    status: ProductStatus
    brand_id: str | None
    sku: str | None
    barcode: str | None
    variant_count: int
    price_min: Decimal | None
    price_max: Decimal | None
    stock_total: int
    created_at: datetime
    updated_at: datetime


def _filtered(flt: ProductFilter) -> Select[Any]:
    stmt = select(Product).where(Product.deleted_at.is_(None))
    if flt.status is not None:
        stmt = stmt.where(Product.status == flt.status)
    if flt.brand_id:
        stmt = stmt.where(Product.brand_id == flt.brand_id)
    if flt.category_ids is not None:
        stmt = stmt.where(exists().where(ProductCategory.product_id == Product.id,
                                         ProductCategory.category_id.in_(flt.category_ids)))
    if flt.label:
        stmt = stmt.where(exists().where(ProductLabel.product_id == Product.id,
                                         ProductLabel.label == flt.label))
    if flt.q:
        code_match = exists().where(Variant.product_id == Product.id,
                                    Variant.deleted_at.is_(None),
                                    or_(Variant.sku == flt.q, Variant.barcode == flt.q))
        stmt = stmt.where(or_(Product.name.icontains(flt.q, autoescape=True),
                              Product.sku == flt.q, code_match))
    return stmt


def _columns() -> tuple[Any, ...]:
    return (Product.id, Product.name, Product.slug, Product.status, Product.brand_id,
            Product.sku, Product.barcode, Product.created_at, Product.updated_at)


def _with_stats(session: Session, products: Sequence[Any]) -> list[ProductSummary]:
    ids = [p.id for p in products]
    stats: dict[str, list[Any]] = {}
    if ids:
        for pid, price, stock, tracked in session.execute(
                select(Variant.product_id, Variant.price, Variant.stock_quantity,
                       Variant.track_inventory)
                .where(Variant.product_id.in_(ids), Variant.deleted_at.is_(None))):
            stats.setdefault(pid, []).append((price, stock if tracked else 0))
    out = []
    for p in products:
        rows = stats.get(p.id, [])
        prices = [r[0] for r in rows]
        out.append(ProductSummary(
            id=p.id, name=p.name, slug=p.slug, status=p.status, brand_id=p.brand_id, sku=p.sku,
            barcode=p.barcode, variant_count=len(rows),
            price_min=min(prices) if prices else None, price_max=max(prices) if prices else None,
            stock_total=sum(r[1] for r in rows), created_at=p.created_at,
            updated_at=p.updated_at))
    return out


def summaries(session: Session, ids: Sequence[str]) -> list[ProductSummary]:
    """Summaries of these products, in the given order (missing ids are skipped)."""
    if not ids:
        return []
    found = {p.id: p for p in session.execute(select(*_columns()).where(Product.id.in_(ids)))}
    return _with_stats(session, [found[i] for i in ids if i in found])


def list_(
    session: Session, *, flt: ProductFilter, sort: str, page: int, page_size: int
) -> tuple[list[ProductSummary], int]:
    """One page of the store's live products and the total that match.

    The total comes with the page (``count(*) OVER ()``): one pass over the store's products
    instead of a count query plus a page query. Past the last page a count query answers."""
    stmt = _filtered(flt)
    rows = session.execute(
        stmt.with_only_columns(*_columns(), func.count().over().label("total"))
        .order_by(*SORTS[sort]).offset((page - 1) * page_size).limit(page_size)).all()
    if rows:
        total = rows[0].total
    else:
        total = session.scalar(select(func.count()).select_from(
            stmt.with_only_columns(Product.id).subquery())) or 0
    return _with_stats(session, rows), int(total)


def search(
    session: Session, *, store_id: str, query: str, page: int, page_size: int
) -> tuple[list[ProductSummary], bool]:
    """Full-text hits for one page, best first, and whether more follow."""
    start = (page - 1) * page_size
    want = min(start + page_size + 1, MAX_SEARCH_RESULTS + 1)
    ids = search_product_ids(session, store_id=store_id, query=query, limit=want)
    chunk = ids[start:start + page_size]
    has_more = len(ids) > start + page_size and start + page_size < MAX_SEARCH_RESULTS
    return summaries(session, chunk), has_more


def _barcode_forms(code: str) -> list[str]:
    forms = [code]
    try:
        barcode = classify(code)
    except InvalidBarcode:
        return forms
    for gtin in filter(None, (barcode.gtin14, barcode.alternative_gtin14)):
        stripped = gtin.lstrip("0")
        for width in (8, 12, 13, 14):
            if len(stripped) <= width:
                forms.append(gtin[-width:])
    return list(dict.fromkeys(forms))


def lookup(session: Session, *, code: str) -> tuple[Variant, str]:
    """The live variant with this SKU, else with this barcode; and which one matched."""
    live = (select(Variant).join(Product, Product.id == Variant.product_id)
            .where(Variant.deleted_at.is_(None), Product.deleted_at.is_(None)))
    variant = session.scalar(live.where(Variant.sku == code).limit(1))
    if variant is not None:
        return variant, "sku"
    forms = _barcode_forms(code)
    candidates = session.scalars(live.where(Variant.barcode.in_(forms))).all()
    if candidates:
        best = min(candidates, key=lambda v: (forms.index(v.barcode or ""), not v.is_active))
        return best, "barcode"
    raise NotFound(f"No product has the SKU or barcode '{code}'.", code="code_not_found")

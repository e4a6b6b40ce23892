"""Products and variants, full-text search and SKU/barcode lookup (thin: parse, call, map).

Creating a product checks the plan's product limit (403 ``plan_limit_reached`` when full).
From 80% of the limit the 201 answer carries the warning twice: the ``plan_warning`` field
and an ``X-Plan-Warning`` header.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from server.api.deps import (
    CurrentStore,
    CurrentTenant,
    MetaDep,
    NowDep,
    SessionDep,
    require_permission,
)
from server.api.errors import problem_responses
from server.catalog import (
    categories_service,
    products_service,
    search_service,
    variants_service,
)
from server.catalog.models import ProductStatus
from server.catalog.presenters import list_item, product_read, variant_read
from server.catalog.schemas import (
    LookupRead,
    ProductCreate,
    ProductCreated,
    ProductPage,
    ProductRead,
    ProductSearchPage,
    ProductUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from server.catalog.view_params import IdPath, IdQuery, PageQ, PageSizeQ, SearchQ
from server.catalog.wire import NO_NUL
from server.identity.principal import Principal
from stormcom_pos.domain.plans import LimitState

router = APIRouter(tags=["catalog"])
Reader = Annotated[Principal, require_permission("products.read")]
Writer = Annotated[Principal, require_permission("products.write")]
ProductSort = Literal["name", "-name", "created_at", "-created_at", "updated_at", "-updated_at"]
PLAN_WARNING_HEADER = "X-Plan-Warning"


@router.get("/products", response_model=ProductPage,
            responses=problem_responses(400, 401, 403, 422))
def list_products(
    _: Reader, db: SessionDep, q: SearchQ = None,
    status: ProductStatus | None = None,
    brand_id: IdQuery = None,
    category_id: Annotated[IdQuery, Query(description="This category or any below it")] = None,
    label: Annotated[str | None, Query(max_length=40, pattern=NO_NUL)] = None,
    sort: ProductSort = "-created_at", page: PageQ = 1, page_size: PageSizeQ = 20,
) -> ProductPage:
    """The store's products (not deleted), filtered, sorted and paged.

    ``q`` matches part of a name, or a product SKU or variant SKU/barcode exactly."""
    category_ids = (categories_service.descendant_ids(db, category_id=category_id)
                    if category_id else None)
    flt = search_service.ProductFilter(q=q or None, status=status, brand_id=brand_id,
                                       category_ids=category_ids, label=label)
    rows, total = search_service.list_(db, flt=flt, sort=sort, page=page, page_size=page_size)
    return ProductPage(items=[list_item(r) for r in rows], total=total, page=page,
                       page_size=page_size)


@router.post("/products", response_model=ProductCreated, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_product(
    body: ProductCreate, actor: Writer, store: CurrentStore, db: SessionDep, now: NowDep,
    meta: MetaDep, response: Response,
) -> ProductCreated:
    """Create a product with its variants (at least one; the first is the default unless one
    says so). A duplicate SKU is 409 naming it; a bad barcode is 422 saying what is wrong."""
    product, limit = products_service.create(db, actor=actor, store_id=store.id,
                                             currency=store.currency, data=body, now=now,
                                             meta=meta)
    warning = limit.message if limit.state is LimitState.WARN else None
    if warning:
        response.headers[PLAN_WARNING_HEADER] = warning
    return ProductCreated(**product_read(product).model_dump(), plan_warning=warning)


@router.get("/products/search", response_model=ProductSearchPage,
            responses=problem_responses(400, 401, 403, 422))
def search_products(
    _: Reader, store_id: CurrentTenant, db: SessionDep,
    q: Annotated[str, Query(min_length=1, max_length=200, pattern=NO_NUL,
                            description="Words; each matches a word start in name or "
                                        "description")],
    page: Annotated[int, Query(ge=1, le=50)] = 1, page_size: PageSizeQ = 20,
) -> ProductSearchPage:
    """Full-text search over names and descriptions, best match first."""
    rows, more = search_service.search(db, store_id=store_id, query=q, page=page,
                                       page_size=page_size)
    return ProductSearchPage(query=q, items=[list_item(r) for r in rows], page=page,
                             page_size=page_size, has_more=more)


@router.get("/variants/lookup", response_model=LookupRead,
            responses=problem_responses(400, 401, 403, 404, 422))
def lookup_variant(
    _: Reader, db: SessionDep,
    code: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[^\s\x00]+$",
                               description="A SKU or a scanned barcode")],
) -> LookupRead:
    """The live variant with this exact SKU, else this barcode (EAN/UPC forms of one GTIN
    match each other), with its product."""
    variant, matched = search_service.lookup(db, code=code)
    (summary,) = search_service.summaries(db, [variant.product_id])
    return LookupRead(variant=variant_read(variant), product=list_item(summary),
                      matched_by=matched)


@router.get("/products/{product_id}", response_model=ProductRead,
            responses=problem_responses(400, 401, 403, 404, 422))
def get_product(product_id: IdPath, _: Reader, db: SessionDep) -> ProductRead:
    """A product with its variants, categories, attributes, labels and media."""
    return product_read(products_service.get(db, product_id=product_id))


@router.patch("/products/{product_id}", response_model=ProductRead,
              responses=problem_responses(400, 401, 403, 404, 409, 422))
def update_product(
    product_id: IdPath, body: ProductUpdate, actor: Writer, db: SessionDep, now: NowDep,
    meta: MetaDep,
) -> ProductRead:
    """Change the fields sent; category_ids, attributes and labels replace the whole set."""
    product = products_service.get(db, product_id=product_id)
    return product_read(products_service.update(db, actor=actor, product=product, data=body,
                                                now=now, meta=meta))


@router.delete("/products/{product_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404, 422))
def delete_product(product_id: IdPath, actor: Writer, db: SessionDep, now: NowDep,
                   meta: MetaDep) -> Response:
    """Soft-delete a product and its variants (their SKUs stay reserved)."""
    product = products_service.get(db, product_id=product_id)
    products_service.soft_delete(db, actor=actor, product=product, now=now, meta=meta)
    return Response(status_code=204)


@router.post("/products/{product_id}/variants", response_model=VariantRead, status_code=201,
             responses=problem_responses(400, 401, 403, 404, 409, 422))
def create_variant(
    product_id: IdPath, body: VariantCreate, actor: Writer, store: CurrentStore,
    db: SessionDep, now: NowDep, meta: MetaDep,
) -> VariantRead:
    """Add a variant (SKU unique in the store; barcode checked)."""
    product = products_service.get(db, product_id=product_id)
    return variant_read(variants_service.create(db, actor=actor, product=product, data=body,
                                                currency=store.currency, now=now, meta=meta))


@router.patch("/products/{product_id}/variants/{variant_id}", response_model=VariantRead,
              responses=problem_responses(400, 401, 403, 404, 409, 422))
def update_variant(
    product_id: IdPath, variant_id: IdPath, body: VariantUpdate, actor: Writer,
    store: CurrentStore, db: SessionDep, now: NowDep, meta: MetaDep,
) -> VariantRead:
    """Change the fields sent. Stock moves only through /inventory."""
    product = products_service.get(db, product_id=product_id)
    variant = variants_service.get(db, product=product, variant_id=variant_id)
    return variant_read(variants_service.update(db, actor=actor, product=product,
                                                variant=variant, data=body,
                                                currency=store.currency, now=now, meta=meta))


@router.delete("/products/{product_id}/variants/{variant_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404, 422))
def delete_variant(product_id: IdPath, variant_id: IdPath, actor: Writer, db: SessionDep,
                   now: NowDep, meta: MetaDep) -> Response:
    """Soft-delete a variant (not the product's last one)."""
    product = products_service.get(db, product_id=product_id)
    variant = variants_service.get(db, product=product, variant_id=variant_id)
    variants_service.delete(db, actor=actor, product=product, variant=variant, now=now,
                            meta=meta)
    return Response(status_code=204)

"""Categories (a tree), brands and attributes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from server.api.deps import MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.catalog import attributes_service, brands_service, categories_service
from server.catalog.presenters import node_read
from server.catalog.schemas_taxonomy import (
    AttributeCreate,
    AttributePage,
    AttributeRead,
    AttributeUpdate,
    BrandCreate,
    BrandPage,
    BrandRead,
    BrandUpdate,
    CategoryCreate,
    CategoryNode,
    CategoryPage,
    CategoryRead,
    CategoryUpdate,
)
from server.catalog.view_params import IdPath, IdQuery, PageQ, PageSizeQ, SearchQ
from server.identity.principal import Principal

router = APIRouter(tags=["catalog"])
Reader = Annotated[Principal, require_permission("products.read")]
Writer = Annotated[Principal, require_permission("products.write")]
READ_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


def _category(c: object) -> CategoryRead:
    return CategoryRead.model_validate(c, from_attributes=True)


# ---- categories -----------------------------------------------------------------------------


@router.get("/categories", response_model=CategoryPage,
            responses=problem_responses(400, 401, 403, 422))
def list_categories(
    _: Reader, db: SessionDep, q: SearchQ = None, parent_id: IdQuery = None,
    top_level: Annotated[bool, Query(description="Only categories without a parent")] = False,
    sort: Literal["display_order", "name", "-name", "created_at", "-created_at"] =
    "display_order",
    page: PageQ = 1, page_size: PageSizeQ = 20,
) -> CategoryPage:
    """Categories as a flat list (filter by parent); see /categories/tree for the tree."""
    rows, total = categories_service.list_(db, parent_id=parent_id, top_level=top_level, q=q,
                                           sort=sort, page=page, page_size=page_size)
    return CategoryPage(items=[_category(c) for c in rows], total=total, page=page,
                        page_size=page_size)


@router.get("/categories/tree", response_model=list[CategoryNode],
            responses=problem_responses(400, 401, 403))
def category_tree(_: Reader, db: SessionDep) -> list[CategoryNode]:
    """The whole category tree with live product counts per category."""
    return [node_read(n) for n in categories_service.tree(db)]


@router.post("/categories", response_model=CategoryRead, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_category(body: CategoryCreate, actor: Writer, db: SessionDep, now: NowDep,
                    meta: MetaDep) -> CategoryRead:
    return _category(categories_service.create(db, actor=actor, data=body, now=now, meta=meta))


@router.get("/categories/{category_id}", response_model=CategoryRead, responses=READ_ERRORS)
def get_category(category_id: IdPath, _: Reader, db: SessionDep) -> CategoryRead:
    return _category(categories_service.get(db, category_id=category_id))


@router.patch("/categories/{category_id}", response_model=CategoryRead,
              responses=WRITE_ERRORS)
def update_category(category_id: IdPath, body: CategoryUpdate, actor: Writer, db: SessionDep,
                    now: NowDep, meta: MetaDep) -> CategoryRead:
    """Change the fields sent. Moving a category under itself or a descendant is 422
    ``category_cycle``."""
    category = categories_service.get(db, category_id=category_id)
    return _category(categories_service.update(db, actor=actor, category=category, data=body,
                                               now=now, meta=meta))


@router.delete("/categories/{category_id}", status_code=204, responses=READ_ERRORS)
def delete_category(category_id: IdPath, actor: Writer, db: SessionDep, now: NowDep,
                    meta: MetaDep) -> Response:
    """Soft-delete: its children move up to its parent; products lose the category."""
    category = categories_service.get(db, category_id=category_id)
    categories_service.soft_delete(db, actor=actor, category=category, now=now, meta=meta)
    return Response(status_code=204)


# ---- brands ---------------------------------------------------------------------------------


def _brand(b: object) -> BrandRead:
    return BrandRead.model_validate(b, from_attributes=True)


@router.get("/brands", response_model=BrandPage,
            responses=problem_responses(400, 401, 403, 422))
def list_brands(_: Reader, db: SessionDep, q: SearchQ = None, is_active: bool | None = None,
                sort: Literal["name", "-name", "created_at", "-created_at"] = "name",
                page: PageQ = 1, page_size: PageSizeQ = 20) -> BrandPage:
    rows, total = brands_service.list_brands(db, q=q, is_active=is_active, sort=sort,
                                             page=page, page_size=page_size)
    return BrandPage(items=[_brand(b) for b in rows], total=total, page=page,
                     page_size=page_size)


@router.post("/brands", response_model=BrandRead, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_brand(body: BrandCreate, actor: Writer, db: SessionDep, now: NowDep,
                 meta: MetaDep) -> BrandRead:
    return _brand(brands_service.create_brand(db, actor=actor, data=body, now=now, meta=meta))


@router.get("/brands/{brand_id}", response_model=BrandRead, responses=READ_ERRORS)
def get_brand(brand_id: IdPath, _: Reader, db: SessionDep) -> BrandRead:
    return _brand(brands_service.get_brand(db, brand_id=brand_id))


@router.patch("/brands/{brand_id}", response_model=BrandRead, responses=WRITE_ERRORS)
def update_brand(brand_id: IdPath, body: BrandUpdate, actor: Writer, db: SessionDep,
                 now: NowDep, meta: MetaDep) -> BrandRead:
    brand = brands_service.get_brand(db, brand_id=brand_id)
    return _brand(brands_service.update_brand(db, actor=actor, brand=brand, data=body, now=now,
                                              meta=meta))


@router.delete("/brands/{brand_id}", status_code=204, responses=READ_ERRORS)
def delete_brand(brand_id: IdPath, actor: Writer, db: SessionDep, now: NowDep,
                 meta: MetaDep) -> Response:
    """Soft-delete the brand; its products keep existing without a brand."""
    brand = brands_service.get_brand(db, brand_id=brand_id)
    brands_service.delete_brand(db, actor=actor, brand=brand, now=now, meta=meta)
    return Response(status_code=204)


# ---- attributes -----------------------------------------------------------------------------


def _attribute(a: object) -> AttributeRead:
    return AttributeRead.model_validate(a, from_attributes=True)


@router.get("/attributes", response_model=AttributePage,
            responses=problem_responses(400, 401, 403, 422))
def list_attributes(_: Reader, db: SessionDep, q: SearchQ = None, page: PageQ = 1,
                    page_size: PageSizeQ = 20) -> AttributePage:
    rows, total = attributes_service.list_attributes(db, q=q, page=page, page_size=page_size)
    return AttributePage(items=[_attribute(a) for a in rows], total=total, page=page,
                         page_size=page_size)


@router.post("/attributes", response_model=AttributeRead, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_attribute(body: AttributeCreate, actor: Writer, db: SessionDep, now: NowDep,
                     meta: MetaDep) -> AttributeRead:
    return _attribute(attributes_service.create_attribute(db, actor=actor, data=body, now=now,
                                                          meta=meta))


@router.get("/attributes/{attribute_id}", response_model=AttributeRead,
            responses=READ_ERRORS)
def get_attribute(attribute_id: IdPath, _: Reader, db: SessionDep) -> AttributeRead:
    return _attribute(attributes_service.get_attribute(db, attribute_id=attribute_id))


@router.patch("/attributes/{attribute_id}", response_model=AttributeRead,
              responses=WRITE_ERRORS)
def update_attribute(attribute_id: IdPath, body: AttributeUpdate, actor: Writer,
                     db: SessionDep, now: NowDep, meta: MetaDep) -> AttributeRead:
    attribute = attributes_service.get_attribute(db, attribute_id=attribute_id)
    return _attribute(attributes_service.update_attribute(db, actor=actor, attribute=attribute,
                                                          data=body, now=now, meta=meta))


@router.delete("/attributes/{attribute_id}", status_code=204, responses=READ_ERRORS)
def delete_attribute(attribute_id: IdPath, actor: Writer, db: SessionDep,
                     meta: MetaDep) -> Response:
    """Delete the attribute; products lose it too."""
    attribute = attributes_service.get_attribute(db, attribute_id=attribute_id)
    attributes_service.delete_attribute(db, actor=actor, attribute=attribute, meta=meta)
    return Response(status_code=204)

"""Categories: a tree per store (parent/children), never a cycle.

Moving a category under itself or one of its descendants is refused (422 ``category_cycle``).
Deleting one is a soft delete: its children move up to its parent and its product links go.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.models import Category, Product, ProductCategory
from server.catalog.rules import (
    field_error,
    flush_or_conflict,
    paged,
    reject_nulls,
    slug_race,
    unique_slug,
)
from server.catalog.schemas_taxonomy import CategoryCreate, CategoryUpdate
from server.errors import Invalid, NotFound
from server.identity.principal import Principal, RequestMeta

SORTS = {
    "display_order": (Category.display_order.asc(), Category.name.asc(), Category.id.asc()),
    "name": (Category.name.asc(), Category.id.asc()),
    "-name": (Category.name.desc(), Category.id.desc()),
    "created_at": (Category.created_at.asc(), Category.id.asc()),
    "-created_at": (Category.created_at.desc(), Category.id.desc()),
}
FIELDS = ("name", "description", "image_url", "display_order", "is_active", "meta_title",
          "meta_description")
NOT_NULL = ("name", "slug", "display_order", "is_active")


@dataclass
class Node:
    category: Category
    product_count: int
    children: list[Node] = field(default_factory=list)


def get(session: Session, *, category_id: str) -> Category:
    category = session.scalar(select(Category).where(Category.id == category_id,
                                                     Category.deleted_at.is_(None)))
    if category is None:
        raise NotFound("There is no such category.", code="category_not_found")
    return category


def _parents(session: Session) -> dict[str, str | None]:
    rows = session.execute(select(Category.id, Category.parent_id)
                           .where(Category.deleted_at.is_(None)))
    return {cid: parent for cid, parent in rows}


def descendant_ids(session: Session, *, category_id: str) -> list[str]:
    """The category and every category below it."""
    children: dict[str | None, list[str]] = {}
    for cid, parent in _parents(session).items():
        children.setdefault(parent, []).append(cid)
    out, stack = [], [category_id]
    while stack:
        cid = stack.pop()
        if cid in out:
            continue
        out.append(cid)
        stack.extend(children.get(cid, []))
    return out


def _check_parent(session: Session, *, category_id: str | None, parent_id: str | None) -> None:
    if parent_id is None:
        return
    parents = _parents(session)
    if parent_id not in parents:
        raise field_error("parent_id", f"there is no category {parent_id} in this store",
                          code="unknown_reference")
    node: str | None = parent_id
    hops = 0
    while node is not None and hops <= len(parents):
        if node == category_id:
            what = "itself" if parent_id == category_id else "one of its own descendants"
            raise Invalid(f"A category cannot be moved under {what}.", code="category_cycle",
                          errors=[{"location": ["body", "parent_id"], "field": "parent_id",
                                   "message": f"would put the category under {what}",
                                   "type": "category_cycle"}])
        node = parents.get(node)
        hops += 1


def list_(
    session: Session, *, parent_id: str | None, top_level: bool, q: str | None, sort: str,
    page: int, page_size: int,
) -> tuple[Sequence[Category], int]:
    stmt = select(Category).where(Category.deleted_at.is_(None))
    if top_level:
        stmt = stmt.where(Category.parent_id.is_(None))
    elif parent_id:
        stmt = stmt.where(Category.parent_id == parent_id)
    if q:
        stmt = stmt.where(or_(Category.name.icontains(q, autoescape=True),
                              Category.slug.icontains(q, autoescape=True)))
    return paged(session, stmt, SORTS[sort], page, page_size)


def tree(session: Session) -> list[Node]:
    """The whole live tree, roots first, siblings by display order then name."""
    categories = session.scalars(select(Category).where(Category.deleted_at.is_(None))
                                 .order_by(*SORTS["display_order"])).all()
    counts = dict(session.execute(
        select(ProductCategory.category_id, func.count())
        .join(Product, Product.id == ProductCategory.product_id)
        .where(Product.deleted_at.is_(None)).group_by(ProductCategory.category_id)).all())
    nodes = {c.id: Node(c, int(counts.get(c.id, 0))) for c in categories}
    roots: list[Node] = []
    for c in categories:
        parent = nodes.get(c.parent_id) if c.parent_id else None
        (parent.children if parent else roots).append(nodes[c.id])
    return roots


def create(session: Session, *, actor: Principal, data: CategoryCreate, now: datetime,
           meta: RequestMeta) -> Category:
    _check_parent(session, category_id=None, parent_id=data.parent_id)
    slug = unique_slug(session, Category, name=data.name, wanted=data.slug)
    category = Category(slug=slug, parent_id=data.parent_id, created_at=now, updated_at=now,
                        **{k: getattr(data, k) for k in FIELDS})
    session.add(category)
    flush_or_conflict(session, slug_race(slug))
    audit.record(session, actor=actor, action="category.create", entity_type="category",
                 entity_id=category.id, after=audit.snapshot(category), request_meta=meta)
    return category


def update(session: Session, *, actor: Principal, category: Category, data: CategoryUpdate,
           now: datetime, meta: RequestMeta) -> Category:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, NOT_NULL)
    before = audit.snapshot(category)
    if "parent_id" in changes:
        _check_parent(session, category_id=category.id, parent_id=changes["parent_id"])
        category.parent_id = changes["parent_id"]
    if "slug" in changes and changes["slug"] != category.slug:
        category.slug = unique_slug(session, Category, name=category.name,
                                    wanted=changes["slug"], exclude_id=category.id)
    for name in FIELDS:
        if name in changes:
            setattr(category, name, changes[name])
    category.updated_at = now
    flush_or_conflict(session, slug_race(category.slug))
    audit.record(session, actor=actor, action="category.update", entity_type="category",
                 entity_id=category.id, before=before, after=audit.snapshot(category),
                 request_meta=meta)
    return category


def soft_delete(session: Session, *, actor: Principal, category: Category, now: datetime,
                meta: RequestMeta) -> None:
    """Delete the category: its children move to its parent, its product links are removed."""
    before = audit.snapshot(category)
    # ORM writes, not bulk statements: flush hooks (the sync change feed) see every row.
    for child in session.scalars(select(Category).where(Category.parent_id == category.id,
                                                        Category.deleted_at.is_(None))):
        child.parent_id = category.parent_id
        child.updated_at = now
    for link in session.scalars(select(ProductCategory)
                                .where(ProductCategory.category_id == category.id)):
        session.delete(link)
    category.deleted_at = now
    category.updated_at = now
    audit.record(session, actor=actor, action="category.delete", entity_type="category",
                 entity_id=category.id, before=before, after=audit.snapshot(category),
                 request_meta=meta)

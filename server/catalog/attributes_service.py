"""Attributes (Size, Colour): allowed values per type; hard delete, which removes them from
products too."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.models import Attribute
from server.catalog.rules import (
    field_error,
    flush_or_conflict,
    paged,
    reject_nulls,
    slug_race,
    unique_slug,
)
from server.catalog.schemas_taxonomy import AttributeCreate, AttributeUpdate
from server.errors import NotFound
from server.identity.principal import Principal, RequestMeta

ATTRIBUTE_FIELDS = ("name", "type", "display_order", "is_active")
NOT_NULL = ("name", "slug", "is_active", "type", "display_order", "values")


def get_attribute(session: Session, *, attribute_id: str) -> Attribute:
    attribute = session.scalar(select(Attribute).where(Attribute.id == attribute_id))
    if attribute is None:
        raise NotFound("There is no such attribute.", code="attribute_not_found")
    return attribute


def list_attributes(session: Session, *, q: str | None, page: int, page_size: int
                    ) -> tuple[Sequence[Attribute], int]:
    stmt = select(Attribute)
    if q:
        stmt = stmt.where(or_(Attribute.name.icontains(q, autoescape=True),
                              Attribute.slug.icontains(q, autoescape=True)))
    order = (Attribute.display_order.asc(), Attribute.name.asc(), Attribute.id.asc())
    return paged(session, stmt, order, page, page_size)


def _values(values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for i, value in enumerate(values):
        plain = value if isinstance(value, str) else value.value
        if plain in seen:
            raise field_error(f"values.{i}", f"'{plain}' is listed twice")
        seen.add(plain)
        out.append(value if isinstance(value, str) else value.model_dump(exclude_none=True))
    return out


def create_attribute(session: Session, *, actor: Principal, data: AttributeCreate,
                     now: datetime, meta: RequestMeta) -> Attribute:
    slug = unique_slug(session, Attribute, name=data.name, wanted=data.slug)
    attribute = Attribute(slug=slug, values=_values(data.values), created_at=now,
                          updated_at=now, **{k: getattr(data, k) for k in ATTRIBUTE_FIELDS})
    session.add(attribute)
    flush_or_conflict(session, slug_race(slug))
    audit.record(session, actor=actor, action="attribute.create", entity_type="attribute",
                 entity_id=attribute.id, after=audit.snapshot(attribute), request_meta=meta)
    return attribute


def update_attribute(session: Session, *, actor: Principal, attribute: Attribute,
                     data: AttributeUpdate, now: datetime, meta: RequestMeta) -> Attribute:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, NOT_NULL)
    before = audit.snapshot(attribute)
    if "slug" in changes and changes["slug"] != attribute.slug:
        attribute.slug = unique_slug(session, Attribute, name=attribute.name,
                                     wanted=changes["slug"], exclude_id=attribute.id)
    if "values" in changes:
        attribute.values = _values(data.values or [])
    for name in ATTRIBUTE_FIELDS:
        if name in changes:
            setattr(attribute, name, changes[name])
    attribute.updated_at = now
    flush_or_conflict(session, slug_race(attribute.slug))
    audit.record(session, actor=actor, action="attribute.update", entity_type="attribute",
                 entity_id=attribute.id, before=before, after=audit.snapshot(attribute),
                 request_meta=meta)
    return attribute


def delete_attribute(session: Session, *, actor: Principal, attribute: Attribute,
                     meta: RequestMeta) -> None:
    """Delete the attribute and its product links (the schema cascades)."""
    before = audit.snapshot(attribute)
    session.delete(attribute)
    audit.record(session, actor=actor, action="attribute.delete", entity_type="attribute",
                 entity_id=attribute.id, before=before, request_meta=meta)

"""Product media: upload (checked, then stored), list, reorder/feature, delete, read back.

A file is written before the transaction commits; if the transaction then rolls back the file
is removed, and a deleted medium's file is removed only once the delete has committed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.media_storage import MediaStorage, check_upload, key_for
from server.catalog.models import Media, Product
from server.catalog.schemas_taxonomy import MediaUpdate
from server.db.base import new_id
from server.errors import NotFound
from server.identity.principal import Principal, RequestMeta


def list_(session: Session, *, product: Product) -> Sequence[Media]:
    return session.scalars(select(Media).where(Media.product_id == product.id)
                           .order_by(Media.display_order, Media.created_at, Media.id)).all()


def get(session: Session, *, product: Product, media_id: str) -> Media:
    media = session.scalar(select(Media).where(Media.id == media_id,
                                               Media.product_id == product.id))
    if media is None:
        raise NotFound("This product has no such media.", code="media_not_found")
    return media


def _feature(session: Session, product: Product, media: Media) -> None:
    for other in list_(session, product=product):
        other.is_featured = other.id == media.id
    media.is_featured = True


def upload(
    session: Session, *, actor: Principal, product: Product, storage: MediaStorage,
    data: bytes, declared_type: str | None, filename: str | None, alt_text: str | None,
    is_featured: bool, url_template: str, now: datetime, meta: RequestMeta,
) -> Media:
    """Check and store an image for a product (the first one becomes the featured one)."""
    mime = check_upload(data, declared_type, filename)
    media_id = new_id()
    key = key_for(product.store_id, media_id, mime)
    url = storage.save(key, data, mime) or url_template.format(product_id=product.id,
                                                               media_id=media_id)
    event.listen(session, "after_rollback", lambda _s: storage.delete(key), once=True)
    last = session.scalar(select(func.max(Media.display_order))
                          .where(Media.product_id == product.id))
    has_featured = session.scalar(select(Media.id).where(
        Media.product_id == product.id, Media.is_featured.is_(True)).limit(1)) is not None
    media = Media(id=media_id, product_id=product.id, store_id=product.store_id, url=url,
                  alt_text=alt_text, mime_type=mime, size=len(data),
                  display_order=(last + 1) if last is not None else 0,
                  is_featured=False, created_at=now, updated_at=now)
    session.add(media)
    session.flush()
    if is_featured or not has_featured:
        _feature(session, product, media)
    product.updated_at = now
    audit.record(session, actor=actor, action="media.create", entity_type="media",
                 entity_id=media.id, after=audit.snapshot(media), request_meta=meta)
    return media


def update(session: Session, *, actor: Principal, product: Product, media: Media,
           data: MediaUpdate, now: datetime, meta: RequestMeta) -> Media:
    changes = data.model_dump(exclude_unset=True)
    before = audit.snapshot(media)
    if "alt_text" in changes:
        media.alt_text = changes["alt_text"]
    if changes.get("display_order") is not None:
        media.display_order = changes["display_order"]
    if changes.get("is_featured") is True:
        _feature(session, product, media)
    elif changes.get("is_featured") is False:
        media.is_featured = False
    media.updated_at = now
    audit.record(session, actor=actor, action="media.update", entity_type="media",
                 entity_id=media.id, before=before, after=audit.snapshot(media),
                 request_meta=meta)
    return media


def delete(session: Session, *, actor: Principal, product: Product, media: Media,
           storage: MediaStorage, meta: RequestMeta) -> None:
    """Delete the medium; its file goes once the transaction commits."""
    before = audit.snapshot(media)
    key = key_for(product.store_id, media.id, media.mime_type)
    session.delete(media)
    event.listen(session, "after_commit", lambda _s: storage.delete(key), once=True)
    audit.record(session, actor=actor, action="media.delete", entity_type="media",
                 entity_id=media.id, before=before, request_meta=meta)


def read_file(*, product: Product, media: Media, storage: MediaStorage) -> bytes:
    """The stored bytes of a medium (404 when the file is gone)."""
    try:
        with storage.open(key_for(product.store_id, media.id, media.mime_type)) as stream:
            return stream.read()
    except (FileNotFoundError, ValueError):
        raise NotFound("The file of this media is missing.", code="media_file_missing") from None



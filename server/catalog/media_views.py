"""Product media: multipart upload to the media storage, list, edit, delete, download."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Response, UploadFile

from server.api.deps import MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.catalog import media_service, products_service
from server.catalog.media_storage import ALLOWED, MediaStorage, read_limited
from server.catalog.rules import field_error
from server.catalog.schemas_taxonomy import MediaRead, MediaUpdate
from server.catalog.view_params import URL_PREFIX, IdPath, get_media_storage
from server.catalog.wire import NO_NUL
from server.identity.principal import Principal

router = APIRouter(tags=["catalog"])
Reader = Annotated[Principal, require_permission("products.read")]
Writer = Annotated[Principal, require_permission("products.write")]
StorageDep = Annotated[MediaStorage, Depends(get_media_storage)]
FILE_URL = URL_PREFIX + "/products/{product_id}/media/{media_id}/file"


def _read(m: object) -> MediaRead:
    return MediaRead.model_validate(m, from_attributes=True)


@router.get("/products/{product_id}/media", response_model=list[MediaRead],
            responses=problem_responses(400, 401, 403, 404, 422))
def list_media(product_id: IdPath, _: Reader, db: SessionDep) -> list[MediaRead]:
    product = products_service.get(db, product_id=product_id, detail=False)
    return [_read(m) for m in media_service.list_(db, product=product)]


@router.post("/products/{product_id}/media", response_model=MediaRead, status_code=201,
             responses=problem_responses(400, 401, 403, 404, 413, 415, 422))
def upload_media(
    product_id: IdPath, actor: Writer, db: SessionDep, now: NowDep, meta: MetaDep,
    storage: StorageDep,
    file: Annotated[UploadFile | None, File(description="JPEG, PNG, WebP or GIF; 5 MB at most")]
    = None,
    alt_text: Annotated[str | None, Form(max_length=500, pattern=NO_NUL)] = None,
    is_featured: Annotated[bool, Form()] = False,
) -> MediaRead:
    """Upload an image (multipart/form-data, field ``file``). Too large is 413; a type we do
    not take, or content that is not what it claims, is 415. The first image is featured."""
    product = products_service.get(db, product_id=product_id, detail=False)
    if file is None:
        raise field_error("file", "send the image as the multipart field 'file'",
                          code="file_required")
    data = read_limited(file.file, storage.max_bytes)
    media = media_service.upload(
        db, actor=actor, product=product, storage=storage, data=data,
        declared_type=file.content_type, filename=file.filename, alt_text=alt_text,
        is_featured=is_featured, url_template=FILE_URL, now=now, meta=meta)
    return _read(media)


@router.patch("/products/{product_id}/media/{media_id}", response_model=MediaRead,
              responses=problem_responses(400, 401, 403, 404, 422))
def update_media(product_id: IdPath, media_id: IdPath, body: MediaUpdate, actor: Writer,
                 db: SessionDep, now: NowDep, meta: MetaDep) -> MediaRead:
    """Alt text, display order, or make it the featured image."""
    product = products_service.get(db, product_id=product_id, detail=False)
    media = media_service.get(db, product=product, media_id=media_id)
    return _read(media_service.update(db, actor=actor, product=product, media=media, data=body,
                                      now=now, meta=meta))


@router.delete("/products/{product_id}/media/{media_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404, 422))
def delete_media(product_id: IdPath, media_id: IdPath, actor: Writer, db: SessionDep,
                 meta: MetaDep, storage: StorageDep) -> Response:
    product = products_service.get(db, product_id=product_id, detail=False)
    media = media_service.get(db, product=product, media_id=media_id)
    media_service.delete(db, actor=actor, product=product, media=media, storage=storage,
                         meta=meta)
    return Response(status_code=204)


@router.get("/products/{product_id}/media/{media_id}/file",
            responses={200: {"content": {mime: {} for mime in ALLOWED},
                             "description": "The image"},
                       **problem_responses(400, 401, 403, 404, 422)},
            response_class=Response)
def media_file(product_id: IdPath, media_id: IdPath, _: Reader, db: SessionDep,
               storage: StorageDep) -> Response:
    """The stored image itself (for local storage)."""
    product = products_service.get(db, product_id=product_id, detail=False)
    media = media_service.get(db, product=product, media_id=media_id)
    data = media_service.read_file(product=product, media=media, storage=storage)
    return Response(data, media_type=media.mime_type,
                    headers={"Cache-Control": "private, max-age=3600"})

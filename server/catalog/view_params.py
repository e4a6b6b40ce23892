"""Parameters shared by the catalog, inventory and customer views (FastAPI side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query, Request

from server.catalog.media_storage import (
    LocalMediaStorage,
    MediaStorage,
    default_max_bytes,
    default_media_root,
)
from server.catalog.wire import DEFAULT_PAGE_SIZE, MAX_PAGE, MAX_PAGE_SIZE, NO_NUL

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
IdQuery = Annotated[str | None, Query(min_length=1, max_length=64, pattern=ID_PATTERN)]
PageQ = Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")]
PageSizeQ = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE,
                                 description=f"{DEFAULT_PAGE_SIZE} by default, "
                                             f"{MAX_PAGE_SIZE} at most")]
SearchQ = Annotated[str | None, Query(max_length=200, pattern=NO_NUL,
                                      description="Matches names (and exact codes)")]

URL_PREFIX = "/api/v1"


def get_media_storage(request: Request) -> MediaStorage:
    """The app's media storage (``app.state.media_storage``; local files unless replaced)."""
    storage: MediaStorage | None = getattr(request.app.state, "media_storage", None)
    if storage is None:
        settings = request.app.state.settings
        storage = LocalMediaStorage(default_media_root(settings), default_max_bytes())
        request.app.state.media_storage = storage
    return storage

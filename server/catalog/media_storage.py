"""Where product media files live: a storage interface, local files by default.

``LocalMediaStorage`` keeps files under ``<media root>/<store id>/<media id><ext>``. The root is
``STORMCOM_MEDIA_DIR`` when set, else a ``media`` directory beside an SQLite database, else
``media`` in the user data directory (see :func:`default_media_root`). Local files are served
by the API (``GET /api/v1/products/{id}/media/{id}/file``); a cloud storage would return its
own public URL from ``save`` instead.

Uploads are checked before anything is stored: at most ``max_bytes`` (5 MB by default,
``STORMCOM_MEDIA_MAX_BYTES``), not empty, and a JPEG, PNG, WebP or GIF whose *content* (magic
bytes) matches the declared type. Errors are 413 ``payload_too_large``, 415
``unsupported_media_type`` and 422 ``empty_file``, each saying what was wrong.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url

from server.errors import Invalid, ServiceError

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
ALLOWED: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
}
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,64}\.[a-z]{3,4}")


class MediaTooLarge(ServiceError):
    status = 413
    default_code = "payload_too_large"
    default_title = "File too large"


class UnsupportedMediaType(ServiceError):
    status = 415
    default_code = "unsupported_media_type"
    default_title = "Unsupported media type"


class MediaStorage(Protocol):
    """Stores media bytes under a key; ``save`` returns a public URL, or None when the API
    serves the file itself (``open``)."""

    max_bytes: int

    def save(self, key: str, data: bytes, mime_type: str) -> str | None: ...

    def open(self, key: str) -> BinaryIO: ...

    def delete(self, key: str) -> None: ...


def sniff(data: bytes) -> str | None:
    """The image type the bytes really are, from their magic numbers."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def read_limited(stream: BinaryIO, max_bytes: int) -> bytes:
    """Read an upload, refusing it (413) as soon as it passes ``max_bytes``."""
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise MediaTooLarge(f"The file is larger than the {max_bytes // 1024} KB allowed "
                            f"({max_bytes} bytes).", max_bytes=max_bytes)
    return data


def check_upload(data: bytes, declared: str | None, filename: str | None) -> str:
    """The upload's MIME type after checking it; raises with what is wrong."""
    name = filename or "the file"
    if not data:
        raise Invalid(f"{name} is empty.", code="empty_file",
                      errors=[{"location": ["body", "file"], "field": "file",
                               "message": "the file is empty", "type": "empty_file"}])
    actual = sniff(data)
    allowed = ", ".join(sorted(ALLOWED))
    declared = (declared or "").split(";")[0].strip().lower() or None
    if actual is None:
        raise UnsupportedMediaType(f"{name} is not an image we accept ({allowed}); "
                                   f"it was sent as {declared or 'an unknown type'}.",
                                   allowed=sorted(ALLOWED))
    if declared not in (None, "application/octet-stream", actual):
        raise UnsupportedMediaType(f"{name} was sent as {declared} but its content is "
                                   f"{actual}.", allowed=sorted(ALLOWED))
    return actual


def key_for(store_id: str, media_id: str, mime_type: str) -> str:
    return f"{store_id}/{media_id}{ALLOWED.get(mime_type, '.bin')}"


class LocalMediaStorage:
    """Files on local disk under ``root``."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"bad media key {key!r}")
        return self.root / key

    def save(self, key: str, data: bytes, mime_type: str) -> str | None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return None

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def default_media_root(settings: Any) -> Path:
    """``STORMCOM_MEDIA_DIR``, else beside an SQLite database, else the user data dir."""
    configured = os.environ.get("STORMCOM_MEDIA_DIR") or getattr(settings, "media_dir", None)
    if configured:
        return Path(configured).expanduser()
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent / "media"
    return Path(user_data_dir("stormcom", "StormCom")) / "media"


def default_max_bytes() -> int:
    raw = os.environ.get("STORMCOM_MEDIA_MAX_BYTES")
    return int(raw) if raw and raw.isdigit() else DEFAULT_MAX_BYTES

"""Finding products at the till: search as you type, and quick keys per category."""

from __future__ import annotations

from typing import Any

from stormcom_pos.local_db import catalog_repo
from stormcom_pos.services.runtime import TillRuntime


class CatalogService:
    def __init__(self, runtime: TillRuntime) -> None:
        self._runtime = runtime

    def search(self, text: str, limit: int = 30) -> list[Any]:
        """Products whose name, SKU or barcode starts with the words typed."""
        text = (text or "").strip()
        if not text:
            return []
        with self._runtime.db.read() as conn:
            return list(catalog_repo.search(conn, text, limit))

    def quick_keys(self) -> list[tuple[str, str, list[Any]]]:
        with self._runtime.db.read() as conn:
            return list(catalog_repo.quick_keys(conn))

"""A real till file per test, opened with the production rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stormcom_pos.local_db.database import LocalDb


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "till.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[LocalDb]:
    local = LocalDb(db_path)
    local.open()
    try:
        yield local
    finally:
        local.close()

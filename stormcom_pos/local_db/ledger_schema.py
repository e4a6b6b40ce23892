"""The ledger's Alembic tree, driven from code, with a backup before any upgrade.

The tree lives in ``ledger_migrations/`` (separate from the server's ``server/migrations``) and
records its revision in ``ledger_version``. Before an upgrade of a file that already holds
tables, the whole file is copied with ``VACUUM INTO <path>.bak-<UTC timestamp>``: a failed or
wrong migration can then be undone by putting the copy back, and no unsynced sale is lost.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from stormcom_pos.local_db.codec import utcnow

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "ledger_migrations"
VERSION_TABLE = "ledger_version"
# The newest ledger revision, so that opening an up-to-date till does not load Alembic (a fifth
# of the cold start). A test checks it against the migration scripts.
LEDGER_HEAD = "0002_till_queues"

log = logging.getLogger(__name__)


def alembic_config(connection: Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The head of the migration scripts (loads Alembic)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    exists = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)).first()
    if exists is None:
        return None
    row = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").first()
    return str(row[0]) if row else None


def _has_tables(connection: Connection) -> bool:
    found = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1").first()
    return found is not None


def backup(engine: Engine, path: Path) -> Path:
    """A consistent copy of the whole file beside it, named ``<file>.bak-<UTC time>``."""
    target = path.with_name(f"{path.name}.bak-{utcnow():%Y%m%dT%H%M%S%fZ}")
    raw = engine.raw_connection()
    try:
        # VACUUM cannot run inside a transaction; the driver is in autocommit mode.
        raw.driver_connection.execute("VACUUM INTO ?", (str(target),))  # type: ignore[union-attr]
    finally:
        raw.close()
    log.info("ledger backed up to %s before a migration", target)
    return target


def upgrade(engine: Engine, path: Path, revision: str = "head") -> Path | None:
    """Bring the ledger to ``revision``; return the backup made first, if one was needed."""
    with engine.connect() as probe:
        current = current_revision(probe)
        had_tables = _has_tables(probe)
        probe.rollback()
    if current == (LEDGER_HEAD if revision == "head" else revision):
        return None
    from alembic import command

    made = backup(engine, path) if had_tables else None
    with engine.connect() as connection:
        connection = connection.execution_options(stormcom_begin="IMMEDIATE")
        command.upgrade(alembic_config(connection), revision)
        connection.commit()
    return made


def downgrade(engine: Engine, revision: str) -> None:
    """Step the ledger back (tests and rollbacks of a bad release)."""
    from alembic import command

    with engine.connect() as connection:
        connection = connection.execution_options(stormcom_begin="IMMEDIATE")
        command.downgrade(alembic_config(connection), revision)
        connection.commit()

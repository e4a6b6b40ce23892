"""The till's SQLite file: connection rules, explicit transactions, schema on open.

Every connection runs with ``journal_mode=WAL`` (readers never block the writer),
``synchronous=FULL`` (a committed sale survives a power cut, sync-anchors §2.3 and F11),
``foreign_keys=ON`` and a ``busy_timeout``. pysqlite's implicit transactions are switched off,
so transactions are exactly the ones opened here: ``write()`` runs in ``BEGIN IMMEDIATE`` (the
write lock is taken up front, so two writers queue on ``busy_timeout`` instead of failing
half-way), ``read()`` in a deferred ``BEGIN`` (one consistent snapshot).

``open()`` brings the ledger to its Alembic head (after a ``VACUUM INTO`` backup when the file
already had tables) and checks the cache: a cache of another ``CACHE_SCHEMA_VERSION`` is
dropped and recreated, and the sync state is marked for a resync; the ledger is untouched.

Threads: the engine's pool gives each thread its own connection; a ``LocalDb`` may be shared by
the UI thread and the sync worker.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

from stormcom_pos.local_db import cache_tables, ledger_schema
from stormcom_pos.local_db.sync_state import mark_resync

DEFAULT_BUSY_TIMEOUT_MS = 5000

log = logging.getLogger(__name__)


class DatabaseNotOpen(RuntimeError):
    pass


def _configure(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN: ours are explicit
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON",
                       f"busy_timeout = {int(busy_timeout_ms)}"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("stormcom_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class LocalDb:
    """One till's SQLite file (cache + ledger). ``db = LocalDb(path); db.open()``."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self._path = Path(path)
        self._busy_timeout_ms = busy_timeout_ms
        self._engine: Engine | None = None
        self.last_backup: Path | None = None  # the backup the last open() made, if any
        self.cache_was_reset = False  # whether the last open() recreated the cache

    @property
    def path(self) -> Path:
        return self._path

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise DatabaseNotOpen(f"{self._path} is not open; call open() first")
        return self._engine

    def open(self) -> LocalDb:
        """Connect, migrate the ledger (backing it up first) and check the cache version."""
        if self._engine is not None:
            return self
        self._path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(f"sqlite:///{self._path}",
                               connect_args={"check_same_thread": False})
        _configure(engine, self._busy_timeout_ms)
        self._engine = engine
        try:
            self.last_backup = ledger_schema.upgrade(engine, self._path)
            self._check_cache()
        except BaseException:
            self.close()
            raise
        return self

    def _check_cache(self) -> None:
        with self.write() as conn:
            version = cache_tables.stored_version(conn)
            self.cache_was_reset = version != cache_tables.CACHE_SCHEMA_VERSION
            if self.cache_was_reset:
                if version is not None:
                    log.warning("cache schema %s is not %s: dropping the cache for a resync",
                                version, cache_tables.CACHE_SCHEMA_VERSION)
                cache_tables.drop_cache(conn)
                cache_tables.create_cache(conn)
                cache_tables.write_version(conn)
                mark_resync(conn)
            else:
                cache_tables.create_cache(conn)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in ``BEGIN IMMEDIATE``; commits on exit, rolls back on an exception."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(stormcom_begin="IMMEDIATE")
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a deferred read transaction (one consistent snapshot)."""
        with self.engine.connect() as conn:
            with conn.begin() as transaction:
                yield conn
                transaction.rollback()

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> LocalDb:
        return self.open()

    def __exit__(self, *_exc: object) -> None:
        self.close()

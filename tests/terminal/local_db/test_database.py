"""The till file's connection rules, transactions, ledger migrations and cache versioning."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import (
    cache_apply,
    cache_tables,
    catalog_repo,
    ledger_repo,
    ledger_schema,
    outbox,
    sync_state,
)
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import NOW, product_row, sale, variant_row


def _pragmas(conn) -> tuple[str, int, int, int]:
    return (conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA synchronous").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar())


def test_every_connection_runs_wal_full_sync_and_foreign_keys(db: LocalDb) -> None:
    with db.write() as writer, db.read() as reader:
        assert _pragmas(writer) == ("wal", 2, 1, 5000)
        assert _pragmas(reader) == ("wal", 2, 1, 5000)
    with sqlite3.connect(db.path) as raw:  # WAL is a property of the file itself
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(db: LocalDb) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"), db.write() as conn:
        conn.execute(text("INSERT INTO cash_move (movement_id, pos_session_id, created_at, "
                          "payload) VALUES ('m1', 'no-such-session', 'now', '{}')"))


def test_a_second_writer_is_refused_while_the_first_holds_the_write_lock(db_path: Path) -> None:
    first = LocalDb(db_path).open()
    second = LocalDb(db_path, busy_timeout_ms=50).open()
    try:
        with first.write() as conn:
            ledger_repo.park(conn, "p1", "Table 1", {"lines": []})
            # BEGIN IMMEDIATE takes the lock at once: the second writer cannot even begin.
            with pytest.raises(OperationalError, match="locked"), second.write():
                pass
            with second.read() as reader:  # WAL: a reader is never blocked, sees the old state
                assert ledger_repo.parked(reader) == []
        with second.read() as reader:
            assert [p.park_id for p in ledger_repo.parked(reader)] == ["p1"]
    finally:
        first.close()
        second.close()


def test_a_second_writer_waits_for_the_first_to_commit(db_path: Path) -> None:
    first = LocalDb(db_path).open()
    second = LocalDb(db_path, busy_timeout_ms=10_000).open()
    holding, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        with first.write() as conn:
            ledger_repo.park(conn, "first", "held", {})
            holding.set()
            release.wait(5)

    worker = threading.Thread(target=hold_lock)
    worker.start()
    try:
        assert holding.wait(5)
        threading.Timer(0.2, release.set).start()
        with second.write() as conn:  # blocks in BEGIN IMMEDIATE until the first commits
            seen = [p.park_id for p in ledger_repo.parked(conn)]
            ledger_repo.park(conn, "second", "after", {})
        assert seen == ["first"]
    finally:
        release.set()
        worker.join()
        first.close()
        second.close()


def test_ledger_migration_backs_the_file_up_first(db_path: Path) -> None:
    db = LocalDb(db_path).open()
    assert db.last_backup is None  # a new file has nothing to back up
    order = sale(lines=[("v1", 1, "2.50")], receipt="DEMO-01-000001")
    with db.write() as conn:
        ledger_repo.record_sale(conn, order)
        outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)
    ledger_schema.downgrade(db.engine, "0001_ledger_core")  # as an older release left it
    db.close()

    db = LocalDb(db_path).open()
    try:
        backup = db.last_backup
        assert backup is not None and backup.exists()
        assert backup.name.startswith("till.db.bak-")
        with sqlite3.connect(backup) as copy:
            assert copy.execute("SELECT version_num FROM ledger_version").fetchone() == (
                "0001_ledger_core",)
            assert copy.execute("SELECT receipt_number FROM sale").fetchall() == [
                ("DEMO-01-000001",)]
        with db.read() as conn:
            assert ledger_schema.current_revision(conn) == ledger_schema.head_revision()
            assert ledger_repo.sale(conn, order.order_id) == order
            assert outbox.counts(conn).pending == 1
            assert ledger_repo.print_queue(conn) == []  # the upgraded table is there
    finally:
        db.close()
    reopened = LocalDb(db_path).open()  # at head: no new backup
    assert reopened.last_backup is None
    reopened.close()


def test_cache_version_bump_recreates_the_cache_and_asks_for_a_resync(
        db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = LocalDb(db_path).open()
    order = sale(lines=[("v1", 2, "2.50")])
    with db.write() as conn:
        cache_apply.load_snapshot_rows(conn, "product", [product_row("p1", "Apple")])
        cache_apply.load_snapshot_rows(conn, "variant", [variant_row("v1", "p1", sku="APL")])
        sync_state.update_state(conn, device_id="dev-1", cursor="abc", epoch="e1",
                                bootstrap_done=True, selling_ready=True, snapshot_as_of=7)
        ledger_repo.record_sale(conn, order)
        outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)
    db.close()

    reopened = LocalDb(db_path).open()  # same version: the cache stays
    assert not reopened.cache_was_reset
    with reopened.read() as conn:
        assert catalog_repo.by_sku(conn, "APL") is not None
    reopened.close()

    monkeypatch.setattr(cache_tables, "CACHE_SCHEMA_VERSION", cache_tables.CACHE_SCHEMA_VERSION + 1)
    bumped = LocalDb(db_path).open()
    try:
        assert bumped.cache_was_reset
        with bumped.read() as conn:
            assert catalog_repo.by_sku(conn, "APL") is None
            assert catalog_repo.search(conn, "apple") == []
            state = sync_state.get_state(conn)
            assert (state.cursor, state.bootstrap_done, state.selling_ready,
                    state.snapshot_as_of) == (None, False, False, None)
            assert (state.device_id, state.epoch) == ("dev-1", "e1")  # identity is kept
            assert ledger_repo.sale(conn, order.order_id) == order
            assert [e.payload["order_id"] for e in outbox.next_batch(conn)] == [order.order_id]
            assert cache_tables.stored_version(conn) == cache_tables.CACHE_SCHEMA_VERSION
    finally:
        bumped.close()


def test_write_rolls_back_on_an_exception(db: LocalDb) -> None:
    with pytest.raises(RuntimeError), db.write() as conn:
        ledger_repo.park(conn, "p1", "x", {})
        raise RuntimeError("boom")
    with db.read() as conn:
        assert ledger_repo.parked(conn) == []


def test_the_recorded_ledger_head_is_the_newest_migration() -> None:
    assert ledger_schema.LEDGER_HEAD == ledger_schema.head_revision()

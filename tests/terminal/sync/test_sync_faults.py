"""Tier 1 fault scenarios (sync-anchors §3.2): a real till database, the real server app, and
a transport that drops, loses, duplicates and refuses requests. Every scenario ends with the
invariants (invariants.py): each sale recorded at the till is on the server exactly once with
the same totals and lines, the outbox is drained into the server's inbox seq for seq, stock on
the server is its ledger, drawer expected cash matches on both sides, and the cache equals the
server's rows."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from server.catalog.models import Variant
from server.db.base import utcnow
from server.db.engine import make_engine
from server.sync.models import StoreSyncState
from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.local_db import outbox, sync_state
from stormcom_pos.sync import engine as engine_module
from stormcom_pos.sync.credentials import MemoryCredentialStore
from stormcom_pos.sync.errors import SyncError
from stormcom_pos.sync.status import BootstrapProgress
from tests.server.security_helpers import service_session
from tests.server.sync_fixtures import Catalog, seed_catalog
from tests.terminal.sync.faults import Killed
from tests.terminal.sync.invariants import assert_converged
from tests.terminal.sync.server_harness import ServerHarness
from tests.terminal.sync.till import Till

STOCK = 50


@pytest.fixture
def catalog(server: ServerHarness) -> Catalog:
    return seed_catalog(server.url, server.world.a.store_id, variants=4, stock=STOCK)


@pytest.fixture
def till(server: ServerHarness, catalog: Catalog, tmp_path: Path) -> Till:
    till = Till(server, server.world.a, tmp_path / "till1.db")
    yield till
    till.close()


def _synced(till: Till) -> None:
    status = till.engine.sync_once()
    assert status.last_error is None, status.last_error
    assert status.online is True and status.pending == 0


def _reprice(server: ServerHarness, catalog: Catalog, bump: str) -> None:
    """A manager changes every price on the server (change-log entries for the pull)."""
    with service_session(server.url, catalog.store_id) as db:
        for variant in db.scalars(select(Variant).where(Variant.id.in_(catalog.variant_ids))):
            variant.price = variant.price + Decimal(bump)
            catalog.prices[variant.id] = variant.price
        db.commit()


def _check(server: ServerHarness, *tills: Till, quiet: bool = True,
           stock: int = STOCK) -> None:
    assert_converged(server.url, tills, initial_stock=stock, quiet=quiet)


def test_first_start_bootstraps_then_sales_sync_exactly_once(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    seen: list[BootstrapProgress] = []
    till.engine.bootstrap(seen.append)
    assert seen[-1].done and seen[-1].selling_ready
    first_ready = next(i for i, p in enumerate(seen) if p.selling_ready)
    assert seen[first_ready].entity_type == proto.SNAPSHOT_SELLING[-1]
    assert not any(p.done for p in seen[:-1])
    till.open_drawer()
    for _ in range(3):
        till.sell(catalog)
    statuses: list[int] = []
    till.engine.add_listener(lambda s: statuses.append(s.pending))
    _synced(till)
    assert statuses == [0]
    _check(server, till)


def test_drops_lost_responses_and_duplicates_during_push(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    for _ in range(5):
        till.sell(catalog)
    faults = server.transport
    faults.add("drop_request", "POST", "/sync/push")
    faults.add("drop_response", "POST", "/sync/push")  # the server committed (F2)
    faults.add("duplicate", "POST", "/sync/push")  # and receives it twice more (F4)
    _synced(till)
    outcomes = [c.outcome for c in faults.calls("/sync/push")]
    assert outcomes[-3:] == ["drop_request", "drop_response", "duplicate"]
    assert set(till.outbox_statuses().values()) == {"applied"}  # duplicates keep "applied"
    _check(server, till)


def test_a_response_lost_after_commit_then_offline_is_resolved_by_the_retry(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    sale = till.sell(catalog)
    server.transport.add("drop_response", "POST", "/sync/push", times=5)
    status = till.engine.sync_once()
    assert status.online is False and status.pending == 2
    assert "POST http://testserver/api/v1/sync/push" in (status.last_error or "")
    assert server.scalar('SELECT count(*) FROM "order" WHERE id = :i', i=sale.order_id) == 1
    with till.db.read() as conn:
        assert {e.attempts for e in outbox.next_batch(conn)} == {1}
    _synced(till)
    _check(server, till)


def test_network_drop_mid_pull_keeps_data_and_cursor_together(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.engine.pull_limit = 1
    with till.db.read() as conn:
        before = sync_state.get_state(conn).cursor
    _reprice(server, catalog, "1.00")
    server.transport.add("status", "GET", "/sync/pull", skip=2, times=50, status=503)
    status = till.engine.sync_once()
    assert status.online is False
    with till.db.read() as conn:
        cursor = sync_state.get_state(conn).cursor
    assert cursor is not None and before is not None
    assert proto.decode_cursor(cursor)[1] > proto.decode_cursor(before)[1]
    changed = [v for v in till.cached("variant").values()
               if Decimal(v["price"]) == catalog.prices[v["id"]]]
    assert len(changed) == 2  # the two pages stored, each with its cursor
    server.transport.clear()
    _synced(till)
    _check(server, till)


def test_a_crash_while_applying_a_pull_page_moves_neither_data_nor_cursor(
        server: ServerHarness, catalog: Catalog, till: Till,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _synced(till)
    with till.db.read() as conn:
        before = sync_state.get_state(conn).cursor
    cached = till.cached("variant")
    _reprice(server, catalog, "1.00")

    def apply_then_die(conn: object, changes: object) -> None:
        real_apply(conn, changes)
        raise Killed("killed while applying a pull page")

    real_apply = engine_module.cache_apply.apply_changes
    monkeypatch.setattr(engine_module.cache_apply, "apply_changes", apply_then_die)
    with pytest.raises(Killed):
        till.engine.pull()
    monkeypatch.undo()
    resumed = till.reopen()
    with resumed.db.read() as conn:
        assert sync_state.get_state(conn).cursor == before
    assert resumed.cached("variant") == cached
    _synced(resumed)
    _check(server, resumed)
    resumed.close()


def test_server_restart_between_commit_and_answer(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    till.sell(catalog)
    server.transport.add("drop_response", "POST", "/sync/push", times=5)
    assert till.engine.sync_once().online is False
    server.restart()
    till.sell(catalog)
    _synced(till)
    _check(server, till)


def test_a_skewed_device_clock_is_measured_and_decides_nothing(
        server: ServerHarness, catalog: Catalog, tmp_path: Path) -> None:
    skew = timedelta(days=365)
    device_now = [server.clock.now + skew]
    till = Till(server, server.world.a, tmp_path / "skewed.db", now=lambda: device_now[0])
    _synced(till)
    assert till.engine.status().clock_offset_seconds == -skew.total_seconds()
    till.open_drawer()
    first = till.sell(catalog)
    device_now[0] = server.clock.now - timedelta(days=2)  # the clock jumps backwards
    second = till.sell(catalog)
    _synced(till)
    assert till.engine.status().clock_offset_seconds == timedelta(days=2).total_seconds()
    order = server.rows("SELECT op_id, device_seq FROM push_inbox WHERE device_id = :d "
                        "ORDER BY server_seq, device_seq",
                        d=till.client.credential.device_id)  # type: ignore[union-attr]
    assert [seq for _, seq in order] == [1, 2, 3]
    assert first.completed_at > second.completed_at  # the till's times, kept as recorded
    _check(server, till)
    till.close()


def test_a_revoked_device_stops_syncing_and_keeps_its_outbox(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    till.sell(catalog)
    server.revoke(server.world.a, till.client.credential.device_id)  # type: ignore[union-attr]
    status = till.engine.sync_once()
    assert status.revoked and status.pending == 2
    assert "revoked" in (status.last_error or "") or "no longer accepts" in (
        status.last_error or "")
    sent = len(server.transport.sent)
    till.sell(catalog)
    assert till.engine.sync_once().pending == 3
    assert len(server.transport.sent) == sent  # no more requests once revoked
    assert len(till.sales()) == 2
    _check(server, till, quiet=False)  # the refused ops wait, and none of them is half there


def test_an_expired_cursor_resyncs_the_cache_and_keeps_the_ledger(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    till.sell(catalog)
    _synced(till)
    _reprice(server, catalog, "0.50")
    head = server.scalar("SELECT last_seq FROM store_sync_state WHERE store_id = :s",
                         s=catalog.store_id)
    _compact(server, catalog.store_id, head)
    till.sell(catalog)  # recorded while the cache is stale: pushed before the resync
    before = till.outbox_statuses()
    _synced(till)
    gets = [c.params.get("entity_type") for c in server.transport.calls("/sync/snapshot")]
    assert gets.count("store") == 2  # bootstrapped twice: first start and the resync
    assert set(before) == set(till.outbox_statuses())
    assert len(till.sales()) == 2
    _check(server, till)


def test_a_resync_sells_from_the_cache_it_has_and_drops_what_the_server_deleted(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    gone, kept = catalog.variant_ids[-1], catalog.variant_ids[0]
    with service_session(server.url, catalog.store_id) as db:
        db.get(Variant, gone).deleted_at = utcnow()  # type: ignore[union-attr]
        db.commit()
    _reprice(server, catalog, "0.25")
    head = server.scalar("SELECT last_seq FROM store_sync_state WHERE store_id = :s",
                         s=catalog.store_id)
    _compact(server, catalog.store_id, head)  # the till must resync
    # The network goes after the resync's second snapshot page.
    server.transport.add("drop_request", "GET", "/sync/snapshot", skip=2, times=1_000)
    assert till.engine.sync_once().last_error is not None

    def cached(t: Till) -> set[str]:
        with t.db.read() as conn:
            return set(conn.exec_driver_sql("SELECT id FROM cache_variant").scalars())

    with till.db.read() as conn:
        state = sync_state.get_state(conn)
    assert state.selling_ready and not state.bootstrap_done  # the till still sells...
    assert cached(till) == set(catalog.variant_ids)  # ...from the rows it had
    till.open_drawer()
    till.sell(catalog, lines=[(kept, 1)])
    resumed = till.reopen()  # a restart in the middle carries on with the reload
    server.transport.clear()
    _synced(resumed)
    assert cached(resumed) == set(catalog.variant_ids) - {gone}
    with resumed.db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM cache_seen").scalar() == 0
    assert len(resumed.sales()) == 1
    _check(server, resumed)
    resumed.close()


def _compact(server: ServerHarness, store_id: str, head: int) -> None:
    """The change log is compacted up to its head: older cursors get 410."""
    engine = make_engine(server.url)
    with engine.begin() as conn:
        conn.execute(update(StoreSyncState).where(StoreSyncState.store_id == store_id)
                     .values(compacted_below_seq=head))
    engine.dispose()


def test_a_poison_operation_is_quarantined_visible_and_the_queue_moves_on(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    _synced(till)
    till.open_drawer()
    till.sell(catalog)
    poison = till.sell(catalog, unknown_variant=True)
    till.sell(catalog)
    status = till.engine.sync_once()
    assert status.last_error is None
    assert (status.pending, status.quarantined) == (0, 1)
    with till.db.read() as conn:
        problems = outbox.problem_entries(conn)
    assert [p.payload["order_id"] for p in problems] == [poison.order_id]
    assert problems[0].error_code == "unknown_variant"
    assert server.scalar('SELECT count(*) FROM "order" WHERE id = :i', i=poison.order_id) == 0
    good = [s for s in till.sales() if s.order_id != poison.order_id]
    assert len(good) == 2
    for sale in good:
        assert server.scalar('SELECT count(*) FROM "order" WHERE id = :i', i=sale.order_id) == 1
    _synced(till)  # it stays quarantined: never resent, never dropped
    assert till.engine.status().quarantined == 1
    _check(server, till)


def test_a_bootstrap_killed_half_way_resumes_where_it_stopped(
        server: ServerHarness, tmp_path: Path) -> None:
    catalog = seed_catalog(server.url, server.world.a.store_id, variants=25)
    till = Till(server, server.world.a, tmp_path / "till.db", snapshot_limit=10)
    server.transport.add("kill", "GET", "/sync/snapshot", skip=4)  # product page 2
    with pytest.raises(Killed):
        till.engine.bootstrap()
    with till.db.read() as conn:
        saved = sync_state.get_state(conn)
    assert (saved.snapshot_entity, saved.bootstrap_done) == ("product", False)
    assert saved.snapshot_after is not None and saved.snapshot_loaded_rows == 13
    resumed = till.reopen()
    before = len(server.transport.sent)
    seen: list[BootstrapProgress] = []
    resumed.engine.bootstrap(seen.append)
    first = next(s for s in server.transport.sent[before:] if "/sync/snapshot" in s.path)
    assert first.params["entity_type"] == "product"
    assert first.params["after"] == saved.snapshot_after
    assert first.params["as_of"] == str(saved.snapshot_as_of)
    assert seen[-1].done and seen[-1].loaded_rows > saved.snapshot_loaded_rows
    _synced(resumed)
    assert len(catalog.variant_ids) == 25
    _check(server, resumed, stock=10)
    resumed.close()


def test_a_server_restored_from_backup_gets_the_lost_sales_again(
        server: ServerHarness, catalog: Catalog, till: Till, tmp_path: Path) -> None:
    _synced(till)
    till.open_drawer()
    till.sell(catalog)
    _synced(till)
    backup = tmp_path / "server-backup.db"
    server.backup(backup)
    lost = [till.sell(catalog), till.sell(catalog)]
    _synced(till)
    server.restore(backup, new_epoch=True)
    for sale in lost:
        assert server.scalar('SELECT count(*) FROM "order" WHERE id = :i', i=sale.order_id) == 0
    till.sell(catalog)
    _synced(till)
    _check(server, till)


def test_a_server_restored_with_the_same_epoch_is_caught_by_the_pull(
        server: ServerHarness, catalog: Catalog, till: Till, tmp_path: Path) -> None:
    _synced(till)
    till.open_drawer()
    _synced(till)
    backup = tmp_path / "server-backup.db"
    server.backup(backup)
    till.sell(catalog)
    _reprice(server, catalog, "2.00")
    _synced(till)
    server.restore(backup, new_epoch=False)
    _synced(till)  # nothing pending: the 410 (cursor ahead) finds the lost sale
    _check(server, till)


def test_enrolment_through_the_engine_records_the_device_and_guards_its_sequence(
        server: ServerHarness, catalog: Catalog, tmp_path: Path) -> None:
    till = Till(server, server.world.a, tmp_path / "paired.db", enrol=False)
    credentials = MemoryCredentialStore()
    enrolment = till.engine.enrol(server.pairing_code(server.world.a, "Till 9"), credentials)
    with till.db.read() as conn:
        state = sync_state.get_state(conn)
    assert (state.device_id, state.store_id) == (enrolment.device_id, enrolment.store_id)
    assert credentials.load() == till.client.credential
    _synced(till)
    till.open_drawer()
    with pytest.raises(SyncError, match="re-pairing code"):
        till.engine.enrol(server.pairing_code(server.world.a, "Other till"),
                          MemoryCredentialStore())
    assert till.client.credential is None
    till.client.set_credential(credentials.load())
    _synced(till)
    _check(server, till)
    till.close()

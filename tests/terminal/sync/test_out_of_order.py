"""Out-of-order commits on the server (sync-anchors §3.2 F12), seen from a real till: two server
transactions write in one order and commit in the other while the till pulls in between; the
till's cache ends with both changes, nothing skipped, and every invariant holds.

PostgreSQL only: SQLite serialises writers, so the second transaction cannot write while the
first is open and the interleaving cannot happen there (sync-anchors §3.3). The server side of
the same scenario is tests/server/test_sync_concurrency.py; its helpers are reused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.sync import changes
from stormcom_pos.local_db import sync_state
from tests.conftest import postgresql_only
from tests.server.sync_fixtures import Catalog, seed_catalog
from tests.server.test_sync_concurrency import _rename, _wait_until_blocked
from tests.terminal.sync.invariants import assert_converged
from tests.terminal.sync.server_harness import ServerHarness
from tests.terminal.sync.till import Till

pytestmark = [pytest.mark.postgres, postgresql_only]

STOCK = 10


@pytest.fixture
def catalog(server: ServerHarness) -> Catalog:
    return seed_catalog(server.url, server.world.a.store_id, variants=2, stock=STOCK)


@pytest.fixture
def till(server: ServerHarness, catalog: Catalog, tmp_path: Path) -> Iterator[Till]:
    till = Till(server, server.world.a, tmp_path / "till.db")
    _synced(till)
    yield till
    till.close()


def _synced(till: Till) -> None:
    status = till.engine.sync_once()
    assert status.last_error is None and status.pending == 0, status.last_error


def _names(till: Till, catalog: Catalog) -> list[str]:
    cached = till.cached("product")
    return [cached[p]["name"] for p in catalog.product_ids]


def test_a_transaction_committing_after_a_later_one_is_not_skipped_by_the_till(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    store, (first, second) = catalog.store_id, catalog.product_ids
    before = _names(till, catalog)
    t1, t1_updated = _rename(server.app, store, first, "Late")  # writes first...
    t2, t2_updated = _rename(server.app, store, second, "Early")
    t2.commit()  # ...commits last
    _synced(till)
    assert _names(till, catalog) == [before[0], "Early"]  # T1 is not visible yet
    t1.commit()
    _synced(till)
    assert _names(till, catalog) == ["Late", "Early"]  # and is not skipped once it commits
    assert t1_updated < t2_updated  # an updated_at cursor would have passed T1 for good
    t1.close()
    t2.close()
    assert_converged(server.url, [till], initial_stock=STOCK)


def test_a_till_pulling_while_a_change_seq_is_held_sees_both_changes_in_order(
        server: ServerHarness, catalog: Catalog, till: Till) -> None:
    store, (first, second) = catalog.store_id, catalog.product_ids
    till.open_drawer()
    till.sell(catalog, [(catalog.variant_ids[0], 1)])
    _synced(till)  # (a push now would wait for T1's seq like T2: it sequences its changes)
    t1, _ = _rename(server.app, store, first, "Held")
    held_seq = changes.allocate(t1)[store]  # T1 takes its change seq and keeps it open
    t2, _ = _rename(server.app, store, second, "Waiting")
    committed = threading.Event()

    def commit_t2() -> None:
        t2.commit()
        committed.set()

    thread = threading.Thread(target=commit_t2)
    thread.start()
    _wait_until_blocked(server.app, thread)
    assert not committed.is_set()  # T2 queues behind T1's seq: it cannot commit past it
    with till.db.read() as conn:
        cursor = sync_state.get_state(conn).cursor
    _synced(till)  # the pull in between sees neither rename, and its cursor stays put
    with till.db.read() as conn:
        assert sync_state.get_state(conn).cursor == cursor
    assert "Held" not in _names(till, catalog) and "Waiting" not in _names(till, catalog)
    t1.commit()
    thread.join(30)
    assert committed.is_set()
    _synced(till)
    assert _names(till, catalog) == ["Held", "Waiting"]
    seqs = server.rows("SELECT entity_id, seq FROM change_log WHERE entity_type = 'product' "
                       "AND seq >= :s ORDER BY seq", s=held_seq)
    assert [e for e, _ in seqs][:2] == [first, second]  # T1's seq first, as committed
    t1.close()
    t2.close()
    assert_converged(server.url, [till], initial_stock=STOCK)

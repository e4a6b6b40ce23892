"""Snapshot: resumable keyset pages as of one seq, then the pull converges (F14, F15)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.catalog.models import Variant
from server.clock import FakeClock
from server.sync import feed_service
from stormcom_pos.domain import sync_protocol as proto
from tests.server import sync_fixtures
from tests.server.conftest import World
from tests.server.security_helpers import service_session
from tests.server.sync_fixtures import (
    PULL,
    SNAPSHOT,
    Terminal,
    seed_catalog,
)

# Fixtures shared by the sync tests (tests/server/sync_fixtures.py).
sync_db = sync_fixtures.sync_db
terminal_a = sync_fixtures.terminal_a


def _page(client: TestClient, terminal: Terminal, **params: Any) -> dict[str, Any]:
    r = client.get(SNAPSHOT, headers=terminal.headers, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["X-Server-Time"]
    return dict(r.json())


def _snapshot(client: TestClient, terminal: Terminal, entity_type: str,
              limit: int = 1000) -> tuple[dict[str, dict[str, Any]], int]:
    rows: dict[str, dict[str, Any]] = {}
    after, as_of = None, None
    while True:
        params: dict[str, Any] = {"entity_type": entity_type, "limit": limit}
        if after:
            params["after"] = after
        if as_of is not None:
            params["as_of"] = as_of
        page = _page(client, terminal, **params)
        as_of = page["as_of_seq"]
        rows.update({r["id"]: r for r in page["rows"]})
        after = page["next_after"]
        if after is None:
            assert as_of is not None
            return rows, as_of


def test_a_bootstrap_interrupted_by_writes_converges_after_the_pull(
    app: FastAPI, client: TestClient, world: World, terminal_a: Terminal, sync_db: str,
    clock: FakeClock,
) -> None:
    catalog = seed_catalog(sync_db, world.a.store_id, variants=25)
    first = _page(client, terminal_a, entity_type="variant", limit=10)
    assert len(first["rows"]) == 10 and first["next_after"] == first["rows"][-1]["id"]
    ids = [r["id"] for r in first["rows"]]
    assert ids == sorted(ids)
    as_of = first["as_of_seq"]
    cache = {r["id"]: r for r in first["rows"]}

    # Writes land while the terminal is between pages (and it even restarts: it resumes with
    # `after`, not from zero).
    with service_session(sync_db, world.a.store_id) as db:
        db.get(Variant, ids[0]).price = Decimal("99.00")  # type: ignore[union-attr]
        db.get(Variant, ids[-1]).deleted_at = clock.now  # type: ignore[union-attr]
        last = max(catalog.variant_ids)
        db.get(Variant, last).price = Decimal("55.00")  # type: ignore[union-attr]
        db.commit()
    after = first["next_after"]
    while after:
        page = _page(client, terminal_a, entity_type="variant", limit=10, after=after,
                     as_of=as_of)
        assert page["as_of_seq"] == as_of
        cache.update({r["id"]: r for r in page["rows"]})
        after = page["next_after"]
    cursor = proto.encode_cursor(first["server_epoch"], as_of)
    r = client.get(PULL, headers=terminal_a.headers, params={"cursor": cursor})
    for change in r.json()["changes"]:
        if change["entity_type"] != "variant":
            continue
        if change["op"] == "delete":
            cache.pop(change["id"], None)
        else:
            cache[change["id"]] = change["data"]
    server, _ = _snapshot(client, terminal_a, "variant")
    assert cache == server
    assert server[ids[0]]["price"] == "99.00" and ids[-1] not in server
    assert server[last]["price"] == "55.00"


def test_every_mirrored_type_snapshots_and_only_this_stores_rows(
    client: TestClient, world: World, terminal_a: Terminal, sync_db: str
) -> None:
    seed_catalog(sync_db, world.a.store_id)
    seed_catalog(sync_db, world.b.store_id)
    for entity_type in (*proto.SNAPSHOT_SELLING, *proto.SNAPSHOT_LATER):
        rows, _ = _snapshot(client, terminal_a, entity_type)
        if entity_type == "store":
            assert list(rows) == [world.a.store_id]
        elif entity_type == "staff":
            assert set(rows) == set(world.a.users.values())
        else:
            assert all(r.get("store_id") == world.a.store_id for r in rows.values())
        if entity_type in ("variant", "product", "tax_rate", "category", "customer"):
            assert rows, entity_type
    r = client.get(SNAPSHOT, headers=terminal_a.headers, params={"entity_type": "order"})
    assert r.status_code == 422


def test_an_as_of_below_the_compaction_horizon_restarts_the_snapshot(
    client: TestClient, world: World, terminal_a: Terminal, sync_db: str, clock: FakeClock
) -> None:
    catalog = seed_catalog(sync_db, world.a.store_id)
    first = _page(client, terminal_a, entity_type="variant", limit=1)
    with service_session(sync_db, world.a.store_id) as db:
        db.get(Variant, catalog.variant_ids[0]).price = Decimal("3.33")  # type: ignore
        db.commit()
        feed_service.compact(db, store_id=world.a.store_id, now=clock.now + timedelta(days=60))
        db.commit()
    r = client.get(SNAPSHOT, headers=terminal_a.headers, params={
        "entity_type": "variant", "after": first["next_after"], "as_of": first["as_of_seq"]})
    assert r.status_code == 410 and r.json()["code"] == "resync_required"
    assert r.headers["X-Server-Time"] == clock.now.isoformat()

"""Change capture and the pull feed: what is logged, tombstones, paging, scoping, 410s and
compaction."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, insert, select, update

from server.catalog.models import Product, ProductStatus, Variant
from server.clock import FakeClock
from server.customers.models import Address, Customer
from server.db.base import new_id
from server.identity.models import User
from server.pos.models import Device
from server.sync import changes, feed_service
from server.sync.models import ChangeLog, StoreSyncState
from stormcom_pos.domain import sync_protocol as proto
from tests.server import sync_fixtures
from tests.server.conftest import PASSWORD, World, db_session, login
from tests.server.security_helpers import service_session
from tests.server.sync_fixtures import (
    PULL,
    Catalog,
    Terminal,
    drawer_open,
    push,
    sale,
)

# Fixtures shared by the sync tests (tests/server/sync_fixtures.py).
catalog_a = sync_fixtures.catalog_a
catalog_b = sync_fixtures.catalog_b
sync_db = sync_fixtures.sync_db
terminal_a = sync_fixtures.terminal_a
terminal_b = sync_fixtures.terminal_b


def _log(app: FastAPI, store_id: str, after: int = 0) -> list[tuple[str, str, str]]:
    with db_session(app) as db:
        rows = db.execute(select(ChangeLog.entity_type, ChangeLog.entity_id, ChangeLog.op)
                          .where(ChangeLog.store_id == store_id, ChangeLog.seq > after)
                          .order_by(ChangeLog.seq)).all()
        return [(t, i, op.value) for t, i, op in rows]


def _head(app: FastAPI, store_id: str) -> int:
    with db_session(app) as db:
        return int(db.scalar(select(StoreSyncState.last_seq)
                             .where(StoreSyncState.store_id == store_id)) or 0)


def _pull_all(client: TestClient, terminal: Terminal, cursor: str | None = None,
              limit: int = 500) -> tuple[list[dict[str, Any]], str]:
    out: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        r = client.get(PULL, headers=terminal.headers, params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["changes"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return out, cursor


def test_every_kind_of_write_to_a_mirrored_entity_is_logged(
    app: FastAPI, world: World, catalog_a: Catalog, sync_db: str
) -> None:
    store = world.a.store_id
    start = _head(app, store)
    pid, vid = catalog_a.product_ids[0], catalog_a.variant_ids[0]
    with service_session(sync_db, store) as db:
        db.get(Variant, vid).price = Decimal("9.99")  # type: ignore[union-attr]
        db.commit()
        db.execute(update(Variant).where(Variant.id == catalog_a.variant_ids[1])
                   .values(stock_quantity=Variant.stock_quantity - 1))  # bulk, ORM
        level = db.execute(update(Variant).where(Variant.id == catalog_a.variant_ids[2])
                           .values(stock_quantity=Variant.stock_quantity - 1)
                           .returning(Variant.stock_quantity)
                           .execution_options(synchronize_session=False)).scalar_one()
        assert level == 9  # the caller's RETURNING is intact
        db.commit()
        product = db.get(Product, pid)
        assert product is not None
        product.deleted_at = product.created_at  # soft delete
        db.commit()
        new_pid = new_id()
        db.execute(insert(Product), [{"id": new_pid, "store_id": store, "name": "Bulk",
                                            "slug": "bulk-1"}])
        db.commit()
        db.execute(delete(Product).where(Product.id == new_pid))  # bulk hard delete
        db.commit()
        customer = db.get(Customer, catalog_a.customer_id)
        db.add(Address(customer_id=catalog_a.customer_id, first_name="A", address1="1 Road",
                       city="X", postal_code="1", country="US"))
        db.commit()
        db.delete(customer)  # hard delete: its addresses go by cascade, with tombstones
        db.commit()
    log = _log(app, store, start)
    assert log[0] == ("variant", vid, "UPSERT")
    assert log[1] == ("variant", catalog_a.variant_ids[1], "UPSERT")
    assert log[2] == ("variant", catalog_a.variant_ids[2], "UPSERT")
    assert log[3] == ("product", pid, "DELETE")
    assert log[4] == ("product", new_pid, "UPSERT") and log[5] == ("product", new_pid, "DELETE")
    assert log[6][0] == "address" and log[6][2] == "UPSERT"
    assert ("address", log[6][1], "DELETE") in log[7:]
    assert log[-1] == ("customer", catalog_a.customer_id, "DELETE")
    with db_session(app) as db:
        seqs = db.scalars(select(ChangeLog.seq).where(ChangeLog.store_id == store)
                          .order_by(ChangeLog.seq)).all()
    assert list(seqs) == list(range(1, len(seqs) + 1))  # gap-free, one per change


def test_non_mirrored_writes_savepoint_rollbacks_and_rollbacks_log_nothing(
    app: FastAPI, world: World, catalog_a: Catalog, sync_db: str, clock: FakeClock
) -> None:
    store = world.a.store_id
    start = _head(app, store)
    with service_session(sync_db, store) as db:
        db.add(Device(name="x", terminal_number=99))  # not mirrored
        try:
            with db.begin_nested():
                db.get(Variant, catalog_a.variant_ids[0]).price = Decimal("1")  # type: ignore
                db.flush()
                raise RuntimeError
        except RuntimeError:
            pass
        db.get(Variant, catalog_a.variant_ids[1]).price = Decimal("2")  # type: ignore[union-attr]
        db.commit()
        db.get(Variant, catalog_a.variant_ids[2]).price = Decimal("3")  # type: ignore[union-attr]
        db.flush()
        db.rollback()
        db.get(Variant, catalog_a.variant_ids[2]).sku = db.get(  # type: ignore[union-attr]
            Variant, catalog_a.variant_ids[2]).sku  # no real change
        db.commit()
    assert _log(app, store, start) == [("variant", catalog_a.variant_ids[1], "UPSERT")]


def test_staff_changes_fan_out_to_the_users_stores_and_logins_are_not_changes(
    app: FastAPI, client: TestClient, world: World, sync_db: str
) -> None:
    head_a, head_b = _head(app, world.a.store_id), _head(app, world.b.store_id)
    login(client, world.a.emails["cashier"], PASSWORD)  # last login, failures: bookkeeping
    assert _log(app, world.a.store_id, head_a) == []
    with service_session(sync_db) as db:
        db.get(User, world.a.users["cashier"]).name = "Renamed"  # type: ignore[union-attr]
        db.commit()
    assert _log(app, world.a.store_id, head_a) == [
        ("staff", world.a.users["cashier"], "UPSERT")]
    assert _log(app, world.b.store_id, head_b) == []


def test_pull_pages_in_commit_order_with_current_rows_and_tombstones(
    app: FastAPI, client: TestClient, world: World, terminal_a: Terminal, terminal_b: Terminal,
    catalog_a: Catalog, catalog_b: Catalog, sync_db: str, clock: FakeClock,
) -> None:
    changes_a, cursor = _pull_all(client, terminal_a, limit=3)
    types = {c["entity_type"] for c in changes_a}
    assert {"store", "tax_rate", "category", "product", "variant", "customer", "staff",
            "user_store"} <= types
    seqs = [c["seq"] for c in changes_a]
    assert seqs == sorted(seqs)
    variant = next(c for c in changes_a if c["id"] == catalog_a.variant_ids[0])
    assert variant["op"] == "upsert" and variant["data"]["price"] == "2.50"
    assert variant["data"]["stock_quantity"] == 10
    customer = next(c for c in changes_a if c["entity_type"] == "customer")
    assert "password" not in customer["data"]
    staff = next(c for c in changes_a if c["entity_type"] == "staff")
    assert {"pos_pin_hash", "permissions", "role", "is_active"} <= set(staff["data"])
    assert "password" not in staff["data"] and "mfa_secret" not in staff["data"]
    # Tenancy: nothing of B in A's feed, nothing of A in B's.
    ids_a = {c["id"] for c in changes_a}
    assert not ids_a & set(catalog_b.variant_ids + [world.b.store_id, catalog_b.customer_id])
    changes_b, _ = _pull_all(client, terminal_b)
    assert not {c["id"] for c in changes_b} & set(catalog_a.variant_ids + [world.a.store_id])

    # A sale here moves stock; a product is archived; both come through the next pull.
    sid, opened = drawer_open(terminal_a, clock.now)
    _, sold = sale(terminal_a, catalog_a, sid, clock.now)
    push(client, terminal_a, [opened, sold])
    with service_session(sync_db, world.a.store_id) as db:
        product = db.get(Product, catalog_a.product_ids[2])
        assert product is not None
        product.status = ProductStatus.ARCHIVED
        product.deleted_at = clock.now
        db.commit()
    more, cursor = _pull_all(client, terminal_a, cursor)
    by_id = {c["id"]: c for c in more}
    assert [by_id[v]["data"]["stock_quantity"] for v in catalog_a.variant_ids] == [9, 9, 9]
    assert by_id[catalog_a.product_ids[2]]["op"] == "delete"
    assert by_id[catalog_a.product_ids[2]]["data"] is None
    assert len(more) == len(by_id)  # one change per entity in a page
    # Caught up: an empty page, same cursor; the device's confirmed position is stored.
    r = client.get(PULL, headers=terminal_a.headers, params={"cursor": cursor}).json()
    assert r["changes"] == [] and r["next_cursor"] == cursor and not r["has_more"]
    with db_session(app) as db:
        device = db.get(Device, terminal_a.device_id)
        assert device is not None and device.last_pulled_cursor == proto.decode_cursor(cursor)[1]


def test_a_cursor_from_another_epoch_ahead_or_below_the_horizon_must_resync(
    app: FastAPI, client: TestClient, world: World, terminal_a: Terminal, catalog_a: Catalog,
    sync_db: str, clock: FakeClock, auth: Any,
) -> None:
    _, cursor = _pull_all(client, terminal_a)
    epoch, seq = proto.decode_cursor(cursor)
    for bad in (proto.encode_cursor("another-epoch", seq), proto.encode_cursor(epoch, seq + 50)):
        r = client.get(PULL, headers=terminal_a.headers, params={"cursor": bad})
        assert r.status_code == 410 and r.json()["code"] == "resync_required", r.text
    assert client.get(PULL, headers=terminal_a.headers,
                      params={"cursor": "eyJ4IjoxfQ"}).json()["code"] == "bad_cursor"
    assert client.get(PULL, headers=auth("a", "owner")).status_code == 403  # terminals only

    old = proto.encode_cursor(epoch, 2)
    with service_session(sync_db, world.a.store_id) as db:
        for v in catalog_a.variant_ids:
            db.get(Variant, v).price = Decimal("7.00")  # type: ignore[union-attr]
        db.commit()
        result = feed_service.compact(db, store_id=world.a.store_id,
                                      now=clock.now + timedelta(days=31), below_seq=seq)
        db.commit()
    assert result.horizon == seq and result.superseded + result.dropped == seq - 1
    r = client.get(PULL, headers=terminal_a.headers, params={"cursor": old})
    assert r.status_code == 410 and r.json()["compacted_below_seq"] == seq
    r = client.get(PULL, headers=terminal_a.headers, params={"cursor": cursor})
    assert r.status_code == 200
    assert {c["id"] for c in r.json()["changes"]} == set(catalog_a.variant_ids)


def test_compaction_keeps_what_active_terminals_still_need(
    app: FastAPI, client: TestClient, world: World, terminal_a: Terminal, catalog_a: Catalog,
    sync_db: str, clock: FakeClock,
) -> None:
    store = world.a.store_id
    with service_session(sync_db, store) as db:
        product = db.get(Product, catalog_a.product_ids[0])
        assert product is not None
        product.deleted_at = clock.now  # a tombstone
        db.commit()
    _, cursor = _pull_all(client, terminal_a)
    confirmed = proto.decode_cursor(cursor)[1]
    client.get(PULL, headers=terminal_a.headers, params={"cursor": cursor})  # confirms it
    with service_session(sync_db, store) as db:
        db.get(Variant, catalog_a.variant_ids[0]).price = Decimal("1.11")  # type: ignore
        db.commit()
        # Too young: nothing goes.
        young = feed_service.compact(db, store_id=store, now=clock.now)
        assert young.superseded == young.dropped == 0
        # 40 days on, the terminal still confirmed only `confirmed`: compaction stops there
        # (the terminal was seen within the retention period).
        db.execute(update(Device).where(Device.id == terminal_a.device_id)
                   .values(last_seen_at=clock.now + timedelta(days=39)))
        later = feed_service.compact(db, store_id=store, now=clock.now + timedelta(days=40))
        db.commit()
    assert later.horizon == confirmed + 1  # the till holds `confirmed`, it needs what follows
    assert _log(app, store) == [("variant", catalog_a.variant_ids[0], "UPSERT")]
    with db_session(app) as db:
        left = db.scalar(select(func.min(ChangeLog.seq)).where(ChangeLog.store_id == store))
    assert left == confirmed + 1
    r = client.get(PULL, headers=terminal_a.headers, params={"cursor": cursor})
    assert [c["id"] for c in r.json()["changes"]] == [catalog_a.variant_ids[0]]


def test_changes_recorded_explicitly_join_the_transaction(
    app: FastAPI, world: World, catalog_a: Catalog, sync_db: str
) -> None:
    start = _head(app, world.a.store_id)
    with service_session(sync_db, world.a.store_id) as db:
        changes.record(db, store_id=world.a.store_id, entity_type="variant",
                       entity_id=catalog_a.variant_ids[0])
        allocated = changes.allocate(db)
        db.commit()
    assert allocated == {world.a.store_id: start + 1}
    assert _log(app, world.a.store_id, start) == [("variant", catalog_a.variant_ids[0], "UPSERT")]

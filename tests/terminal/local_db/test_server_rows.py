"""The real server's wire rows (``server/sync/mirror.py``) from the seeded demo store, loaded
into a till's cache: every variant is found as the till will look for it, at the server's
price, and taxes, coupons and staff read back as the shared rules want them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.catalog.models import Product, Variant
from server.db import migrate
from server.db.engine import make_engine
from server.seed.demo import seed_demo
from server.stores.models import Store
from server.sync import mirror
from stormcom_pos.domain.sync_protocol import SNAPSHOT_LATER, SNAPSHOT_SELLING
from stormcom_pos.local_db import cache_apply, catalog_repo
from stormcom_pos.local_db.database import LocalDb


@pytest.fixture(scope="module")
def server_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('server') / 'server.db'}")
    migrate.upgrade(engine)
    seed_demo(engine)
    yield engine
    engine.dispose()


def test_demo_store_rows_load_into_the_till_cache(server_engine: Engine, tmp_path: Path) -> None:
    with Session(server_engine) as session:
        store = session.scalars(select(Store).where(Store.slug == "demo")).one()
        variants = session.execute(
            select(Variant, Product).join(Product, Product.id == Variant.product_id)
            .where(Variant.store_id == store.id, Variant.deleted_at.is_(None))).all()
    db = LocalDb(tmp_path / "till.db").open()
    try:
        with server_engine.connect() as server_conn, db.write() as conn:
            for entity_type in (*SNAPSHOT_SELLING, *SNAPSHOT_LATER):
                rows = mirror.page_rows(server_conn, store.id, entity_type, None, 5000)
                cache_apply.load_snapshot_rows(conn, entity_type, rows)
        with db.read() as conn:
            for variant, product in variants:
                if variant.barcode:
                    hit = catalog_repo.by_barcode(conn, variant.barcode)
                else:
                    hit = catalog_repo.by_plu(conn, variant.attributes["plu"])
                assert hit is not None, variant.sku
                assert (hit.variant_id, hit.price, hit.taxable, hit.tax_rate_id) == (
                    variant.id, variant.price, product.is_taxable, product.tax_rate_id)
                assert hit.weighed == (variant.barcode is None)
                assert hit.stock_on_hand == Decimal(variant.stock_quantity)
                assert catalog_repo.by_sku(conn, variant.sku) == hit
            assert len(catalog_repo.tax_rates(conn)) == 3
            welcome = catalog_repo.coupon_by_code(conn, "welcome10")
            assert welcome is not None and welcome.code == "WELCOME10"
            staff = catalog_repo.staff_members(conn)
            assert len(staff) == 3 and all(m.active and m.pos_pin_hash for m in staff)
            assert catalog_repo.store(conn)["id"] == store.id
            keys = catalog_repo.quick_keys(conn)
            assert keys and all(hits for _, _, hits in keys)
            first_word = variants[0][1].name.split()[0]
            assert any(h.product_id == variants[0][1].id
                       for h in catalog_repo.search(conn, first_word, limit=100))
    finally:
        db.close()

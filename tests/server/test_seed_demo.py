"""``seed-demo`` builds a realistic store once, on both backends, and refuses a second time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum import ean

from server.catalog.models import Product, Variant
from server.catalog.search_index import search_product_ids
from server.db import migrate
from server.db.engine import make_engine
from server.identity.hashing import hash_token, verify_password
from server.identity.models import Role, User, UserStore
from server.inventory.models import InventoryAdjustment
from server.pos.models import Device
from server.promotions.models import Coupon
from server.seed.demo import SeedRefused, SeedReport, seed_demo
from server.seed.operators import create_store
from server.shipping.models import ShippingZone
from server.stores.models import Store, SubscriptionPlan
from server.tax.models import TaxRate


@pytest.fixture
def engine(db_url: str):  # type: ignore[no-untyped-def]
    eng = make_engine(db_url)
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def test_seed_demo_creates_a_realistic_store(engine) -> None:  # type: ignore[no-untyped-def]
    report = seed_demo(engine)
    assert isinstance(report, SeedReport)
    with Session(engine) as s:
        plans = {p.slug: p for p in s.scalars(select(SubscriptionPlan))}
        assert set(plans) == {"free", "basic", "pro", "enterprise"}
        assert (plans["free"].max_products, plans["free"].max_orders, plans["free"].max_staff) == (
            10,
            50,
            1,
        )
        assert (
            plans["basic"].price,
            plans["basic"].max_products,
            plans["basic"].max_orders,
            plans["basic"].max_staff,
        ) == (Decimal("29.00"), 100, 500, 3)
        assert (plans["pro"].price, plans["pro"].max_products, plans["pro"].max_staff) == (
            Decimal("99.00"),
            1000,
            10,
        )
        assert plans["enterprise"].max_products is None
        assert [p.api_rate_limit for p in sorted(plans.values(), key=lambda p: p.tier)] == [
            60,
            120,
            300,
            1000,
        ]

        roles = {r.name for r in s.scalars(select(Role).where(Role.is_system.is_(True)))}
        assert roles == {"OWNER", "ADMIN", "MANAGER", "CASHIER", "STAFF", "VIEWER"}

        store = s.scalar(select(Store).where(Store.slug == "demo"))
        assert store is not None and store.code == "DEMO"
        staff = s.execute(
            select(User.email, Role.name)
            .join(UserStore, UserStore.user_id == User.id)
            .join(Role, Role.id == UserStore.role_id)
            .where(UserStore.store_id == store.id)
        ).all()
        assert sorted(r for _, r in staff) == ["CASHIER", "MANAGER", "OWNER"]

        # The printed credentials really work (password and PIN).
        for role, email, password, pin in report.credentials:
            user = s.scalar(select(User).where(User.email == email))
            assert user is not None, role
            assert verify_password(password, user.password)
            assert user.pos_pin_hash and verify_password(pin, user.pos_pin_hash)

        products = s.scalar(
            select(func.count()).select_from(Product).where(Product.store_id == store.id)
        )
        assert 50 <= products <= 70
        variants = s.scalars(select(Variant).where(Variant.store_id == store.id)).all()
        assert len(variants) > products  # apparel comes in sizes and colours
        barcodes = [v.barcode for v in variants if v.barcode]
        assert barcodes and all(len(b) == 13 and ean.is_valid(b) for b in barcodes)
        assert len(set(barcodes)) == len(barcodes)
        weighed = [v for v in variants if v.attributes.get("sold_by") == "weight"]
        assert weighed and all(v.barcode is None and not v.track_inventory for v in weighed)

        # Stock projection equals the ledger.
        for v in variants:
            moved = s.scalar(
                select(func.coalesce(func.sum(InventoryAdjustment.quantity_change), 0)).where(
                    InventoryAdjustment.variant_id == v.id
                )
            )
            assert moved == v.stock_quantity, v.sku

        assert (
            s.scalar(select(func.count()).select_from(TaxRate).where(TaxRate.store_id == store.id))
            == 3
        )
        assert (
            s.scalar(
                select(func.count())
                .select_from(ShippingZone)
                .where(ShippingZone.store_id == store.id)
            )
            == 1
        )
        assert s.scalar(select(Coupon.code).where(Coupon.store_id == store.id)) == "WELCOME10"
        # The till taxes counter sales at the store's own address: all three CA rates match it.
        assert store.settings["tax_address"] == {"country": "US", "state": "CA",
                                                 "city": "San Francisco", "postal_code": "94105"}
        device = s.scalar(select(Device).where(Device.store_id == store.id))
        assert device is not None and device.credential_hash is None
        assert device.pairing_code_hash == hash_token(report.pairing_code.replace("-", ""))


def test_second_run_refuses_or_skips(engine) -> None:  # type: ignore[no-untyped-def]
    seed_demo(engine)
    with pytest.raises(SeedRefused, match="already exists"):
        seed_demo(engine)
    assert "nothing to do" in str(seed_demo(engine, if_empty=True))
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Store)) == 1


def test_synthetic_catalog_and_full_text_search(engine) -> None:  # type: ignore[no-untyped-def]
    report = seed_demo(engine, products=560)
    assert isinstance(report, SeedReport) and report.products == 560
    with Session(engine) as s:
        store = s.scalar(select(Store).where(Store.slug == "demo"))
        assert store is not None
        other = create_store(s, name="Other", slug="other", email="o@example.com")
        s.add(Product(store_id=other.id, name="House Blend Coffee Beans", slug="hb"))
        s.commit()

        ids = search_product_ids(s, store_id=store.id, query="coffee bean")
        names = s.scalars(select(Product.name).where(Product.id.in_(ids))).all()
        assert names and all("Coffee" in n for n in names)
        # Prefix search, as a cashier types.
        assert search_product_ids(s, store_id=store.id, query="crois")
        # The other store's product never shows up in the demo store's search.
        assert all(
            pid in {p.id for p in s.scalars(select(Product).where(Product.store_id == store.id))}
            for pid in ids
        )
        assert search_product_ids(s, store_id=other.id, query="coffee")
        assert search_product_ids(s, store_id=store.id, query="!!!") == []

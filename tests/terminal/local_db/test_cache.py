"""Applying server rows to the cache, and what the till reads back from it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from stormcom_pos.domain.coupons import Coupon
from stormcom_pos.domain.enums import DiscountType
from stormcom_pos.domain.sync_payloads import CustomerCreate
from stormcom_pos.domain.sync_protocol import Change
from stormcom_pos.local_db import cache_apply, catalog_repo, ledger_repo
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import NOW, product_row, variant_row

UPC_A = "036000291452"  # a valid UPC-A; scanners may send it as EAN-13 0036000291452
EAN = "4006381333931"


def _up(entity_type: str, row: dict, seq: int = 1) -> Change:
    return Change(seq=seq, entity_type=entity_type, id=row["id"], op="upsert", data=row)


def _gone(entity_type: str, row_id: str, seq: int = 1) -> Change:
    return Change(seq=seq, entity_type=entity_type, id=row_id, op="delete")


def _catalog(db: LocalDb) -> None:
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            _up("tax_rate", {"id": "t1", "name": "CA", "rate": "0.072500", "country": "US",
                             "state": "CA", "priority": 0, "is_compound": False,
                             "is_active": True}),
            _up("product", product_row("p1", "Granny Smith Apple", tax_rate_id="t1")),
            _up("product", product_row("p2", "Organic Bananas", is_taxable=False)),
            _up("product", product_row("p3", "Old Cola", status="ARCHIVED")),
            _up("product", product_row("p4", "T-Shirt")),
            _up("variant", variant_row("v1", "p1", sku="APL-001", barcode=UPC_A, price="0.99",
                                       stock=40)),
            _up("variant", variant_row("v2", "p2", sku="BAN-KG", price="1.49",
                                       track_inventory=False,
                                       attributes={"sold_by": "weight", "unit": "kg",
                                                   "plu": "04011"})),
            _up("variant", variant_row("v3", "p3", sku="COLA", barcode=EAN)),
            _up("variant", variant_row("v4", "p4", sku="TS-M", attributes={"size": "M"},
                                       is_default=True)),
            _up("variant", variant_row("v5", "p4", sku="TS-L", attributes={"size": "L"},
                                       is_default=False, price="12.00")),
            _up("category", {"id": "c1", "name": "Fruit", "display_order": 1,
                             "is_active": True}),
            _up("category", {"id": "c2", "name": "Clothes", "display_order": 0,
                             "is_active": True}),
            _up("product_category", {"id": "pc1", "product_id": "p1", "category_id": "c1"}),
            _up("product_category", {"id": "pc2", "product_id": "p2", "category_id": "c1"}),
            _up("product_category", {"id": "pc3", "product_id": "p4", "category_id": "c2"}),
        ])


def _ids(hits: list[catalog_repo.ProductHit]) -> list[str]:
    return [hit.variant_id for hit in hits]


def test_search_by_name_sku_and_barcode_prefix(db: LocalDb) -> None:
    _catalog(db)
    with db.read() as conn:
        assert _ids(catalog_repo.search(conn, "gran")) == ["v1"]
        assert _ids(catalog_repo.search(conn, "smith apple")) == ["v1"]
        assert _ids(catalog_repo.search(conn, "apl-0")) == ["v1"]
        assert _ids(catalog_repo.search(conn, "0360002")) == ["v1"]
        assert _ids(catalog_repo.search(conn, "04011")) == ["v2"]  # PLU
        assert sorted(_ids(catalog_repo.search(conn, "shirt"))) == ["v4", "v5"]
        assert _ids(catalog_repo.search(conn, "TS-L")) == ["v5"]  # exact SKU first
        assert catalog_repo.search(conn, "cola") == []  # archived product: not for sale
        assert catalog_repo.search(conn, "  ") == []
        assert catalog_repo.search(conn, "kiwi") == []


def test_hit_carries_what_pricing_needs(db: LocalDb) -> None:
    _catalog(db)
    with db.read() as conn:
        apple = catalog_repo.by_sku(conn, "apl-001")
        bananas = catalog_repo.by_plu(conn, "4011")
        large = catalog_repo.by_sku(conn, "TS-L")
        medium = catalog_repo.by_sku(conn, "TS-M")
    assert apple is not None and bananas is not None and large is not None
    assert (apple.name, apple.price, apple.taxable, apple.tax_rate_id) == (
        "Granny Smith Apple", Decimal("0.99"), True, "t1")
    assert apple.category_ids == ("c1",) and apple.stock_on_hand == Decimal(40)
    assert (apple.weighed, apple.track_inventory, apple.for_sale) == (False, True, True)
    assert (bananas.variant_id, bananas.weighed, bananas.unit, bananas.taxable) == (
        "v2", True, "kg", False)
    assert large.name == "T-Shirt (L)" and large.price == Decimal("12.00")
    assert medium is not None and medium.name == "T-Shirt"  # the default variant


def test_barcode_is_found_in_any_gtin_form(db: LocalDb) -> None:
    _catalog(db)
    with db.read() as conn:
        assert catalog_repo.by_barcode(conn, UPC_A).variant_id == "v1"  # type: ignore[union-attr]
        assert catalog_repo.by_barcode(conn, "0" + UPC_A).variant_id == "v1"  # type: ignore[union-attr]
        assert catalog_repo.by_barcode(conn, EAN) is None  # archived product
        assert catalog_repo.by_barcode(conn, "12345") is None
        archived = catalog_repo.by_variant_id(conn, "v3")
    assert archived is not None and archived.for_sale is False


def test_upserts_replace_rows_and_tombstones_remove_them(db: LocalDb) -> None:
    _catalog(db)
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            _up("product", product_row("p1", "Pink Lady Apple", tax_rate_id="t1"), 2),
            _up("variant", variant_row("v1", "p1", sku="APL-001", barcode=UPC_A, price="1.19",
                                       stock=38), 3),
            _gone("variant", "v5", 4),
            _gone("product_category", "pc2", 5),
            _up("variant", variant_row("v6", "p2", sku="BAN-X"), 6),
            _gone("variant", "v6", 7),  # created and deleted in one page
            _up("gift_card", {"id": "g1"}, 8),  # not mirrored by this till: ignored
        ])
    with db.read() as conn:
        assert catalog_repo.search(conn, "granny") == []
        [apple] = catalog_repo.search(conn, "pink lady")
        assert (apple.price, apple.stock_on_hand) == (Decimal("1.19"), Decimal(38))
        assert _ids(catalog_repo.search(conn, "shirt")) == ["v4"]
        assert catalog_repo.by_sku(conn, "TS-L") is None
        assert catalog_repo.by_sku(conn, "BAN-X") is None
        bananas = catalog_repo.by_plu(conn, "04011")
        assert bananas is not None and bananas.category_ids == ()
    with db.write() as conn:
        cache_apply.apply_changes(conn, [_gone("product", "p1", 9)])
    with db.read() as conn:
        assert catalog_repo.search(conn, "pink") == []
        assert catalog_repo.by_sku(conn, "APL-001") is None


def test_snapshot_rows_load_and_clear_cache_empties_only_the_cache(db: LocalDb) -> None:
    with db.write() as conn:
        cache_apply.load_snapshot_rows(conn, "variant", [variant_row("v1", "p1", sku="A1")])
        cache_apply.load_snapshot_rows(conn, "product", [product_row("p1", "Kettle")])
        ledger_repo.park(conn, "park-1", "Table 2", {"lines": [1]})
    with db.read() as conn:  # the product arrived after its variant and still indexes it
        assert _ids(catalog_repo.search(conn, "kett")) == ["v1"]
    with db.write() as conn:
        cache_apply.clear_cache(conn)
    with db.read() as conn:
        assert catalog_repo.search(conn, "kettle") == []
        assert catalog_repo.by_variant_id(conn, "v1") is None
        assert catalog_repo.store(conn) == {}
        assert [p.park_id for p in ledger_repo.parked(conn)] == ["park-1"]


def test_quick_keys_group_variants_for_sale_by_category(db: LocalDb) -> None:
    _catalog(db)
    with db.read() as conn:
        keys = catalog_repo.quick_keys(conn, limit_per_category=1)
    assert [(cid, name, _ids(hits)) for cid, name, hits in keys] == [
        ("c2", "Clothes", ["v4"]), ("c1", "Fruit", ["v1"])]


def test_taxes_promotions_store_and_staff_as_the_rules_want_them(db: LocalDb) -> None:
    _catalog(db)
    start = NOW - timedelta(days=1)
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            _up("store", {"id": "s1", "name": "Demo", "code": "DEMO", "currency": "USD"}),
            _up("coupon", {"id": "k1", "code": "WELCOME10", "name": "Welcome",
                           "discount_type": "PERCENTAGE", "discount_value": "10.00",
                           "valid_from": start.isoformat(), "valid_to": None,
                           "min_order_value": "20.00", "eligible_products": [],
                           "is_active": True, "current_usage_count": 3}),
            _up("flash_sale", {"id": "f1", "name": "Today", "discount_type": "PERCENTAGE",
                               "discount_value": "20.00", "products": ["p1"],
                               "start_at": start.isoformat(),
                               "end_at": (NOW + timedelta(hours=1)).isoformat(),
                               "status": "SCHEDULED"}),
            _up("flash_sale", {"id": "f2", "name": "Over", "discount_type": "FIXED_AMOUNT",
                               "discount_value": "1.00", "products": ["all"],
                               "start_at": start.isoformat(),
                               "end_at": (NOW - timedelta(hours=1)).isoformat(),
                               "status": "ACTIVE"}),
            _up("staff", {"id": "u1", "name": "Casey", "email": "c@x", "status": "ACTIVE",
                          "is_active": True, "role": "cashier",
                          "permissions": ["pos.sell", "pos.refund"], "pos_pin_hash": "$2b$"}),
            _up("staff", {"id": "u2", "name": "Alex", "email": "a@x", "status": "SUSPENDED",
                          "is_active": True, "role": "manager", "permissions": []}),
        ])
    with db.read() as conn:
        [rate] = catalog_repo.tax_rates(conn)
        coupon = catalog_repo.coupon_by_code(conn, " welcome10 ")
        sales = catalog_repo.active_flash_sales(conn, NOW)
        staff = catalog_repo.staff_members(conn)
        assert catalog_repo.coupon_by_code(conn, "NOPE") is None
        assert catalog_repo.store(conn)["code"] == "DEMO"
    assert (rate.id, rate.rate, rate.state) == ("t1", Decimal("0.072500"), "CA")
    assert isinstance(coupon, Coupon)
    assert (coupon.discount_type, coupon.discount_value, coupon.min_order_value) == (
        DiscountType.PERCENTAGE, Decimal("10.00"), Decimal("20.00"))
    assert coupon.valid_from == start and coupon.valid_from.tzinfo is not None
    assert [s.id for s in sales] == ["f1"] and sales[0].product_ids == frozenset({"p1"})
    assert [(m.user_id, m.active) for m in staff] == [("u2", False), ("u1", True)]
    assert staff[1].permissions == frozenset({"pos.sell", "pos.refund"})
    assert staff[1].pos_pin_hash == "$2b$"


def test_customers_from_the_server_and_from_this_till(db: LocalDb) -> None:
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            _up("customer", {"id": "cu1", "first_name": "Maria", "last_name": "Lopez",
                             "email": "maria@example.com", "phone": "+15550001",
                             "is_tax_exempt": True, "total_orders": 4,
                             "total_spent": "88.20"}),
        ])
        ledger_repo.record_customer(conn, CustomerCreate(
            customer_id="cu2", first_name="Mario", phone="+15550002"))
    with db.read() as conn:
        found = catalog_repo.find_customers(conn, "mar", 10)
        by_phone = catalog_repo.find_customers(conn, "+1555000", 10)
        maria = catalog_repo.customer(conn, "cu1")
        mario = catalog_repo.customer(conn, "cu2")
        assert catalog_repo.find_customers(conn, "lopez", 10)[0].id == "cu1"
        assert catalog_repo.customer(conn, "nobody") is None
    assert [(c.id, c.synced) for c in found] == [("cu1", True), ("cu2", False)]
    assert {c.id for c in by_phone} == {"cu1", "cu2"}
    assert maria is not None and maria.is_tax_exempt and maria.total_spent == Decimal("88.20")
    assert mario is not None and (mario.name, mario.synced) == ("Mario", False)

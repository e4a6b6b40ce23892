"""Products and variants over the API: create/read/update/soft delete, SKU conflicts,
barcode validation, field-naming validation errors, plan limits, permissions, tenancy."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.catalog.models import Product, Variant
from server.inventory.models import InventoryAdjustment
from tests.server.catalog_factories import (
    EAN13,
    UPCA,
    bulk_products,
    create_product,
    product_body,
)
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]
P = "/api/v1/products"


def test_create_product_with_variants_reads_back_everything(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    h = auth("a", "owner")
    cat = client.post("/api/v1/categories", json={"name": "Drinks"}, headers=h).json()
    brand = client.post("/api/v1/brands", json={"name": "Fizz Co"}, headers=h).json()
    size = client.post("/api/v1/attributes", json={"name": "Size", "values": ["S", "L"]},
                       headers=h).json()
    body = product_body(
        "Cola Zero", "COLA-S", "COLA-L", brand_id=brand["id"], category_ids=[cat["id"]],
        attributes=[{"attribute_id": size["id"], "values": ["S", "L"]}],
        labels=[{"label": "NEW", "color": "#FF0000", "priority": 2}], status="ACTIVE",
        description="Sugar free")
    body["variants"][0].update(barcode=EAN13, initial_stock=12, attributes={"size": "S"})
    body["variants"][1].update(price=2, is_default=True)
    r = client.post(P, json=body, headers=h)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["slug"] == "cola-zero" and p["status"] == "ACTIVE" and p["published_at"]
    assert p["plan_warning"] is None and "x-plan-warning" not in r.headers
    assert [v["sku"] for v in p["variants"]] == ["COLA-L", "COLA-S"]  # the default first
    small = p["variants"][1]
    assert small["price"] == "1.50" and small["stock_quantity"] == 12
    assert small["barcode"] == EAN13 and small["attributes"] == {"size": "S"}
    assert p["variants"][0]["price"] == "2.00"
    assert p["categories"] == [{"category_id": cat["id"], "name": "Drinks", "slug": "drinks",
                                "is_primary": True}]
    assert p["attributes"][0]["values"] == ["S", "L"]
    assert p["labels"][0]["label"] == "NEW" and p["brand_id"] == brand["id"]
    assert client.get(f"{P}/{p['id']}", headers=h).json() == {
        k: v for k, v in p.items() if k != "plan_warning"}
    with db_session(app) as db:  # opening stock is a ledger movement, and it was audited
        moves = db.scalars(select(InventoryAdjustment)).all()
        assert [(m.quantity_change, m.reason.value) for m in moves] == [(12, "RESTOCK")]
        actions = set(db.scalars(select(AuditLog.action).where(AuditLog.entity_id == p["id"])))
        assert actions == {"product.create"}


def test_a_second_product_with_the_same_name_gets_its_own_slug(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    assert create_product(client, h, "Café Crème", "C1")["slug"] == "cafe-creme"
    assert create_product(client, h, "Café Crème", "C2")["slug"] == "cafe-creme-2"
    r = client.post(P, json=product_body("Other", "C3", slug="cafe-creme"), headers=h)
    assert r.status_code == 409 and r.json()["code"] == "slug_taken"


def test_duplicate_sku_is_409_naming_the_sku(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    first = create_product(client, h, "Tea", "TEA-1")
    r = client.post(P, json=product_body("Tea again", "TEA-1"), headers=h)
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "duplicate_sku" and problem["sku"] == "TEA-1"
    assert "TEA-1" in problem["detail"] and "Tea" in problem["detail"]
    assert problem["field"] == "variants.0.sku"
    assert r.headers["content-type"].startswith("application/problem+json")
    r = client.post(P, json=product_body("Twice", "X-1", "X-1"), headers=h)
    assert r.status_code == 409 and "X-1" in r.json()["detail"]
    r = client.post(f"{P}/{first['id']}/variants", json={"sku": "TEA-1", "price": 1},
                    headers=h)
    assert r.status_code == 409 and r.json()["sku"] == "TEA-1"
    # a deleted product keeps its SKUs reserved, and the message says so
    assert client.delete(f"{P}/{first['id']}", headers=h).status_code == 204
    r = client.post(P, json=product_body("Tea 3", "TEA-1"), headers=h)
    assert r.status_code == 409 and "deleted" in r.json()["detail"]


def test_the_same_sku_is_fine_in_another_store(client: TestClient, auth: Auth) -> None:
    create_product(client, auth("a", "owner"), "Tea", "SHARED-1")
    create_product(client, auth("b", "owner"), "Tea", "SHARED-1")


def test_bad_barcodes_are_422_saying_what_is_wrong(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    cases = {
        "4006381333932": ("check_digit", "should end in 1"),
        "40063813": ("check_digit", "should end in"),
        "12345": ("length", "5 digits"),
        "ABC123456789": ("format", "non-digits"),
    }
    for code, (reason, words) in cases.items():
        body = product_body("Soap", "SOAP-1")
        body["variants"][0]["barcode"] = code
        r = client.post(P, json=body, headers=h)
        assert r.status_code == 422, (code, r.text)
        problem = r.json()
        assert problem["code"] == "invalid_barcode" and problem["reason"] == reason
        assert words in problem["detail"], problem["detail"]
        assert problem["errors"][0]["field"] == "variants.0.barcode"
    r = client.post(P, json=product_body("Soap", "SOAP-1", barcode="123"), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "barcode"
    ok = product_body("Soap", "SOAP-1")
    ok["variants"][0]["barcode"] = UPCA
    assert client.post(P, json=ok, headers=h).status_code == 201
    dup = product_body("Soap 2", "SOAP-2")
    dup["variants"][0]["barcode"] = UPCA
    r = client.post(P, json=dup, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_barcode"
    assert "SOAP-1" in r.json()["detail"]


def test_validation_errors_name_the_field(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    r = client.post(P, json={"variants": [{"sku": "A", "price": "-1"}]}, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"name", "variants.0.price"} <= fields
    assert "name" in r.json()["detail"]
    r = client.post(P, json={"name": "No variants", "variants": []}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "variants"
    r = client.post(P, json=product_body("Cents", "C", brand_id="nosuchbrand"), headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "brand_id"
    body = product_body("Cents", "C")
    body["variants"][0]["price"] = "1.999"
    r = client.post(P, json=body, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "variants.0.price"
    pid = create_product(client, h, "Named", "N-1")["id"]
    r = client.patch(f"{P}/{pid}", json={"name": None}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = client.patch(f"{P}/{pid}", json={"colour": "red"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "colour"


def test_update_replaces_sets_and_publishes(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    c1 = client.post("/api/v1/categories", json={"name": "One"}, headers=h).json()["id"]
    c2 = client.post("/api/v1/categories", json={"name": "Two"}, headers=h).json()["id"]
    p = create_product(client, h, "Mug", "MUG-1", category_ids=[c1],
                       labels=[{"label": "SALE"}])
    r = client.patch(f"{P}/{p['id']}", headers=h, json={
        "name": "Big Mug", "category_ids": [c1, c2], "primary_category_id": c2,
        "labels": [{"label": "NEW"}, {"label": "LIMITED", "priority": 5}], "status": "ACTIVE"})
    assert r.status_code == 200, r.text
    q = r.json()
    assert q["name"] == "Big Mug" and q["slug"] == "mug" and q["published_at"]
    assert [(c["category_id"], c["is_primary"]) for c in q["categories"]] == [
        (c2, True), (c1, False)]
    assert [lbl["label"] for lbl in q["labels"]] == ["LIMITED", "NEW"]
    r = client.patch(f"{P}/{p['id']}", json={"category_ids": [], "labels": []}, headers=h)
    assert r.json()["categories"] == [] and r.json()["labels"] == []
    r = client.patch(f"{P}/{p['id']}", json={"primary_category_id": c1}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "primary_category_id"


def test_soft_delete_hides_the_product_and_its_variants(
    client: TestClient, auth: Auth, app: FastAPI
) -> None:
    h = auth("a", "owner")
    p = create_product(client, h, "Gone", "GONE-1")
    assert client.delete(f"{P}/{p['id']}", headers=h).status_code == 204
    assert client.get(f"{P}/{p['id']}", headers=h).status_code == 404
    assert client.delete(f"{P}/{p['id']}", headers=h).status_code == 404
    assert client.get(P, headers=h).json()["total"] == 0
    r = client.get("/api/v1/variants/lookup", params={"code": "GONE-1"}, headers=h)
    assert r.status_code == 404
    with db_session(app) as db:
        assert db.get(Product, p["id"]).deleted_at is not None
        assert all(v.deleted_at is not None for v in db.scalars(select(Variant)))


def test_variants_keep_one_default_and_at_least_one_live(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    p = create_product(client, h, "Shirt", "SH-S", "SH-M")
    small, medium = p["variants"]
    assert small["is_default"] and not medium["is_default"]
    r = client.post(f"{P}/{p['id']}/variants", headers=h,
                    json={"sku": "SH-L", "price": "9.99", "is_default": True, "barcode": UPCA})
    assert r.status_code == 201, r.text
    large = r.json()
    variants = client.get(f"{P}/{p['id']}", headers=h).json()["variants"]
    assert [v["sku"] for v in variants if v["is_default"]] == ["SH-L"]
    r = client.patch(f"{P}/{p['id']}/variants/{medium['id']}", headers=h,
                     json={"price": "12.00", "sku": "SH-MM", "low_stock_threshold": 1})
    assert r.status_code == 200 and r.json()["sku"] == "SH-MM" and r.json()["price"] == "12.00"
    r = client.patch(f"{P}/{p['id']}/variants/{medium['id']}", json={"sku": "SH-L"}, headers=h)
    assert r.status_code == 409 and r.json()["sku"] == "SH-L"
    r = client.patch(f"{P}/{p['id']}/variants/{medium['id']}", json={"barcode": "1"},
                     headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "barcode"
    r = client.patch(f"{P}/{p['id']}/variants/{medium['id']}", json={"stock_quantity": 5},
                     headers=h)
    assert r.status_code == 422  # stock only moves through inventory
    assert client.delete(f"{P}/{p['id']}/variants/{large['id']}", headers=h).status_code == 204
    variants = client.get(f"{P}/{p['id']}", headers=h).json()["variants"]
    assert len(variants) == 2 and sum(v["is_default"] for v in variants) == 1
    client.delete(f"{P}/{p['id']}/variants/{small['id']}", headers=h)
    r = client.delete(f"{P}/{p['id']}/variants/{medium['id']}", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "last_variant"
    other = create_product(client, h, "Other", "OT-1")
    r = client.patch(f"{P}/{other['id']}/variants/{medium['id']}", json={"price": 1},
                     headers=h)
    assert r.status_code == 404  # a variant of another product


def test_plan_limit_warns_from_80_percent_and_blocks_when_full(
    client: TestClient, auth: Auth, app: FastAPI, world: World
) -> None:
    h = auth("b", "owner")  # Basic: 100 products
    with db_session(app) as db:
        bulk_products(db, world.b.store_id, 78)
    r = client.post(P, json=product_body("Seventy-nine", "S79"), headers=h)
    assert r.status_code == 201 and r.json()["plan_warning"] is None
    r = client.post(P, json=product_body("Eighty", "S80"), headers=h)
    assert r.status_code == 201
    assert r.json()["plan_warning"] == r.headers["x-plan-warning"]
    assert "80/100" in r.headers["x-plan-warning"]
    with db_session(app) as db:
        bulk_products(db, world.b.store_id, 20, prefix="Q")
    r = client.post(P, json=product_body("One too many", "S101"), headers=h)
    assert r.status_code == 403 and r.json()["code"] == "plan_limit_reached"
    assert "100" in r.json()["detail"]


def test_reading_needs_products_read_and_writing_products_write(
    client: TestClient, auth: Auth
) -> None:
    owner, cashier = auth("a", "owner"), auth("a", "cashier")
    p = create_product(client, owner, "Pen", "PEN-1")
    assert client.get(f"{P}/{p['id']}", headers=cashier).status_code == 200
    for method, url, body in (("POST", P, product_body("X", "X-9")),
                              ("PATCH", f"{P}/{p['id']}", {"name": "Y"}),
                              ("DELETE", f"{P}/{p['id']}", None),
                              ("POST", f"{P}/{p['id']}/variants", {"sku": "Z", "price": 1})):
        r = client.request(method, url, json=body, headers=cashier)
        assert r.status_code == 403 and r.json()["permission"] == "products.write"
    assert client.get(P).status_code == 401


def test_another_stores_product_is_404_everywhere(client: TestClient, auth: Auth) -> None:
    a, b = auth("a", "owner"), auth("b", "owner")
    p = create_product(client, b, "B only", "B-ONLY")
    vid = p["variants"][0]["id"]
    for method, url, body in (
        ("GET", f"{P}/{p['id']}", None), ("PATCH", f"{P}/{p['id']}", {"name": "mine"}),
        ("DELETE", f"{P}/{p['id']}", None),
        ("POST", f"{P}/{p['id']}/variants", {"sku": "A-1", "price": 1}),
        ("PATCH", f"{P}/{p['id']}/variants/{vid}", {"price": 1}),
        ("DELETE", f"{P}/{p['id']}/variants/{vid}", None),
    ):
        r = client.request(method, url, json=body, headers=a)
        assert r.status_code == 404, (method, url, r.text)
        assert "B only" not in r.text
    assert client.get(P, headers=a).json()["total"] == 0
    r = client.get("/api/v1/variants/lookup", params={"code": "B-ONLY"}, headers=a)
    assert r.status_code == 404
    assert client.get(f"{P}/{p['id']}", headers=b).status_code == 200

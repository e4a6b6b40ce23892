"""Product lists (filters, sorting, paging), full-text search relevance, SKU/barcode lookup."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.server.catalog_factories import UPCA, bulk_products, create_product, product_body
from tests.server.conftest import World, db_session

Auth = Callable[[str, str], dict[str, str]]
P = "/api/v1/products"


def _names(r: object) -> list[str]:
    return [i["name"] for i in r.json()["items"]]  # type: ignore[attr-defined]


def test_search_ranks_name_matches_first_and_needs_every_word(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    create_product(client, h, "Plain Yogurt", "Y1", description="Cultured milk")
    create_product(client, h, "Strawberry Jam", "J1",
                   description="Pairs well with yogurt and toast")
    create_product(client, h, "Greek Yogurt Honey", "Y2", description="Thick")
    create_product(client, h, "Honey", "H1", description="Wildflower")
    r = client.get(f"{P}/search", params={"q": "yogurt"}, headers=h)
    assert r.status_code == 200
    names = _names(r)
    assert set(names) == {"Plain Yogurt", "Strawberry Jam", "Greek Yogurt Honey"}
    assert names[-1] == "Strawberry Jam"  # a description match ranks below name matches
    assert _names(client.get(f"{P}/search", params={"q": "yog hon"}, headers=h)) == [
        "Greek Yogurt Honey"]  # every word, each as a prefix
    assert _names(client.get(f"{P}/search", params={"q": "straw"}, headers=h)) == [
        "Strawberry Jam"]
    assert _names(client.get(f"{P}/search", params={"q": "caviar"}, headers=h)) == []
    assert _names(client.get(f"{P}/search", params={"q": "!!"}, headers=h)) == []


def test_search_is_per_store_skips_deleted_and_pages(
    client: TestClient, auth: Auth, app: FastAPI, world: World
) -> None:
    a, b = auth("a", "owner"), auth("b", "owner")
    create_product(client, b, "Secret Sauce", "SS1")
    gone = create_product(client, a, "Sauce Gone", "SG1")
    client.delete(f"{P}/{gone['id']}", headers=a)
    assert _names(client.get(f"{P}/search", params={"q": "sauce"}, headers=a)) == []
    with db_session(app) as db:
        bulk_products(db, world.a.store_id, 25, names=[f"Widget {i:02d}" for i in range(25)])
    first = client.get(f"{P}/search", params={"q": "widget", "page_size": 10}, headers=a)
    assert len(first.json()["items"]) == 10 and first.json()["has_more"] is True
    last = client.get(f"{P}/search", params={"q": "widget", "page_size": 10, "page": 3},
                      headers=a).json()
    assert len(last["items"]) == 5 and last["has_more"] is False
    assert client.get(f"{P}/search", params={"q": ""}, headers=a).status_code == 422


def test_list_pages_20_by_default_and_100_at_most(
    client: TestClient, auth: Auth, app: FastAPI, world: World
) -> None:
    h = auth("a", "owner")
    with db_session(app) as db:
        bulk_products(db, world.a.store_id, 105)
    r = client.get(P, headers=h).json()
    assert (len(r["items"]), r["total"], r["page"], r["page_size"]) == (20, 105, 1, 20)
    assert len(client.get(P, params={"page_size": 100}, headers=h).json()["items"]) == 100
    r = client.get(P, params={"page_size": 100, "page": 2}, headers=h).json()
    assert len(r["items"]) == 5
    r = client.get(P, params={"page_size": 101}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "page_size"
    assert client.get(P, params={"sort": "price"}, headers=h).status_code == 422


def test_list_filters_and_sorting(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    root = client.post("/api/v1/categories", json={"name": "Food"}, headers=h).json()["id"]
    sub = client.post("/api/v1/categories", json={"name": "Fruit", "parent_id": root},
                      headers=h).json()["id"]
    brand = client.post("/api/v1/brands", json={"name": "Farm"}, headers=h).json()["id"]
    create_product(client, h, "Banana", "BAN-1", category_ids=[sub], brand_id=brand,
                   status="ACTIVE", labels=[{"label": "SALE"}])
    create_product(client, h, "Apple", "APL-1", category_ids=[root], status="ACTIVE")
    create_product(client, h, "Zucchini 100% fresh", "ZUC-1")
    get = lambda **q: client.get(P, params=q, headers=h)  # noqa: E731
    assert _names(get(sort="name")) == ["Apple", "Banana", "Zucchini 100% fresh"]
    assert _names(get(sort="-name"))[0] == "Zucchini 100% fresh"
    assert _names(get(category_id=root, sort="name")) == ["Apple", "Banana"]  # descendants too
    assert _names(get(category_id=sub)) == ["Banana"]
    assert _names(get(brand_id=brand)) == ["Banana"]
    assert _names(get(status="DRAFT")) == ["Zucchini 100% fresh"]
    assert _names(get(label="SALE")) == ["Banana"]
    assert _names(get(q="nan")) == ["Banana"]
    assert _names(get(q="APL-1")) == ["Apple"]  # exact variant SKU
    assert _names(get(q="100%")) == ["Zucchini 100% fresh"]  # % is literal, not a wildcard
    assert _names(get(q="%")) == ["Zucchini 100% fresh"]
    item = get(q="Banana").json()["items"][0]
    assert item["variant_count"] == 1 and item["price_min"] == item["price_max"] == "1.50"


def test_lookup_by_sku_and_by_any_form_of_a_barcode(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    body = product_body("Cereal", "CER-1", "CER-2")
    body["variants"][1]["barcode"] = UPCA
    p = client.post(P, json=body, headers=h).json()
    by_sku = client.get("/api/v1/variants/lookup", params={"code": "CER-1"}, headers=h).json()
    assert by_sku["matched_by"] == "sku" and by_sku["variant"]["sku"] == "CER-1"
    assert by_sku["product"]["id"] == p["id"]
    for scanned in (UPCA, "0" + UPCA):  # stored as UPC-A, scanned as UPC-A or as EAN-13
        r = client.get("/api/v1/variants/lookup", params={"code": scanned}, headers=h).json()
        assert r["matched_by"] == "barcode" and r["variant"]["sku"] == "CER-2", scanned
    r = client.get("/api/v1/variants/lookup", params={"code": "NOPE"}, headers=h)
    assert r.status_code == 404 and r.json()["code"] == "code_not_found"

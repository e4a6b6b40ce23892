"""Categories (a tree without cycles), brands, attributes and product attribute values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from tests.server.catalog_factories import create_product

Auth = Callable[[str, str], dict[str, str]]
C = "/api/v1/categories"


def _cat(client: TestClient, h: dict[str, str], name: str, parent: str | None = None
         ) -> dict[str, Any]:
    r = client.post(C, json={"name": name, "parent_id": parent}, headers=h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_categories_form_a_tree(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    food = _cat(client, h, "Food")
    fruit = _cat(client, h, "Fruit", food["id"])
    apples = _cat(client, h, "Apples", fruit["id"])
    _cat(client, h, "Tools")
    create_product(client, h, "Gala", "GALA", category_ids=[apples["id"]])
    tree = client.get(f"{C}/tree", headers=h).json()
    assert [n["name"] for n in tree] == ["Food", "Tools"]
    assert tree[0]["children"][0]["children"][0] == {
        "id": apples["id"], "name": "Apples", "slug": "apples", "parent_id": fruit["id"],
        "display_order": 0, "is_active": True, "product_count": 1, "children": []}
    r = client.get(C, params={"parent_id": food["id"]}, headers=h).json()
    assert [c["name"] for c in r["items"]] == ["Fruit"]
    r = client.get(C, params={"top_level": True, "sort": "-name"}, headers=h).json()
    assert [c["name"] for c in r["items"]] == ["Tools", "Food"] and r["total"] == 2
    r = client.post(C, json={"name": "Orphan", "parent_id": "nosuchcategory"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"
    r = client.post(C, json={"name": "Fruit 2", "slug": "fruit"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "slug_taken"


def test_a_category_cannot_move_under_itself_or_a_descendant(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    a = _cat(client, h, "A")
    b = _cat(client, h, "B", a["id"])
    c = _cat(client, h, "C", b["id"])
    for target, words in ((a["id"], "itself"), (b["id"], "descendants"),
                          (c["id"], "descendants")):
        r = client.patch(f"{C}/{a['id']}", json={"parent_id": target}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "category_cycle" and words in r.json()["detail"]
        assert r.json()["errors"][0]["field"] == "parent_id"
    r = client.patch(f"{C}/{c['id']}", json={"parent_id": None}, headers=h)  # to the top
    assert r.status_code == 200 and r.json()["parent_id"] is None
    r = client.patch(f"{C}/{a['id']}", json={"parent_id": c["id"]}, headers=h)  # now fine
    assert r.status_code == 200 and r.json()["parent_id"] == c["id"]
    tree = client.get(f"{C}/tree", headers=h).json()
    assert [n["name"] for n in tree] == ["C"] and tree[0]["children"][0]["name"] == "A"


def test_deleting_a_category_moves_its_children_up(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    top = _cat(client, h, "Top")
    mid = _cat(client, h, "Mid", top["id"])
    leaf = _cat(client, h, "Leaf", mid["id"])
    p = create_product(client, h, "Thing", "TH-1", category_ids=[mid["id"], leaf["id"]])
    assert client.delete(f"{C}/{mid['id']}", headers=h).status_code == 204
    assert client.get(f"{C}/{mid['id']}", headers=h).status_code == 404
    assert client.get(f"{C}/{leaf['id']}", headers=h).json()["parent_id"] == top["id"]
    cats = client.get(f"/api/v1/products/{p['id']}", headers=h).json()["categories"]
    assert [c["name"] for c in cats] == ["Leaf"]


def test_brands_crud_and_deleting_one_unbrands_its_products(
    client: TestClient, auth: Auth
) -> None:
    h = auth("a", "owner")
    r = client.post("/api/v1/brands", headers=h,
                    json={"name": "Acme", "website_url": "https://acme.example"})
    assert r.status_code == 201
    brand = r.json()
    assert brand["slug"] == "acme"
    p = create_product(client, h, "Anvil", "ANV-1", brand_id=brand["id"])
    r = client.patch(f"/api/v1/brands/{brand['id']}", json={"name": "Acme Corp",
                                                            "is_active": False}, headers=h)
    assert r.json()["name"] == "Acme Corp" and r.json()["is_active"] is False
    assert client.get("/api/v1/brands", params={"is_active": False}, headers=h).json()[
        "total"] == 1
    r = client.post("/api/v1/brands", json={"name": "Bad", "website_url": "ftp://x"}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "website_url"
    assert client.delete(f"/api/v1/brands/{brand['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/brands/{brand['id']}", headers=h).status_code == 404
    assert client.get(f"/api/v1/products/{p['id']}", headers=h).json()["brand_id"] is None


def test_attributes_and_the_values_a_product_may_pick(client: TestClient, auth: Auth) -> None:
    h = auth("a", "owner")
    colour = client.post("/api/v1/attributes", headers=h, json={
        "name": "Colour", "type": "SWATCH",
        "values": [{"value": "Red", "hex": "#FF0000"}, {"value": "Blue"}]}).json()
    assert colour["values"] == [{"value": "Red", "hex": "#FF0000"}, {"value": "Blue",
                                                                      "hex": None}]
    r = client.post("/api/v1/attributes", json={"name": "Size", "values": ["S", "S"]},
                    headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "values.1"
    r = client.post("/api/v1/products", headers=h, json={
        "name": "Scarf", "variants": [{"sku": "SC-1", "price": 5}],
        "attributes": [{"attribute_id": colour["id"], "values": ["Red", "Green"]}]})
    assert r.status_code == 422 and r.json()["code"] == "unknown_attribute_value"
    assert r.json()["errors"][0]["field"] == "attributes.0.values.1"
    assert "Green" in r.json()["detail"]
    p = create_product(client, h, "Scarf", "SC-1",
                       attributes=[{"attribute_id": colour["id"], "values": ["Blue"]}])
    assert p["attributes"][0]["values"] == ["Blue"]
    r = client.patch(f"/api/v1/attributes/{colour['id']}", json={"name": "Color"}, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "Color"
    assert client.delete(f"/api/v1/attributes/{colour['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/products/{p['id']}", headers=h).json()["attributes"] == []


def test_another_stores_taxonomy_is_404(client: TestClient, auth: Auth) -> None:
    a, b = auth("a", "owner"), auth("b", "owner")
    cat = _cat(client, b, "B shelf")
    brand = client.post("/api/v1/brands", json={"name": "B brand"}, headers=b).json()
    attr = client.post("/api/v1/attributes", json={"name": "B size"}, headers=b).json()
    for url in (f"{C}/{cat['id']}", f"/api/v1/brands/{brand['id']}",
                f"/api/v1/attributes/{attr['id']}"):
        for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
            assert client.request(method, url, json=body, headers=a).status_code == 404
    r = client.post(C, json={"name": "Sneaky", "parent_id": cat["id"]}, headers=a)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parent_id"
    r = client.post("/api/v1/products", headers=a, json={
        "name": "Sneaky", "variants": [{"sku": "SN-1", "price": 1}],
        "brand_id": brand["id"], "category_ids": [cat["id"]]})
    assert r.status_code == 422
    assert client.get(f"{C}/tree", headers=a).json() == []
    assert client.get("/api/v1/brands", headers=a).json()["total"] == 0

"""Catalog, stock and customer rows made straight in the database (for probes and tests)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from server.catalog.models import (
    Attribute,
    Brand,
    Category,
    Media,
    Product,
    ProductCategory,
    ProductLabel,
    ProductStatus,
    Variant,
)
from server.customers.models import Address, Customer
from server.db.base import new_id, utcnow
from server.inventory.models import AdjustmentReason, InventoryAdjustment


def seed_catalog_rows(db: Session, store_id: str, tag: str = "b") -> dict[str, list[str]]:
    """One of each catalog/stock/customer row in a store; their ids by kind. Commits."""
    category = Category(store_id=store_id, name=f"{tag} shelf", slug=f"{tag}-shelf")
    child = Category(store_id=store_id, name=f"{tag} sub", slug=f"{tag}-sub", parent=category)
    brand = Brand(store_id=store_id, name=f"{tag} brand", slug=f"{tag}-brand")
    attribute = Attribute(store_id=store_id, name=f"{tag} size", slug=f"{tag}-size",
                          values=["S", "M"])
    product = Product(store_id=store_id, name=f"{tag} widget", slug=f"{tag}-widget",
                      brand=brand, status=ProductStatus.ACTIVE)
    variant = Variant(store_id=store_id, product=product, sku=f"{tag.upper()}-SKU-1",
                      price=Decimal("3.00"), stock_quantity=4, is_default=True)
    customer = Customer(store_id=store_id, first_name=f"{tag} buyer",
                        email=f"buyer@{tag}-shop.test", phone="+15550199")
    address = Address(store_id=store_id, customer=customer, first_name="B", address1="1 Road",
                      city="Town", postal_code="1000", country="US")
    db.add_all([category, child, brand, attribute, product, variant, customer, address])
    db.flush()
    db.add_all([
        ProductCategory(store_id=store_id, product_id=product.id, category_id=child.id,
                        is_primary=True),
        ProductLabel(store_id=store_id, product_id=product.id, label="NEW"),
        InventoryAdjustment(store_id=store_id, variant_id=variant.id, quantity_change=4,
                            new_quantity=4, reason=AdjustmentReason.RESTOCK),
    ])
    media = Media(store_id=store_id, product_id=product.id, url="/x.png", mime_type="image/png",
                  size=10, is_featured=True)
    db.add(media)
    db.commit()
    return {"product": [product.id], "variant": [variant.id],
            "category": [category.id, child.id], "brand": [brand.id],
            "attribute": [attribute.id], "media": [media.id], "customer": [customer.id],
            "address": [address.id]}


def bulk_products(db: Session, store_id: str, n: int, *, prefix: str = "P",
                  names: list[str] | None = None) -> list[str]:
    """``n`` products with one variant each, inserted in bulk. Commits; returns their ids."""
    now = utcnow()
    products: list[dict[str, Any]] = []
    variants: list[dict[str, Any]] = []
    for i in range(n):
        pid = new_id()
        name = names[i] if names else f"{prefix} item {i}"
        products.append({"id": pid, "store_id": store_id, "name": name,
                         "slug": f"{prefix.lower()}-{i}-{pid[:6]}", "status": "ACTIVE",
                         "is_taxable": True, "created_at": now, "updated_at": now})
        variants.append({"id": new_id(), "store_id": store_id, "product_id": pid,
                         "sku": f"{prefix}-{i}-{pid[:6]}", "price": Decimal("1.00"),
                         "stock_quantity": 10, "low_stock_threshold": 2,
                         "track_inventory": True, "is_active": True, "is_default": True,
                         "attributes": {}, "created_at": now, "updated_at": now})
    if products:
        db.execute(insert(Product), products)
        db.execute(insert(Variant), variants)
    db.commit()
    return [p["id"] for p in products]


EAN13 = "4006381333931"  # valid EAN-13
UPCA = "036000291452"  # valid UPC-A (EAN-13 form: 0036000291452)
EAN8 = "96385074"  # valid EAN-8


def product_body(name: str = "Cola Zero", *skus: str, **fields: Any) -> dict[str, Any]:
    """A valid ProductCreate body with one variant per SKU (default: one, SKU from name)."""
    skus = skus or (name.upper().replace(" ", "-") + "-1",)
    return {"name": name, "variants": [{"sku": s, "price": "1.50"} for s in skus], **fields}


def create_product(client: Any, headers: dict[str, str], name: str = "Cola Zero",
                   *skus: str, **fields: Any) -> dict[str, Any]:
    """Create a product through the API; returns its JSON (asserts 201)."""
    r = client.post("/api/v1/products", json=product_body(name, *skus, **fields),
                    headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())

"""The product catalog.

Seed models implemented (data-model.md §10-18, §42): ``Product`` (+ ``ProductStatus``),
``Variant``, ``Category``, ``ProductCategory``, ``Brand``, ``Attribute`` (+ ``AttributeType``),
``ProductAttribute``, ``Media``, ``ProductLabel``; ``ProductReview`` (+ ``ReviewStatus``) lives in
``models_reviews`` and is re-exported here.

Deviations from the seed, and why:

- Tenancy (product-decisions §2): ``store_id`` on every table, the child and join tables too
  (Variant, ProductCategory, ProductAttribute, Media, ProductLabel, ProductReview).
- Variant SKU is unique per store, ``(store_id, sku)``, not globally (§2, FR-012).
- ``(store_id, barcode)`` index on Variant: tills look variants up by scanned barcode.
- Unique keys of store-owned tables lead with ``store_id``: ProductCategory
  ``(store_id, product_id, category_id)``, ProductAttribute ``(store_id, product_id,
  attribute_id)``. Because ``product_id`` no longer leads them, each gets its own
  ``product_id`` index (house rule: every foreign-key column leads an index), as does
  ``product.tax_rate_id``.
- Product's full-text index on ``(name, description)`` is not declared here; the migration
  creates it (a PostgreSQL GIN index over a tsvector).
- ProductCategory and ProductAttribute get the house id and timestamps (the seed had none).
- Variant's weight and dimensions use the exact ``Money(10, 2)`` decimal type at the seed's
  precision (it is the house exact-decimal type, whatever the unit).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.catalog.models_reviews import ProductReview, ReviewStatus
from server.db.base import (
    ID_LENGTH,
    Entity,
    JsonType,
    Money,
    SoftDeleteMixin,
    StoreOwnedMixin,
    enum_column,
)

if TYPE_CHECKING:
    from server.inventory.models import InventoryAdjustment

__all__ = [
    "Attribute",
    "AttributeType",
    "Brand",
    "Category",
    "Media",
    "Product",
    "ProductAttribute",
    "ProductCategory",
    "ProductLabel",
    "ProductReview",
    "ProductStatus",
    "ReviewStatus",
    "Variant",
]


class ProductStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class AttributeType(enum.StrEnum):
    SELECT = "SELECT"  # dropdown
    SWATCH = "SWATCH"  # colour swatches
    TEXT = "TEXT"  # free text


def _id_fk(table: str, ondelete: str | None = "CASCADE") -> ForeignKey:
    return ForeignKey(f"{table}.id", ondelete=ondelete)


class Product(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A product; what is sold and stocked is its ``Variant``."""

    # Details (name and description are full-text searched; the index is in the migration)
    name: Mapped[str]
    slug: Mapped[str]
    description: Mapped[str | None] = mapped_column(Text)
    short_description: Mapped[str | None]

    brand_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), _id_fk("brand", "SET NULL"), index=True
    )

    # Identifiers
    barcode: Mapped[str | None]
    sku: Mapped[str | None]  # master SKU; variants have their own

    # Tax
    is_taxable: Mapped[bool] = mapped_column(default=True)
    tax_rate_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), _id_fk("tax_rate", "SET NULL"), index=True
    )

    # Status
    status: Mapped[ProductStatus] = mapped_column(
        enum_column(ProductStatus), default=ProductStatus.DRAFT
    )
    published_at: Mapped[datetime | None]

    # SEO
    meta_title: Mapped[str | None]
    meta_description: Mapped[str | None]
    meta_keywords: Mapped[str | None]

    brand: Mapped[Brand | None] = relationship(back_populates="products")
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )
    categories: Mapped[list[ProductCategory]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )
    attributes: Mapped[list[ProductAttribute]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )
    media: Mapped[list[Media]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Media.display_order",
    )
    labels: Mapped[list[ProductLabel]] = relationship(
        back_populates="product",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="ProductLabel.priority.desc()",
    )
    reviews: Mapped[list[ProductReview]] = relationship(
        back_populates="product", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        Index("ix_product_store_id_status", "store_id", "status"),
        # Keyset pages of the sync snapshot: WHERE store_id = ? AND id > ? ORDER BY id.
        Index("ix_product_store_id_id", "store_id", "id"),
    )


class Variant(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A sellable, stocked variation of a product (size M, red, ...)."""

    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("product"), index=True)

    # Identification
    sku: Mapped[str] = mapped_column(index=True)
    barcode: Mapped[str | None]

    # Pricing
    price: Mapped[Decimal] = mapped_column(Money(10, 2))
    compare_at_price: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # "was" price
    cost_price: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # for margins

    # Inventory
    track_inventory: Mapped[bool] = mapped_column(default=True)
    stock_quantity: Mapped[int] = mapped_column(default=0)
    low_stock_threshold: Mapped[int] = mapped_column(default=5)

    # Physical attributes
    weight: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # kg
    length: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # cm
    width: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # cm
    height: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # cm

    # Status
    is_active: Mapped[bool] = mapped_column(default=True, index=True)
    is_default: Mapped[bool] = mapped_column(default=False)  # the product's primary variant

    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"size": "M"}

    product: Mapped[Product] = relationship(back_populates="variants")
    inventory_adjustments: Mapped[list[InventoryAdjustment]] = relationship(
        back_populates="variant", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("store_id", "sku"),
        Index("ix_variant_store_id_barcode", "store_id", "barcode"),
        Index("ix_variant_store_id_id", "store_id", "id"),
    )


class Category(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A node of the store's category tree."""

    name: Mapped[str]
    slug: Mapped[str]
    description: Mapped[str | None] = mapped_column(Text)

    parent_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), _id_fk("category", "SET NULL"), index=True
    )

    # Display
    image_url: Mapped[str | None]
    display_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    # SEO
    meta_title: Mapped[str | None]
    meta_description: Mapped[str | None]

    parent: Mapped[Category | None] = relationship(
        back_populates="children", remote_side="Category.id"
    )
    children: Mapped[list[Category]] = relationship(
        back_populates="parent", passive_deletes=True, order_by="Category.display_order"
    )
    products: Mapped[list[ProductCategory]] = relationship(
        back_populates="category", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        Index("ix_category_store_id_is_active", "store_id", "is_active"),
    )


class ProductCategory(StoreOwnedMixin, Entity):
    """Links a product to one of its categories."""

    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("product"), index=True)
    category_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("category"), index=True)
    is_primary: Mapped[bool] = mapped_column(default=False)  # one primary per product

    product: Mapped[Product] = relationship(back_populates="categories")
    category: Mapped[Category] = relationship(back_populates="products")

    __table_args__ = (
        UniqueConstraint("store_id", "product_id", "category_id"),
        Index("ix_product_category_store_id_id", "store_id", "id"),
    )


class Brand(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A brand or manufacturer."""

    name: Mapped[str]
    slug: Mapped[str]
    description: Mapped[str | None] = mapped_column(Text)
    logo_url: Mapped[str | None]
    website_url: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(default=True)

    products: Mapped[list[Product]] = relationship(back_populates="brand", passive_deletes=True)

    __table_args__ = (
        UniqueConstraint("store_id", "slug"),
        Index("ix_brand_store_id_is_active", "store_id", "is_active"),
    )


class Attribute(StoreOwnedMixin, Entity):
    """A product option such as Size or Colour, with its allowed values."""

    name: Mapped[str]
    slug: Mapped[str]
    type: Mapped[AttributeType] = mapped_column(
        enum_column(AttributeType), default=AttributeType.SELECT
    )
    # ["S", "M", "L"] or [{"value": "red", "hex": "#FF0000"}]
    values: Mapped[list[Any]] = mapped_column(default=list)
    display_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    products: Mapped[list[ProductAttribute]] = relationship(
        back_populates="attribute", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (UniqueConstraint("store_id", "slug"),)


class ProductAttribute(StoreOwnedMixin, Entity):
    """The values of one attribute that a product offers."""

    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("product"), index=True)
    attribute_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("attribute"), index=True)
    selected_values: Mapped[list[Any]] = mapped_column(JsonType, default=list)

    product: Mapped[Product] = relationship(back_populates="attributes")
    attribute: Mapped[Attribute] = relationship(back_populates="products")

    __table_args__ = (UniqueConstraint("store_id", "product_id", "attribute_id"),)


class Media(StoreOwnedMixin, Entity):
    """A product image or other media file."""

    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("product"), index=True)
    url: Mapped[str]
    thumbnail_url: Mapped[str | None]
    alt_text: Mapped[str | None]
    mime_type: Mapped[str]
    size: Mapped[int]  # bytes
    display_order: Mapped[int] = mapped_column(default=0)
    is_featured: Mapped[bool] = mapped_column(default=False)  # the primary image

    product: Mapped[Product] = relationship(back_populates="media")


class ProductLabel(StoreOwnedMixin, Entity):
    """A badge on a product (NEW, SALE, FEATURED, LIMITED, OUT_OF_STOCK)."""

    product_id: Mapped[str] = mapped_column(String(ID_LENGTH), _id_fk("product"), index=True)
    label: Mapped[str]
    color: Mapped[str | None]  # hex
    priority: Mapped[int] = mapped_column(default=0)  # higher shows first

    product: Mapped[Product] = relationship(back_populates="labels")

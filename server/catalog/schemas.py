"""Wire schemas of products, variants, labels and product attributes (Create/Update/Read/Page).

Money fields take a number or a string with at most two decimals and are answered as strings.
Categories, brands, attributes and media are in ``schemas_taxonomy``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.models import ProductStatus
from server.catalog.schemas_taxonomy import MediaRead
from server.catalog.wire import (
    NO_NUL,
    Code,
    Ident,
    LongText,
    Measure,
    MoneyIn,
    Name,
    Page,
    ShortText,
    Slug,
    Threshold,
)

AttrKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                           pattern=NO_NUL)]
AttrValue = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100,
                                             pattern=NO_NUL)]
LabelText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                             pattern=NO_NUL)]
Priority = Annotated[int, Field(ge=-1000, le=1000)]
InitialStock = Annotated[int, Field(ge=0, le=1_000_000)]


class _Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VariantCreate(_Forbid):
    sku: Code = Field(description="Unique in the store (deleted products' SKUs included)")
    barcode: Code | None = Field(default=None,
                                 description="EAN-13, EAN-8, UPC-A or UPC-E, check digit valid")
    price: MoneyIn
    compare_at_price: MoneyIn | None = None
    cost_price: MoneyIn | None = None
    track_inventory: bool = True
    initial_stock: InitialStock = Field(
        default=0, description="Opening stock, recorded as a RESTOCK movement")
    low_stock_threshold: Threshold = 5
    weight: Measure | None = None
    length: Measure | None = None
    width: Measure | None = None
    height: Measure | None = None
    is_active: bool = True
    is_default: bool = False
    attributes: dict[AttrKey, AttrValue] = Field(default_factory=dict, max_length=20)


class VariantUpdate(_Forbid):
    """Only the fields sent change. Stock changes only through inventory movements."""

    sku: Code | None = None
    barcode: Code | None = None
    price: MoneyIn | None = None
    compare_at_price: MoneyIn | None = None
    cost_price: MoneyIn | None = None
    track_inventory: bool | None = None
    low_stock_threshold: Threshold | None = None
    weight: Measure | None = None
    length: Measure | None = None
    width: Measure | None = None
    height: Measure | None = None
    is_active: bool | None = None
    is_default: bool | None = None
    attributes: dict[AttrKey, AttrValue] | None = Field(default=None, max_length=20)


class VariantRead(BaseModel):
    id: str
    product_id: str
    sku: str
    barcode: str | None
    price: Decimal
    compare_at_price: Decimal | None
    cost_price: Decimal | None
    track_inventory: bool
    stock_quantity: int
    low_stock_threshold: int
    weight: Decimal | None
    length: Decimal | None
    width: Decimal | None
    height: Decimal | None
    is_active: bool
    is_default: bool
    attributes: dict[str, str | int | float | bool | None]
    created_at: UtcDateTime
    updated_at: UtcDateTime


class LabelIn(_Forbid):
    label: LabelText = Field(description="NEW, SALE, FEATURED, LIMITED, OUT_OF_STOCK or your own")
    color: Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")] | None = None
    priority: Priority = 0


class LabelRead(BaseModel):
    id: str
    label: str
    color: str | None
    priority: int


class ProductAttributeIn(_Forbid):
    attribute_id: Ident
    values: list[AttrValue] = Field(default_factory=list, max_length=100,
                                    description="Each one of the attribute's allowed values")


class ProductAttributeRead(BaseModel):
    attribute_id: str
    name: str
    slug: str
    values: list[str]


class ProductCategoryRead(BaseModel):
    category_id: str
    name: str
    slug: str
    is_primary: bool


class _ProductFields(_Forbid):
    description: LongText | None = None
    short_description: ShortText | None = None
    brand_id: Ident | None = None
    sku: Code | None = Field(default=None, description="Master SKU (variants have their own)")
    barcode: Code | None = None
    tax_rate_id: Ident | None = None
    meta_title: ShortText | None = None
    meta_description: ShortText | None = None
    meta_keywords: ShortText | None = None


class ProductCreate(_ProductFields):
    name: Name
    slug: Slug | None = Field(default=None, description="Made from the name when left out")
    is_taxable: bool = True
    status: ProductStatus = ProductStatus.DRAFT
    category_ids: list[Ident] = Field(default_factory=list, max_length=50)
    primary_category_id: Ident | None = Field(
        default=None, description="One of category_ids; the first one when left out")
    attributes: list[ProductAttributeIn] = Field(default_factory=list, max_length=50)
    labels: list[LabelIn] = Field(default_factory=list, max_length=20)
    variants: list[VariantCreate] = Field(min_length=1, max_length=100)


class ProductUpdate(_ProductFields):
    """Only the fields sent change; ``category_ids``, ``attributes`` and ``labels`` replace
    the product's whole set when sent. Variants have their own endpoints."""

    name: Name | None = None
    slug: Slug | None = None
    is_taxable: bool | None = None
    status: ProductStatus | None = None
    category_ids: list[Ident] | None = Field(default=None, max_length=50)
    primary_category_id: Ident | None = None
    attributes: list[ProductAttributeIn] | None = Field(default=None, max_length=50)
    labels: list[LabelIn] | None = Field(default=None, max_length=20)


class ProductRead(BaseModel):
    id: str
    name: str
    slug: str
    description: str | None
    short_description: str | None
    brand_id: str | None
    sku: str | None
    barcode: str | None
    is_taxable: bool
    tax_rate_id: str | None
    status: ProductStatus
    published_at: UtcDateTime | None
    meta_title: str | None
    meta_description: str | None
    meta_keywords: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    variants: list[VariantRead]
    categories: list[ProductCategoryRead]
    attributes: list[ProductAttributeRead]
    labels: list[LabelRead]
    media: list[MediaRead]


class ProductCreated(ProductRead):
    plan_warning: str | None = Field(
        default=None,
        description="Set from 80% of the plan's product limit (also sent as X-Plan-Warning)")


class ProductListItem(BaseModel):
    id: str
    name: str
    slug: str
    status: ProductStatus
    brand_id: str | None
    sku: str | None
    barcode: str | None
    variant_count: int
    price_min: Decimal | None
    price_max: Decimal | None
    stock_total: int = Field(description="Stock over the product's tracked variants")
    created_at: UtcDateTime
    updated_at: UtcDateTime


ProductPage = Page[ProductListItem]


class ProductSearchPage(BaseModel):
    """Full-text hits, best first. Search pages have no total: ``has_more`` says if more follow."""

    query: str
    items: list[ProductListItem]
    page: int
    page_size: int
    has_more: bool


class LookupRead(BaseModel):
    """The live variant a scanned barcode or a typed SKU names, and its product."""

    variant: VariantRead
    product: ProductListItem
    matched_by: str = Field(description="sku or barcode")

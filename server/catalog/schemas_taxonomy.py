"""Wire schemas of categories (a tree), brands, attributes and product media."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.models import AttributeType
from server.catalog.wire import (
    NO_NUL,
    HexColor,
    Ident,
    LongText,
    Name,
    Order,
    Page,
    ShortText,
    Slug,
    Url,
)

AttrValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=100, pattern=NO_NUL)]


class _Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- categories -----------------------------------------------------------------------------


class CategoryCreate(_Forbid):
    name: Name
    slug: Slug | None = Field(default=None, description="Made from the name when left out")
    description: LongText | None = None
    parent_id: Ident | None = Field(default=None, description="None for a top-level category")
    image_url: Url | None = None
    display_order: Order = 0
    is_active: bool = True
    meta_title: ShortText | None = None
    meta_description: ShortText | None = None


class CategoryUpdate(_Forbid):
    """Only the fields sent change; ``parent_id: null`` moves the category to the top level.
    A category cannot move under itself or one of its descendants."""

    name: Name | None = None
    slug: Slug | None = None
    description: LongText | None = None
    parent_id: Ident | None = None
    image_url: Url | None = None
    display_order: Order | None = None
    is_active: bool | None = None
    meta_title: ShortText | None = None
    meta_description: ShortText | None = None


class CategoryRead(BaseModel):
    id: str
    name: str
    slug: str
    description: str | None
    parent_id: str | None
    image_url: str | None
    display_order: int
    is_active: bool
    meta_title: str | None
    meta_description: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class CategoryNode(BaseModel):
    id: str
    name: str
    slug: str
    parent_id: str | None
    display_order: int
    is_active: bool
    product_count: int
    children: list[CategoryNode]


CategoryPage = Page[CategoryRead]


# ---- brands ---------------------------------------------------------------------------------


class BrandCreate(_Forbid):
    name: Name
    slug: Slug | None = None
    description: LongText | None = None
    logo_url: Url | None = None
    website_url: Url | None = None
    is_active: bool = True


class BrandUpdate(_Forbid):
    name: Name | None = None
    slug: Slug | None = None
    description: LongText | None = None
    logo_url: Url | None = None
    website_url: Url | None = None
    is_active: bool | None = None


class BrandRead(BaseModel):
    id: str
    name: str
    slug: str
    description: str | None
    logo_url: str | None
    website_url: str | None
    is_active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


BrandPage = Page[BrandRead]


# ---- attributes -----------------------------------------------------------------------------


class SwatchValue(_Forbid):
    value: AttrValue
    hex: HexColor | None = None


AttributeValue = AttrValue | SwatchValue


class AttributeCreate(_Forbid):
    name: Name
    slug: Slug | None = None
    type: AttributeType = AttributeType.SELECT
    values: list[AttributeValue] = Field(
        default_factory=list, max_length=200,
        description="Allowed values: strings, or {value, hex} for a SWATCH; any for TEXT")
    display_order: Order = 0
    is_active: bool = True


class AttributeUpdate(_Forbid):
    name: Name | None = None
    slug: Slug | None = None
    type: AttributeType | None = None
    values: list[AttributeValue] | None = Field(default=None, max_length=200)
    display_order: Order | None = None
    is_active: bool | None = None


class AttributeRead(BaseModel):
    id: str
    name: str
    slug: str
    type: AttributeType
    values: list[str | SwatchValue]
    display_order: int
    is_active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


AttributePage = Page[AttributeRead]


# ---- media ----------------------------------------------------------------------------------


class MediaUpdate(_Forbid):
    alt_text: ShortText | None = None
    display_order: Order | None = None
    is_featured: bool | None = Field(default=None, description="True makes it the only featured")


class MediaRead(BaseModel):
    id: str
    product_id: str
    url: str
    thumbnail_url: str | None
    alt_text: str | None
    mime_type: str
    size: int = Field(description="Bytes")
    display_order: int
    is_featured: bool
    created_at: UtcDateTime

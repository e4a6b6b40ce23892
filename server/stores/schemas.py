"""Wire schemas of the current store's settings and plan."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime

Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class StoreRead(BaseModel):
    id: str
    name: str
    slug: str
    code: str
    status: str
    email: str
    phone: str | None
    address: str | None
    tax_id: str | None
    timezone: str
    currency: str
    language: str
    logo_url: str | None
    primary_color: str
    secondary_color: str
    allow_coupons_with_flash_sale: bool
    settings: dict[str, Any]
    updated_at: UtcDateTime


class StoreUpdate(BaseModel):
    """Only the fields sent are changed. ``settings`` keys are merged (null removes a key)."""

    model_config = ConfigDict(extra="forbid")
    name: Text200 | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    address: Annotated[str, StringConstraints(max_length=500)] | None = None
    tax_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = None
    logo_url: Annotated[str, StringConstraints(max_length=500)] | None = None
    primary_color: Color | None = None
    secondary_color: Color | None = None
    allow_coupons_with_flash_sale: bool | None = None
    settings: dict[str, Any] | None = Field(default=None, max_length=100)


class LimitRead(BaseModel):
    resource: str
    state: str = Field(description="OK, WARN (80% or more) or BLOCKED")
    used: int
    limit: int | None
    message: str


class PlanRead(BaseModel):
    plan: str
    name: str
    api_rate_limit: int
    has_pos_access: bool
    access: str
    access_message: str
    limits: list[LimitRead]

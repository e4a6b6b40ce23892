"""Wire schemas of coupons, flash sales, and "validate coupons for this cart"."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Ident, MoneyIn, Name, Page, ShortText
from server.clock import as_utc
from server.promotions.models import FlashSaleStatus
from stormcom_pos.domain.enums import DiscountType

# Stored in UTC (a naive value is taken as UTC): SQLite compares datetimes as text.
UtcIn = Annotated[datetime, AfterValidator(lambda v: as_utc(v).astimezone(UTC))]
CouponCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_-]+$")]
Value = Annotated[Decimal, Field(ge=0, le=99_999_999, max_digits=10, decimal_places=2,
                                 description="Percent (10 = 10%) or an amount")]
Ids = Annotated[list[Ident], Field(max_length=500)]
Uses = Annotated[int, Field(ge=1, le=10_000_000)]
Units = Annotated[int, Field(ge=1, le=1000)]


class CouponFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: ShortText | None = None
    buy_quantity: Units | None = Field(default=None, description="BUY_X_GET_Y: X")
    get_quantity: Units | None = Field(default=None, description="BUY_X_GET_Y: Y")
    min_order_value: MoneyIn | None = None
    max_discount: MoneyIn | None = None
    eligible_products: Ids | None = None
    eligible_categories: Ids | None = None
    eligible_customers: Ids | None = None
    valid_to: UtcIn | None = None
    usage_limit_per_coupon: Uses | None = None
    usage_limit_per_customer: Uses | None = None


class CouponCreate(CouponFields):
    code: CouponCode
    name: Name
    discount_type: DiscountType
    discount_value: Value
    valid_from: UtcIn
    is_active: bool = True


class CouponUpdate(CouponFields):
    """Only the fields sent change."""

    code: CouponCode | None = None
    name: Name | None = None
    discount_type: DiscountType | None = None
    discount_value: Value | None = None
    valid_from: UtcIn | None = None
    is_active: bool | None = None


class CouponRead(BaseModel):
    id: str
    code: str
    name: str
    description: str | None
    discount_type: DiscountType
    discount_value: Decimal
    buy_quantity: int | None
    get_quantity: int | None
    min_order_value: Decimal | None
    max_discount: Decimal | None
    eligible_products: list[str]
    eligible_categories: list[str]
    eligible_customers: list[str]
    valid_from: UtcDateTime
    valid_to: UtcDateTime | None
    usage_limit_per_coupon: int | None
    usage_limit_per_customer: int | None
    current_usage_count: int
    is_active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


CouponPage = Page[CouponRead]

SaleType = Annotated[DiscountType, Field(description="PERCENTAGE or FIXED_AMOUNT")]


class FlashSaleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: ShortText | None = None
    product_ids: Ids | None = None
    all_products: bool | None = None
    status: FlashSaleStatus | None = None


class FlashSaleCreate(FlashSaleFields):
    name: Name
    discount_type: SaleType
    discount_value: Value
    start_at: UtcIn
    end_at: UtcIn

    @model_validator(mode="after")
    def _window(self) -> FlashSaleCreate:
        if self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        return self


class FlashSaleUpdate(FlashSaleFields):
    name: Name | None = None
    discount_type: SaleType | None = None
    discount_value: Value | None = None
    start_at: UtcIn | None = None
    end_at: UtcIn | None = None


class FlashSaleRead(BaseModel):
    id: str
    name: str
    description: str | None
    discount_type: DiscountType
    discount_value: Decimal
    product_ids: list[str]
    all_products: bool
    start_at: UtcDateTime
    end_at: UtcDateTime
    status: FlashSaleStatus
    created_at: UtcDateTime
    updated_at: UtcDateTime


FlashSalePage = Page[FlashSaleRead]


class CartLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant_id: Ident
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class TaxAddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2}$")]
    state: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")] | None = None
    city: Annotated[str, StringConstraints(max_length=100, pattern=r"^[^\x00]*$")] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=20,
                                                  pattern=r"^[^\x00]*$")] | None = None


class CouponCheck(BaseModel):
    """A cart and the coupon codes to try on it."""

    model_config = ConfigDict(extra="forbid")
    lines: list[CartLineIn] = Field(min_length=1, max_length=200)
    codes: list[CouponCode] = Field(min_length=1, max_length=3)
    customer_id: Ident | None = None
    address: TaxAddressIn | None = Field(
        default=None, description="Where tax is matched; no tax is computed without it")


class AppliedCouponRead(BaseModel):
    code: str
    discount_type: DiscountType
    amount: Decimal


class RejectedCouponRead(BaseModel):
    code: str
    reason_code: str = Field(description="Stable, e.g. coupon_expired")
    reason: str = Field(description="A sentence a cashier or shopper can read")


class CouponCheckRead(BaseModel):
    valid: bool = Field(description="Every code entered applies")
    applied: list[AppliedCouponRead]
    rejected: list[RejectedCouponRead]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal

"""Wire schemas of orders, their lines, status changes and shipments."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Ident, MoneyIn, Page, ShortText
from server.clock import as_utc
from stormcom_pos.domain.enums import (
    FulfillmentStatus,
    OrderChannel,
    OrderStatus,
    PaymentStatus,
    ShipmentStatus,
)

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                        pattern=r"^[^\x00]*$")]
Optional = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                            pattern=r"^[^\x00]*$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s\x00]+@[^@\s\x00]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40,
                                         pattern=r"^[0-9+() .-]*$")]
CouponCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_-]+$")]
UtcIn = Annotated[datetime, AfterValidator(lambda v: as_utc(v).astimezone(UTC))]


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_name: Line
    last_name: Optional | None = None
    company: Optional | None = None
    address1: Line
    address2: Optional | None = None
    city: Line
    state: Optional | None = None
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                  max_length=20, pattern=r"^[^\x00]*$")]
    country: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^[A-Za-z]{2}$")]
    phone: Phone | None = None


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    variant_id: Ident
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class OrderCreate(BaseModel):
    """An online order: priced by the server from today's catalog, taxes and promotions."""

    model_config = ConfigDict(extra="forbid")
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    customer_id: Ident | None = None
    customer_email: Email | None = None
    customer_phone: Phone | None = None
    shipping_address: AddressIn
    billing_address: AddressIn | None = Field(default=None,
                                              description="The shipping address when absent")
    coupon_codes: list[CouponCode] = Field(default_factory=list, max_length=3)
    shipping_rate_id: Ident | None = Field(default=None,
                                           description="The cheapest offered rate when absent")
    notes: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")] | None = None


class OrderItemRead(BaseModel):
    id: str
    variant_id: str
    product_name: str
    variant_sku: str
    quantity: Decimal
    unit_price: Decimal
    original_unit_price: Decimal | None
    discount_amount: Decimal
    tax_amount: Decimal
    subtotal: Decimal
    total: Decimal
    tax_lines: list[Any]
    discount_lines: list[Any]
    quantity_fulfilled: Decimal
    quantity_shipped: Decimal
    quantity_refunded: Decimal
    refunded_amount: Decimal
    refunded_tax_amount: Decimal


class OrderSummary(BaseModel):
    id: str
    order_number: str
    channel: OrderChannel
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    customer_id: str | None
    customer_email: str | None
    currency: str
    total: Decimal
    created_at: UtcDateTime


class OrderRead(OrderSummary):
    subtotal: Decimal
    discount_amount: Decimal
    shipping_cost: Decimal
    tax_amount: Decimal
    prices_include_tax: bool
    tax_rounding: str
    tax_lines: list[Any]
    discount_lines: list[Any]
    coupon_code: str | None
    customer_phone: str | None
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any]
    notes: str | None
    auto_cancel_at: UtcDateTime | None
    receipt_number: str | None
    pos_session_id: str | None
    anomalies: list[Any]
    flagged: bool
    items: list[OrderItemRead]
    updated_at: UtcDateTime


OrderPage = Page[OrderSummary]

Target = Literal["CONFIRMED", "PROCESSING", "SHIPPED", "DELIVERED", "CANCELED"]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Target = Field(description="REFUNDED comes from refunds, not from here")
    reason: ShortText | None = None


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: ShortText | None = None


class ShipmentItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: Ident
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class ShipmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    carrier: Line
    shipping_method: Line | None = Field(default=None,
                                         description="The rate chosen at checkout when absent")
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                      max_length=100,
                                                      pattern=r"^[^\x00]*$")] | None = None
    tracking_url: Annotated[str, StringConstraints(max_length=500,
                                                   pattern=r"^https?://\S*$")] | None = None
    shipping_cost: MoneyIn | None = Field(default=None,
                                          description="The order's shipping cost when absent")
    estimated_delivery_at: UtcIn | None = None
    items: list[ShipmentItemIn] | None = Field(
        default=None, max_length=200, description="Everything not yet shipped when absent")


class ShipmentUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: ShipmentStatus | None = None
    tracking_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                      max_length=100,
                                                      pattern=r"^[^\x00]*$")] | None = None
    tracking_url: Annotated[str, StringConstraints(max_length=500,
                                                   pattern=r"^https?://\S*$")] | None = None
    estimated_delivery_at: UtcIn | None = None


class ShipmentRead(BaseModel):
    id: str
    order_id: str
    carrier: str
    tracking_number: str | None
    tracking_url: str | None
    shipping_method: str
    shipping_cost: Decimal
    status: ShipmentStatus
    shipped_at: UtcDateTime | None
    estimated_delivery_at: UtcDateTime | None
    delivered_at: UtcDateTime | None
    items: list[Any]
    created_at: UtcDateTime

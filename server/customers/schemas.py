"""Wire schemas of customers, their addresses, stats and order history."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Name, Page, ShortText
from server.customers.models import AddressType
from stormcom_pos.domain.enums import (
    FulfillmentStatus,
    OrderChannel,
    OrderStatus,
    PaymentStatus,
)

Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254,
                                         pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40,
                                         pattern=r"^\+?[0-9][0-9 ()./x-]*$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                           pattern=r"^[A-Za-z]{2}$")]
PostalCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=20, pattern=r"^[A-Za-z0-9 -]+$")]
Line = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200,
                                        pattern=r"^[^\x00]*$")]


class _Forbid(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AddressCreate(_Forbid):
    type: AddressType = AddressType.SHIPPING
    first_name: Name
    last_name: Line | None = None
    company: Line | None = None
    address1: Name
    address2: Line | None = None
    city: Name
    state: Line | None = None
    postal_code: PostalCode
    country: Country = Field(description="ISO 3166-1 alpha-2, e.g. BD or US")
    phone: Phone | None = None
    is_default: bool = False


class AddressUpdate(_Forbid):
    type: AddressType | None = None
    first_name: Name | None = None
    last_name: Line | None = None
    company: Line | None = None
    address1: Name | None = None
    address2: Line | None = None
    city: Name | None = None
    state: Line | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    phone: Phone | None = None
    is_default: bool | None = None


class AddressRead(BaseModel):
    id: str
    customer_id: str
    type: AddressType
    first_name: str
    last_name: str | None
    company: str | None
    address1: str
    address2: str | None
    city: str
    state: str | None
    postal_code: str
    country: str
    phone: str | None
    is_default: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class CustomerCreate(_Forbid):
    first_name: Name
    last_name: Line | None = None
    email: Email | None = Field(default=None, description="Unique in the store")
    phone: Phone | None = None
    is_guest: bool = False
    language: Language = "en"
    marketing_opt_in: bool = False
    is_tax_exempt: bool = False
    tax_exempt_reason: ShortText | None = Field(
        default=None, description="Required when is_tax_exempt (a certificate number...)")
    addresses: list[AddressCreate] = Field(default_factory=list, max_length=10)


class CustomerUpdate(_Forbid):
    first_name: Name | None = None
    last_name: Line | None = None
    email: Email | None = None
    phone: Phone | None = None
    is_guest: bool | None = None
    language: Language | None = None
    marketing_opt_in: bool | None = None
    is_tax_exempt: bool | None = None
    tax_exempt_reason: ShortText | None = None


class CustomerStats(BaseModel):
    order_count: int = Field(description="Orders of any status")
    paid_order_count: int
    lifetime_value: Decimal = Field(
        description="Paid orders' totals (canceled excluded) minus completed refunds")
    last_order_at: UtcDateTime | None


class CustomerListItem(BaseModel):
    id: str
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    is_guest: bool
    is_tax_exempt: bool
    stats: CustomerStats
    created_at: UtcDateTime


class CustomerRead(BaseModel):
    id: str
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    is_guest: bool
    email_verified: bool
    language: str
    marketing_opt_in: bool
    is_tax_exempt: bool
    tax_exempt_reason: str | None
    stats: CustomerStats
    addresses: list[AddressRead]
    created_at: UtcDateTime
    updated_at: UtcDateTime


CustomerPage = Page[CustomerListItem]


class CustomerOrder(BaseModel):
    id: str
    order_number: str
    channel: OrderChannel
    status: OrderStatus
    payment_status: PaymentStatus
    fulfillment_status: FulfillmentStatus
    total: Decimal
    currency: str
    created_at: UtcDateTime


CustomerOrderPage = Page[CustomerOrder]

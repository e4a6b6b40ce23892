"""Wire schemas of shipping zones, their rates, and rate quotes."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Measure, MoneyIn, Name, Page
from stormcom_pos.domain.enums import ShippingRateType

CountryCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                               pattern=r"^([A-Za-z]{2}|\*)$")]
StateCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=100, pattern=r"^[^\x00]*$")]
PostalPattern = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                 max_length=20, pattern=r"^[A-Za-z0-9 *-]+$")]
Days = Annotated[int, Field(ge=0, le=365)]


class ZoneFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    countries: list[CountryCode] | None = Field(default=None, max_length=300,
                                                description="ISO codes, or '*'; empty = any")
    states: list[StateCode] | None = Field(default=None, max_length=300)
    postal_codes: list[PostalPattern] | None = Field(
        default=None, max_length=500, description="'90*' is a prefix; '*' matches any")
    is_active: bool | None = None


class ShippingZoneCreate(ZoneFields):
    name: Name


class ShippingZoneUpdate(ZoneFields):
    name: Name | None = None


class RateConditionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min_weight: Measure | None = Field(default=None, description="kg, inclusive")
    max_weight: Measure | None = None
    min_price: MoneyIn | None = Field(default=None, description="merchandise subtotal")
    max_price: MoneyIn | None = None

    @model_validator(mode="after")
    def _ordered(self) -> RateConditionsIn:
        for low, high in ((self.min_weight, self.max_weight), (self.min_price, self.max_price)):
            if low is not None and high is not None and low > high:
                raise ValueError("a minimum cannot exceed its maximum")
        return self


class RateFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate_type: ShippingRateType | None = None
    free_shipping_threshold: MoneyIn | None = None
    conditions: RateConditionsIn | None = None
    min_delivery_days: Days | None = None
    max_delivery_days: Days | None = None
    is_active: bool | None = None

    @model_validator(mode="after")
    def _days(self) -> RateFields:
        low, high = self.min_delivery_days, self.max_delivery_days
        if low is not None and high is not None and low > high:
            raise ValueError("min_delivery_days cannot exceed max_delivery_days")
        return self


class ShippingRateCreate(RateFields):
    name: Name
    cost: MoneyIn = Field(description="An amount, or a percent of the subtotal (PERCENTAGE)")


class ShippingRateUpdate(RateFields):
    name: Name | None = None
    cost: MoneyIn | None = None


class RateConditionsRead(BaseModel):
    min_weight: Decimal | None = None
    max_weight: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None


class ShippingRateRead(BaseModel):
    id: str
    zone_id: str
    name: str
    rate_type: ShippingRateType
    cost: Decimal
    free_shipping_threshold: Decimal | None
    conditions: RateConditionsRead
    min_delivery_days: int | None
    max_delivery_days: int | None
    is_active: bool


class ShippingZoneRead(BaseModel):
    id: str
    name: str
    countries: list[str]
    states: list[str]
    postal_codes: list[str]
    is_active: bool
    rates: list[ShippingRateRead]
    created_at: UtcDateTime
    updated_at: UtcDateTime


ShippingZonePage = Page[ShippingZoneRead]


class QuoteAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    country: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z]{2}$")]
    state: StateCode | None = None
    postal_code: PostalPattern | None = None


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: QuoteAddress
    subtotal: MoneyIn = Field(description="Merchandise after discounts, before tax")
    weight_kg: Measure = Decimal(0)


class QuoteRead(BaseModel):
    zone_id: str
    rate_id: str
    name: str
    cost: Decimal
    is_free: bool
    min_delivery_days: int | None
    max_delivery_days: int | None

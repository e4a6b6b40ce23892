"""Wire schemas of tax rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Name, Page

Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                           pattern=r"^[A-Za-z]{2}$")]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                          pattern=r"^[^\x00]*$")]
RateValue = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6,
                                     description="A fraction: 0.0825 is 8.25%")]
Priority = Annotated[int, Field(ge=0, le=1000, description="Rates apply by ascending priority")]


class TaxRateCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    country: Country = Field(description="ISO 3166-1 alpha-2")
    state: Region | None = None
    city: Region | None = None
    postal_code: Region | None = None
    rate: RateValue
    is_compound: bool = False
    priority: Priority = 0
    is_active: bool = True


class TaxRateUpdate(BaseModel):
    """Only the fields sent change; send null to clear state, city or postal code."""

    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    country: Country | None = None
    state: Region | None = None
    city: Region | None = None
    postal_code: Region | None = None
    rate: RateValue | None = None
    is_compound: bool | None = None
    priority: Priority | None = None
    is_active: bool | None = None


class TaxRateRead(BaseModel):
    id: str
    name: str
    country: str
    state: str | None
    city: str | None
    postal_code: str | None
    rate: Decimal
    is_compound: bool
    priority: int
    is_active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


TaxRatePage = Page[TaxRateRead]

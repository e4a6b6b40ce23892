"""Wire schemas of drawer sessions (back office): open, cash movements, X data, close."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Ident, Page
from stormcom_pos.domain.enums import CashMovementType, PaymentMethod, PosSessionStatus

Cash = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Note = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")]


class SessionOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: Ident = Field(description="The terminal whose drawer this is")
    opening_cash: Cash = Field(description="The float counted into the drawer")
    blind_close: bool = True
    notes: Note | None = None


class CashMovementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: CashMovementType
    amount: Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=200, pattern=r"^[^\x00]*$")]


class CashMovementRead(BaseModel):
    id: str
    pos_session_id: str
    type: CashMovementType
    amount: Decimal
    reason: str | None
    user_id: str
    occurred_at: UtcDateTime


class SessionClose(BaseModel):
    """The blind count: how many of each note and coin, e.g. {"20": 3, "0.25": 8}."""

    model_config = ConfigDict(extra="forbid")
    counted_by_denomination: dict[Annotated[str, StringConstraints(max_length=12)],
                                  Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        max_length=40)
    notes: Note | None = None


class SessionRead(BaseModel):
    """``expected_cash`` and ``cash_difference`` stay null until the drawer is counted."""

    id: str
    device_id: str
    user_id: str
    status: PosSessionStatus
    opened_at: UtcDateTime
    closed_at: UtcDateTime | None
    closed_by_id: str | None
    opening_cash: Decimal
    closing_cash: Decimal | None
    expected_cash: Decimal | None
    cash_difference: Decimal | None
    counted_by_denomination: dict[str, int] | None
    blind_close: bool
    transaction_count: int
    total_sales: Decimal
    notes: str | None


SessionPage = Page[SessionRead]


class TenderLine(BaseModel):
    tender: PaymentMethod
    payments: int
    taken: Decimal
    refunded: Decimal
    change_given: Decimal


class TaxLine(BaseModel):
    name: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    refunded_tax: Decimal


class CashLine(BaseModel):
    opening_float: Decimal
    cash_sales: Decimal
    cash_refunds: Decimal
    pay_ins: Decimal
    pay_outs: Decimal
    drops: Decimal
    expected: Decimal


class XData(BaseModel):
    """A mid-shift read: changes nothing."""

    session_id: str
    currency: str
    generated_at: datetime
    sales_count: int
    sales_total: Decimal
    sales_tax: Decimal
    discounts: Decimal
    refunds_count: int
    refunds_total: Decimal
    net_total: Decimal
    by_tender: list[TenderLine]
    by_tax_rate: list[TaxLine]
    cash: CashLine


class CloseResult(BaseModel):
    """Shown only after the count: what was expected, and the over (+) or short (-)."""

    session: SessionRead
    counted: Decimal
    expected: Decimal
    difference: Decimal
    needs_sign_off: bool = Field(description="Over/short beyond the store's tolerance")

"""Payloads of the terminal's push operations (``sync_protocol.OpKind``), version 1.

Each payload is self-contained: prices, tax rates and amounts *as charged*, the staff member,
the drawer session. The server stores what the till did and flags what looks wrong (a changed
price, stock below zero, a late op after a close); it never re-prices a sale.
Ids are minted by the terminal (cuid2) and kept by the server. Money is Decimal, serialised
as a string.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from stormcom_pos.domain.enums import CashMovementType, PaymentMethod, RefundReason
from stormcom_pos.domain.sync_protocol import OpKind


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaxLine(_Payload):
    tax_rate_id: str | None
    name: str
    rate: Decimal
    amount: Decimal


class DiscountLine(_Payload):
    source: Literal["flash_sale", "coupon", "manual"]
    code: str | None = None  # coupon code or flash sale id
    reason: str | None = None  # manual discounts carry a reason...
    approved_by: str | None = None  # ...and the approving user
    amount: Decimal


class SaleLine(_Payload):
    id: str
    variant_id: str | None
    product_id: str | None
    name: str
    sku: str | None
    quantity: Decimal = Field(gt=0)
    unit_price: Decimal  # after any flash sale or approved override
    original_unit_price: Decimal  # the price the till's catalog had
    price_override_approved_by: str | None = None
    discounts: list[DiscountLine] = Field(default_factory=list)
    taxes: list[TaxLine] = Field(default_factory=list)
    net: Decimal  # quantity x unit price - discounts (tax-exclusive amount)
    tax: Decimal
    total: Decimal


class SalePayment(_Payload):
    id: str
    method: PaymentMethod
    amount: Decimal  # what the store keeps (net of change)
    tendered: Decimal | None = None
    change: Decimal | None = None
    reference: str | None = None  # card terminal reference, gift card or credit account


class OrderSubmit(_Payload):
    order_id: str
    receipt_number: str
    pos_session_id: str
    cashier_id: str
    customer_id: str | None = None
    currency: str
    prices_include_tax: bool
    lines: list[SaleLine] = Field(min_length=1)
    order_discounts: list[DiscountLine] = Field(default_factory=list)
    coupon_codes: list[str] = Field(default_factory=list)
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    rounding_adjustment: Decimal = Decimal(0)
    total: Decimal
    payments: list[SalePayment] = Field(min_length=1)
    completed_at: datetime


class RefundLine(_Payload):
    order_item_id: str
    quantity: Decimal = Field(gt=0)
    amount: Decimal  # net refunded from the line, tax excluded (refunds.LineRefund.net)
    tax: Decimal  # tax refunded from the line
    restock: bool = True


class RefundSubmit(_Payload):
    refund_id: str
    order_id: str
    pos_session_id: str | None
    cashier_id: str
    approved_by: str | None
    reason: RefundReason
    note: str | None = None
    lines: list[RefundLine] = Field(default_factory=list)  # empty: a refund by amount
    amount: Decimal  # handed back in total, tax included (sum of line amount + tax)
    tax: Decimal  # the tax part of amount
    tender: PaymentMethod
    # When the money went back (the till's clock). Optional: refunds recorded before it was
    # sent have none, and reports place them at their own time.
    refunded_at: datetime | None = None


class DrawerOpen(_Payload):
    pos_session_id: str
    cashier_id: str
    opening_float: Decimal
    counted_by_denomination: dict[str, int] | None = None
    opened_at: datetime


class CashMove(_Payload):
    movement_id: str
    pos_session_id: str
    type: CashMovementType
    amount: Decimal = Field(gt=0)
    reason: str
    user_id: str
    approved_by: str | None = None


class DrawerClose(_Payload):
    pos_session_id: str
    closed_by: str
    counted_by_denomination: dict[str, int]
    counted_total: Decimal
    expected_cash: Decimal  # what the till computed; the server recomputes and flags drift
    blind: bool = True
    z_number: int
    closed_at: datetime


class DrawerNoSale(_Payload):
    """The drawer opened without a sale: permission-gated at the till, audited on the server."""

    event_id: str
    pos_session_id: str
    user_id: str
    approved_by: str | None = None
    reason: str = Field(min_length=1, max_length=500)
    opened_at: datetime


class StockAdjust(_Payload):
    movement_id: str
    variant_id: str
    quantity_change: int
    reason: str
    note: str | None = None


class StockCount(_Payload):
    count_id: str
    variant_id: str
    counted: int
    seen_on_hand: int  # what the counter's screen showed: the delta is counted - seen


class CustomerCreate(_Payload):
    customer_id: str
    first_name: str
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


PAYLOADS: dict[OpKind, type[BaseModel]] = {
    OpKind.ORDER_SUBMIT: OrderSubmit,
    OpKind.REFUND_SUBMIT: RefundSubmit,
    OpKind.DRAWER_OPEN: DrawerOpen,
    OpKind.CASH_MOVE: CashMove,
    OpKind.DRAWER_CLOSE: DrawerClose,
    OpKind.DRAWER_NO_SALE: DrawerNoSale,
    OpKind.STOCK_ADJUST: StockAdjust,
    OpKind.STOCK_COUNT: StockCount,
    OpKind.CUSTOMER_CREATE: CustomerCreate,
}

"""Wire schemas of payments, gateway settings, and refunds."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.schema_types import UtcDateTime
from server.catalog.wire import Ident, Page
from stormcom_pos.domain.enums import (
    PaymentMethod,
    PaymentTransactionStatus,
    RefundReason,
    RefundStatus,
)

Amount = Annotated[Decimal, Field(gt=0, max_digits=10, decimal_places=2)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                             pattern=r"^[^\x00]*$")]
Secret = Annotated[str, StringConstraints(min_length=8, max_length=200, pattern=r"^[!-~]+$")]
Recorded = Literal["CASH", "CARD_PRESENT", "BANK_TRANSFER", "CASH_ON_DELIVERY"]


class PaymentCreate(BaseModel):
    """A payment taken outside an online gateway."""

    model_config = ConfigDict(extra="forbid")
    method: Recorded
    amount: Amount = Field(description="What the order receives (for cash: kept, not tendered)")
    tendered_amount: Amount | None = Field(default=None, description="CASH: handed over")
    reference: Reference | None = Field(
        default=None, description="CARD_PRESENT: the card terminal's reference (required); "
                                  "BANK_TRANSFER: the bank's reference")
    received: bool = Field(default=False, description="BANK_TRANSFER: the money has arrived")
    pos_session_id: Ident | None = Field(default=None,
                                         description="CASH: the drawer session that took it")


class OnlinePaymentCreate(BaseModel):
    """Charge through a payment gateway; the outcome arrives by webhook."""

    model_config = ConfigDict(extra="forbid")
    gateway: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")] = "test"
    token: Reference = Field(description="The card token from the gateway's checkout")
    amount: Amount | None = Field(default=None, description="The balance due when absent")


class PaymentRead(BaseModel):
    id: str
    order_id: str
    method: PaymentMethod
    gateway: str
    amount: Decimal
    currency: str
    tendered_amount: Decimal | None
    change_amount: Decimal | None
    status: PaymentTransactionStatus
    transaction_id: str | None
    reference: str | None
    pos_session_id: str | None
    paid_at: UtcDateTime | None
    failed_at: UtcDateTime | None
    error_message: str | None
    created_at: UtcDateTime


PaymentPage = Page[PaymentRead]


class GatewayConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    gateway: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,32}$")]
    public_key: Reference | None = None
    secret_key: Secret
    webhook_secret: Secret
    is_test_mode: bool = True
    is_active: bool = True


class GatewayConfigRead(BaseModel):
    id: str
    gateway: str
    public_key: str | None
    has_secret_key: bool
    has_webhook_secret: bool
    is_test_mode: bool
    is_active: bool
    updated_at: UtcDateTime


class WebhookAck(BaseModel):
    received: bool = True
    event_id: str | None = None
    applied: bool = Field(description="False when the event changed nothing (a replay)")


class RefundItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    order_item_id: Ident
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class RefundCreate(BaseModel):
    """A refund by items (with their share of tax) or by a plain amount, never both."""

    model_config = ConfigDict(extra="forbid")
    items: list[RefundItemIn] | None = Field(default=None, min_length=1, max_length=200)
    amount: Amount | None = None
    restock: bool = Field(default=True, description="Items only: put the units back in stock")
    reason: RefundReason = RefundReason.CUSTOMER_REQUEST
    notes: Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00]*$")] | None = None
    payment_id: Ident | None = Field(default=None,
                                     description="The payment to refund; chosen when absent")
    tender: PaymentMethod | None = Field(default=None,
                                         description="How the money goes back; the payment's "
                                                     "method when absent")
    pos_session_id: Ident | None = Field(default=None,
                                         description="A CASH refund out of this drawer")


class RefundRead(BaseModel):
    id: str
    order_id: str
    payment_id: str | None
    amount: Decimal
    tax_amount: Decimal
    reason: RefundReason
    notes: str | None
    items: list[dict[str, Any]]
    status: RefundStatus
    processed_at: UtcDateTime | None
    transaction_id: str | None
    tender: PaymentMethod | None
    pos_session_id: str | None
    user_id: str | None
    created_at: UtcDateTime


RefundPage = Page[RefundRead]

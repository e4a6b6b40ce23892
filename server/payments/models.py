"""Payments: the seed's ``Payment`` (#26), ``PaymentGatewayConfig`` (#27) and ``Refund`` (#31).

``Refund`` lives here (the seed files it under "Refunds & Returns"): it points at both an
order and a payment, and keeping it beside ``Payment`` keeps the dependency one-way
(payments -> orders).

Deviations from ``data-model.md`` and why:

Payment
- Has ``store_id`` (tenancy on child tables, product-decisions §2).
- ``transaction_id`` is unique per store, ``(store_id, transaction_id)``, not globally
  (product-decisions §2); the seed's index on ``transaction_id`` alone is kept for
  gateway webhooks that arrive with only the gateway's id.
- ``method`` uses the shared ``PaymentMethod``, which gains CASH, CARD_PRESENT,
  STORE_CREDIT and GIFT_CARD (product-decisions §2).
- Added ``reference``: the external card terminal's reference (or the masked gift card /
  store-credit account) of a CARD_PRESENT, GIFT_CARD or STORE_CREDIT tender; the seed only
  has the online gateway's ``transaction_id``.
- Added ``tendered_amount`` and ``change_amount`` for cash: ``amount`` is what the drawer
  keeps, so expected cash counts the sale once and never the change given
  (product-decisions §3, "Change given is not counted twice").
- Added ``pos_session_id``: the drawer session that took the tender, which is what the
  expected-cash figure sums. ``occurred_at`` is the till's clock (receipts, reports only).

PaymentGatewayConfig: as the seed.

Refund
- Has ``store_id`` (product-decisions §2). ``payment_id`` is SET NULL on delete, which is
  Prisma's default for an optional relation.
- Added ``tax_amount`` (the tax part of ``amount``, which stays the total refunded:
  product-decisions §3a.12 refunds net and tax separately), ``tender`` (how the money went
  back; CASH means it left the drawer of ``pos_session_id`` and counts as a cash refund in
  expected cash), ``pos_session_id`` and ``device_id`` (a POS refund, which may be made in
  a later session than the sale), ``user_id`` (who made it) and ``approved_by_id`` (a
  CASHIER refunds only with a manager's approval, product-decisions §2), and
  ``occurred_at`` (the till's clock).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import ID_LENGTH, Entity, Money, StoreOwnedMixin, enum_column, fk
from server.db.encrypted import EncryptedString
from stormcom_pos.domain.enums import (
    PaymentMethod,
    PaymentTransactionStatus,
    RefundReason,
    RefundStatus,
)

ZERO = Decimal("0")


class Payment(StoreOwnedMixin, Entity):
    """One payment transaction (or POS tender) against an order."""

    __table_args__ = (
        UniqueConstraint("store_id", "transaction_id"),
        Index("ix_payment_order_id", "order_id"),
        Index("ix_payment_transaction_id", "transaction_id"),
        Index("ix_payment_status", "status"),
        Index("ix_payment_pos_session_id", "pos_session_id"),
    )

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("order", ondelete="CASCADE"))

    # Payment method
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    gateway: Mapped[str]  # sslcommerz, bkash, stripe, paypal, bank_transfer, cod, pos

    # Amounts
    amount: Mapped[Decimal] = mapped_column(Money(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # Cash: what the customer handed over, and the change given back (amount = kept).
    tendered_amount: Mapped[Decimal | None] = mapped_column(Money(10, 2))
    change_amount: Mapped[Decimal | None] = mapped_column(Money(10, 2))

    # Status
    status: Mapped[PaymentTransactionStatus] = mapped_column(
        enum_column(PaymentTransactionStatus), default=PaymentTransactionStatus.PENDING
    )

    # Gateway references
    transaction_id: Mapped[str | None]  # SSLCommerz/bKash/Stripe charge id, PayPal txn id
    gateway_response: Mapped[dict[str, Any] | None]  # full gateway response for debugging
    # Card terminal reference / masked gift card or store-credit account (POS tenders)
    reference: Mapped[str | None]

    # Metadata
    paid_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)

    # POS: the drawer session that took the tender; the till's clock
    pos_session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("pos_session"))
    occurred_at: Mapped[datetime | None]


class PaymentGatewayConfig(StoreOwnedMixin, Entity):
    """A store's credentials and settings for one payment gateway."""

    __table_args__ = (
        UniqueConstraint("store_id", "gateway"),
        Index("ix_payment_gateway_config_store_id_is_active", "store_id", "is_active"),
    )

    # Gateway details
    gateway: Mapped[str]  # sslcommerz, bkash, stripe, paypal
    is_active: Mapped[bool] = mapped_column(default=True)

    # Credentials (encrypted at application level)
    public_key: Mapped[str | None]
    secret_key: Mapped[str] = mapped_column(EncryptedString())
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedString())

    # Configuration
    is_test_mode: Mapped[bool] = mapped_column(default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # gateway-specific


class Refund(StoreOwnedMixin, Entity):
    """Money returned against an order, optionally against one payment."""

    __table_args__ = (
        Index("ix_refund_order_id", "order_id"),
        Index("ix_refund_payment_id", "payment_id"),
        Index("ix_refund_status", "status"),
        Index("ix_refund_pos_session_id", "pos_session_id"),
    )

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("order", ondelete="CASCADE"))
    payment_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("payment", ondelete="SET NULL")
    )

    # Refund details
    amount: Mapped[Decimal] = mapped_column(Money(10, 2))  # total refunded, tax included
    tax_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)  # part of amount
    reason: Mapped[RefundReason] = mapped_column(enum_column(RefundReason))
    notes: Mapped[str | None] = mapped_column(Text)

    # Items being refunded: [{order_item_id, quantity, amount, tax_amount}]
    items: Mapped[list[Any]] = mapped_column(default=list)

    # Status
    status: Mapped[RefundStatus] = mapped_column(
        enum_column(RefundStatus), default=RefundStatus.PENDING
    )

    # Processing
    processed_at: Mapped[datetime | None]
    refund_method: Mapped[str | None]  # same_as_payment, store_credit, original_payment
    transaction_id: Mapped[str | None]  # gateway refund id
    # How the money went back; CASH = out of the drawer of pos_session_id.
    tender: Mapped[PaymentMethod | None] = mapped_column(enum_column(PaymentMethod))

    # POS
    pos_session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("pos_session"))
    device_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("device"))
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("user", ondelete="SET NULL"))
    approved_by_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("user", ondelete="SET NULL")
    )
    occurred_at: Mapped[datetime | None]  # the till's clock

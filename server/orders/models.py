"""Orders: the seed's ``Order`` (#24) and ``OrderItem`` (#25).

Deviations from ``data-model.md`` and why:

Order
- ``order_number`` is unique per store, ``(store_id, order_number)``, not globally
  (product-decisions §2). That unique key also serves the seed's ``@@index([storeId,
  orderNumber])``, so no second, identical index is created.
- POS additions (product-decisions §2): ``channel`` (ONLINE | POS), ``pos_session_id``,
  ``device_id`` and ``receipt_number`` (``<store code>-<terminal no>-<6-digit counter>``,
  assigned offline; unique per store, NULL for online orders, and NULLs never collide in a
  unique key on PostgreSQL or SQLite). A POS order also stores its receipt number as its
  ``order_number`` (the two formats cannot collide with ``ORD-<year>-<5 digits>``).
- ``customer_email`` is nullable: a walk-in POS sale has no customer. ``shipping_address``
  and ``billing_address`` stay NOT NULL and default to ``{}`` (a POS sale stores ``{}``).
- Added ``cashier_id`` (the staff member who rang up a POS sale; every pushed op carries
  one), ``occurred_at`` (the till's clock at the sale, printed on the receipt and used in
  reports; never used for ordering, and ``created_at`` stays server time, so device clock
  drift cannot corrupt order timestamps) and ``currency`` (a snapshot: rounding depends
  on the currency's minor unit and a store may change its currency later).
- Added ``prices_include_tax``, ``tax_rounding`` (per line or per order, a store setting
  that can change, so each order keeps the mode it was priced with) and ``tax_lines``
  (per-rate tax breakdown of the whole order, as charged) so a receipt and the tax reports
  can be rebuilt without recomputing with today's rates; ``discount_lines`` lists every
  applied discount (coupons, up to 3 when stacking is on, flash sales, manual POS
  discounts) with its amount, since the seed's single ``coupon_code`` (kept: the first
  code) cannot hold several;
  ``rounding_adjustment`` is the cash-rounding difference of a cash-tendered sale
  (product-decisions §3a.13) so that payments + rounding = total exactly.
- Added ``anomalies`` (JSON list of flags such as ``price_mismatch``, ``negative_stock``,
  ``clock_skew``) and an indexed ``flagged`` boolean: an offline sale is never rejected,
  its anomalies are flagged for the back office (product-decisions §3).

OrderItem
- Has ``store_id`` (tenancy on child tables, product-decisions §2) and, by house
  convention (``Entity``), ``updated_at`` (the seed has only ``createdAt``; lines change
  when they are fulfilled, shipped or refunded).
- ``quantity`` (and the fulfilled/shipped/refunded quantities) are NUMERIC(12,3), not the seed's
  Int: a till sells weighed items (1.235 kg of apples) from scale labels.
- Added ``tax_lines`` (per-rate breakdown of the line's rounded tax: rate id, name, rate,
  compound flag, taxable base, amount), ``discount_lines`` (this line's share of each
  discount, allocated by largest remainder), ``original_unit_price`` (catalog price before
  a flash sale, for "you saved" on receipts and the ``price_mismatch`` check), ``total``
  (what the line charges: subtotal plus tax, or the subtotal when prices include tax),
  ``refunded_amount`` and ``refunded_tax_amount`` (money already refunded from this line:
  refunding the last units refunds exactly what remains, product-decisions §3a.12; the
  seed's ``quantity_refunded`` counts the units) and ``anomalies`` (line-level flags).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import (
    ID_LENGTH,
    Entity,
    Money,
    SoftDeleteMixin,
    StoreOwnedMixin,
    enum_column,
    fk,
)
from stormcom_pos.domain.enums import (
    FulfillmentStatus,
    OrderChannel,
    OrderStatus,
    PaymentStatus,
)
from stormcom_pos.domain.tax import TaxRounding

ZERO = Decimal("0")


class Order(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A customer order, online or rung up at a till."""

    __tablename__ = "order"
    __table_args__ = (
        UniqueConstraint("store_id", "order_number"),
        UniqueConstraint("store_id", "receipt_number"),
        Index("ix_order_store_id_status", "store_id", "status"),
        Index("ix_order_store_id_created_at", "store_id", "created_at"),
        Index("ix_order_customer_id", "customer_id"),
        Index("ix_order_auto_cancel_at", "auto_cancel_at"),
        Index("ix_order_pos_session_id", "pos_session_id"),
        Index("ix_order_device_id", "device_id"),
        Index("ix_order_store_id_flagged", "store_id", "flagged"),
    )

    customer_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("customer", ondelete="SET NULL")
    )

    # Identification: ORD-<year>-<5 digits> online; the receipt number for a POS sale.
    order_number: Mapped[str]

    # Pricing
    subtotal: Mapped[Decimal] = mapped_column(Money(10, 2))  # sum of items
    shipping_cost: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    tax_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    discount_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    # subtotal + shipping + tax - discount (tax excluded from subtotal when prices exclude it)
    total: Mapped[Decimal] = mapped_column(Money(10, 2))
    currency: Mapped[str] = mapped_column(String(3), default="USD")  # ISO 4217 snapshot
    prices_include_tax: Mapped[bool] = mapped_column(default=False)
    # Tax rounded per line (default) or once per rate over the order: a store setting
    # that may change, so each order records the mode it was priced with.
    tax_rounding: Mapped[TaxRounding] = mapped_column(
        enum_column(TaxRounding), default=TaxRounding.PER_LINE
    )
    # [{tax_rate_id, name, rate, is_compound, base, amount}] as charged
    tax_lines: Mapped[list[Any]] = mapped_column(default=list)
    # [{kind: coupon|flash_sale|manual, code, discount_type, amount}] as applied
    discount_lines: Mapped[list[Any]] = mapped_column(default=list)
    # Cash rounding of a cash-tendered sale: payments + rounding_adjustment == total.
    rounding_adjustment: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)

    # Applied promotions (the first code; all of them are in discount_lines)
    coupon_code: Mapped[str | None]

    # Status tracking
    status: Mapped[OrderStatus] = mapped_column(
        enum_column(OrderStatus), default=OrderStatus.PENDING
    )
    payment_status: Mapped[PaymentStatus] = mapped_column(
        enum_column(PaymentStatus), default=PaymentStatus.PENDING
    )
    fulfillment_status: Mapped[FulfillmentStatus] = mapped_column(
        enum_column(FulfillmentStatus), default=FulfillmentStatus.UNFULFILLED
    )

    # Addresses (denormalized for order history; {} for a POS sale)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(default=dict)
    billing_address: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Customer info (snapshot at order time; no email for a walk-in POS sale)
    customer_email: Mapped[str | None]
    customer_phone: Mapped[str | None]

    # Metadata
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]
    notes: Mapped[str | None] = mapped_column(Text)

    # Auto-cancel tracking: when to cancel if still unpaid (online orders only)
    auto_cancel_at: Mapped[datetime | None]

    # POS (product-decisions §2)
    channel: Mapped[OrderChannel] = mapped_column(
        enum_column(OrderChannel), default=OrderChannel.ONLINE
    )
    pos_session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("pos_session"))
    device_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("device"))
    receipt_number: Mapped[str | None] = mapped_column(String(64))
    cashier_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("user", ondelete="SET NULL")
    )
    # The till's clock when the sale was made: for receipts and reports, never for ordering.
    occurred_at: Mapped[datetime | None]

    # Anomalies of an accepted sale, for the back office: flag, never drop.
    anomalies: Mapped[list[Any]] = mapped_column(default=list)
    flagged: Mapped[bool] = mapped_column(default=False)

    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OrderItem.created_at",
    )


class OrderItem(StoreOwnedMixin, Entity):
    """One line of an order, with its rounded amounts stored as charged."""

    __table_args__ = (
        Index("ix_order_item_order_id", "order_id"),
        Index("ix_order_item_variant_id", "variant_id"),
    )

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("order", ondelete="CASCADE"))
    variant_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("variant"))

    # Product snapshot (denormalized for order history)
    product_name: Mapped[str]
    variant_sku: Mapped[str]
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"size": "M"}

    # Pricing (every amount rounded, as charged)
    quantity: Mapped[Decimal] = mapped_column(Money(12, 3))
    unit_price: Mapped[Decimal] = mapped_column(Money(10, 2))  # after any flash sale
    original_unit_price: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # catalog price
    discount_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    tax_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    subtotal: Mapped[Decimal] = mapped_column(Money(10, 2))  # quantity * unit_price - discount
    total: Mapped[Decimal] = mapped_column(Money(10, 2))  # what the line charges
    # [{tax_rate_id, name, rate, is_compound, base, amount}], amounts rounded per rate
    tax_lines: Mapped[list[Any]] = mapped_column(default=list)
    # [{kind, code, amount}]: this line's share of each discount
    discount_lines: Mapped[list[Any]] = mapped_column(default=list)

    # Fulfillment
    quantity_fulfilled: Mapped[Decimal] = mapped_column(Money(12, 3), default=Decimal(0))
    quantity_shipped: Mapped[Decimal] = mapped_column(Money(12, 3), default=Decimal(0))
    quantity_refunded: Mapped[Decimal] = mapped_column(Money(12, 3), default=Decimal(0))
    # Money already refunded from this line (net of tax, and tax), product-decisions §3a.12
    refunded_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)
    refunded_tax_amount: Mapped[Decimal] = mapped_column(Money(10, 2), default=ZERO)

    # Line-level flags of an accepted sale: inactive_product, price_mismatch, negative_stock
    anomalies: Mapped[list[Any]] = mapped_column(default=list)

    order: Mapped[Order] = relationship(back_populates="items")

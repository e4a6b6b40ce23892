"""Promotions: the seed's ``Coupon`` (#32), ``FlashSale`` (#33) and ``NewsletterCampaign`` (#34),
with ``CampaignStatus``. ``DiscountType`` (``stormcom_pos.domain.enums``) and
``FlashSaleStatus`` (``stormcom_pos.domain.discounts``, re-exported here) are the shared
enums, with the seed's members.

Deviations from ``data-model.md`` and why:

- ``Coupon.buy_quantity`` and ``Coupon.get_quantity`` (nullable) are new: the seed has a
  BUY_X_GET_Y discount type but nowhere to store X and Y. ``discount_value`` is then the
  percent off the "get" units (100 = free), product-decisions §3a.10. A check constraint
  requires both (at least 1) on a BUY_X_GET_Y coupon.
- The coupon eligibility lists are JSON arrays as in the seed; an empty list means no
  restriction (the seed's ``"all"``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Entity, Money, SoftDeleteMixin, StoreOwnedMixin, enum_column
from stormcom_pos.domain.discounts import FlashSaleStatus
from stormcom_pos.domain.enums import DiscountType

__all__ = [
    "CampaignStatus",
    "Coupon",
    "FlashSale",
    "FlashSaleStatus",
    "NewsletterCampaign",
]


class CampaignStatus(enum.StrEnum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    SENDING = "SENDING"
    SENT = "SENT"
    CANCELED = "CANCELED"


class Coupon(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A discount code with its conditions, validity and usage limits."""

    __table_args__ = (
        UniqueConstraint("store_id", "code"),
        Index(
            "ix_coupon_store_id_is_active_valid_from_valid_to",
            "store_id",
            "is_active",
            "valid_from",
            "valid_to",
        ),
        CheckConstraint(
            # COALESCE: a NULL comparison would make the CHECK pass
            "discount_type <> 'BUY_X_GET_Y'"
            " OR (COALESCE(buy_quantity, 0) >= 1 AND COALESCE(get_quantity, 0) >= 1)",
            name="buy_x_get_y_quantities",
        ),
    )

    # Identification
    code: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]

    # Discount: a percentage or a fixed amount; for BUY_X_GET_Y the percent off the Y units
    discount_type: Mapped[DiscountType] = mapped_column(enum_column(DiscountType))
    discount_value: Mapped[Decimal] = mapped_column(Money(10, 2))
    # BUY_X_GET_Y only: buy X (buy_quantity) eligible units, get Y (get_quantity) of the
    # cheapest ones discounted; discounted units = floor(eligible / (X + Y)) * Y.
    buy_quantity: Mapped[int | None]
    get_quantity: Mapped[int | None]

    # Conditions
    min_order_value: Mapped[Decimal | None] = mapped_column(Money(10, 2))
    max_discount: Mapped[Decimal | None] = mapped_column(Money(10, 2))  # caps percentages

    # Applicability (JSON arrays; empty = no restriction)
    eligible_products: Mapped[list[Any]] = mapped_column(default=list)  # product ids
    eligible_categories: Mapped[list[Any]] = mapped_column(default=list)  # category ids
    eligible_customers: Mapped[list[Any]] = mapped_column(default=list)  # customer ids

    # Validity (inclusive at both ends)
    valid_from: Mapped[datetime]
    valid_to: Mapped[datetime | None]

    # Usage limits
    usage_limit_per_coupon: Mapped[int | None]  # total uses across all customers
    usage_limit_per_customer: Mapped[int | None]
    current_usage_count: Mapped[int] = mapped_column(default=0)

    is_active: Mapped[bool] = mapped_column(default=True)


class FlashSale(StoreOwnedMixin, Entity):
    """A time-limited price cut on some or all products."""

    __table_args__ = (
        Index(
            "ix_flash_sale_store_id_status_start_at_end_at",
            "store_id",
            "status",
            "start_at",
            "end_at",
        ),
    )

    name: Mapped[str]
    description: Mapped[str | None]

    discount_type: Mapped[DiscountType] = mapped_column(enum_column(DiscountType))
    discount_value: Mapped[Decimal] = mapped_column(Money(10, 2))

    products: Mapped[list[Any]] = mapped_column(default=list)  # product ids, or ["all"]

    start_at: Mapped[datetime]
    end_at: Mapped[datetime]

    status: Mapped[FlashSaleStatus] = mapped_column(
        enum_column(FlashSaleStatus), default=FlashSaleStatus.SCHEDULED
    )


class NewsletterCampaign(StoreOwnedMixin, Entity):
    """An email marketing campaign."""

    __table_args__ = (Index("ix_newsletter_campaign_store_id_status", "store_id", "status"),)

    name: Mapped[str]
    subject: Mapped[str]
    content: Mapped[str] = mapped_column(Text)  # HTML

    # {"minOrders": 1, "lastOrderDays": 30}
    audience_filter: Mapped[dict[str, Any]] = mapped_column(default=dict)

    scheduled_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]

    recipient_count: Mapped[int] = mapped_column(default=0)
    open_count: Mapped[int] = mapped_column(default=0)
    click_count: Mapped[int] = mapped_column(default=0)

    status: Mapped[CampaignStatus] = mapped_column(
        enum_column(CampaignStatus), default=CampaignStatus.DRAFT
    )

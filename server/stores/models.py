"""Tenants and their plans.

Seed models implemented (data-model.md §1-3): ``Store`` (+ ``StoreStatus``),
``SubscriptionPlan`` and ``StoreSubscription``. Their enums ``BillingCycle`` and
``SubscriptionStatus`` are shared with the till, so they live in ``stormcom_pos.domain.enums``
and are re-exported here.

Deviations from the seed, and why:

- ``Store.slug``: the seed has ``@unique`` plus ``@@index([slug])``, two indexes on one column;
  here it is one unique index (``ix_store_slug``), which serves both purposes.
- ``StoreSubscription.store_id`` comes from ``StoreOwnedMixin`` (indexed, cascade) and keeps the
  seed's ``@unique`` as a unique constraint: one subscription per store.
- ``StoreSubscription.plan_id`` gets an index (house rule: every foreign-key column leads an
  index, so deleting or re-pointing a plan does not scan the table).
- Store's big one-to-many collections (products, orders, customers, ...) are not declared as
  relationships: every query is filtered by ``store_id`` anyway, and a ``Store`` that lazily
  drags its whole catalog around is a trap. The foreign keys are all there.
- ``SubscriptionPlan.max_*`` limits are nullable: NULL is Enterprise's "unlimited".
- ``Store.code`` (new, unique): the short store code in POS receipt numbers (decisions §3).
- Defaults are Python-side, like ``server.db.base``'s timestamps.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import (
    ID_LENGTH,
    Entity,
    Money,
    SoftDeleteMixin,
    StoreOwnedMixin,
    enum_column,
    utcnow,
)
from stormcom_pos.domain.enums import BillingCycle, SubscriptionStatus

if TYPE_CHECKING:
    from server.identity.models import UserStore


__all__ = [
    "BillingCycle",
    "Store",
    "StoreStatus",
    "StoreSubscription",
    "SubscriptionPlan",
    "SubscriptionStatus",
]


class StoreStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    TRIAL = "TRIAL"
    TRIAL_EXPIRED = "TRIAL_EXPIRED"
    SUSPENDED = "SUSPENDED"
    CLOSED = "CLOSED"


class Store(SoftDeleteMixin, Entity):
    """A tenant. Every store-owned row points here through ``store_id``."""

    # Identification
    name: Mapped[str]
    slug: Mapped[str] = mapped_column(unique=True, index=True)  # {slug}.stormcom.io
    domain: Mapped[str | None] = mapped_column(unique=True)  # custom domain
    # Short code printed in POS receipt numbers: <code>-<terminal no>-<counter> (decisions §3).
    code: Mapped[str] = mapped_column(String(12), unique=True)

    # Status and configuration
    status: Mapped[StoreStatus] = mapped_column(
        enum_column(StoreStatus), default=StoreStatus.ACTIVE, index=True
    )
    timezone: Mapped[str] = mapped_column(default="UTC")
    currency: Mapped[str] = mapped_column(default="USD")  # ISO 4217
    language: Mapped[str] = mapped_column(default="en")

    # Theme and branding
    logo_url: Mapped[str | None]
    favicon_url: Mapped[str | None]
    primary_color: Mapped[str] = mapped_column(default="#000000")
    secondary_color: Mapped[str] = mapped_column(default="#FFFFFF")
    font_family: Mapped[str | None]

    # Contact and legal
    email: Mapped[str]
    phone: Mapped[str | None]
    address: Mapped[str | None]
    tax_id: Mapped[str | None]  # VAT/GST/EIN

    # Onboarding and configuration
    onboarding_completed: Mapped[bool] = mapped_column(default=False)  # CHK054
    allow_coupons_with_flash_sale: Mapped[bool] = mapped_column(default=True)  # CHK060

    # Auto-cancel timeout, idle lock, cash rounding, tax rounding mode, ...
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    subscription: Mapped[StoreSubscription | None] = relationship(
        back_populates="store",
        uselist=False,
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
    memberships: Mapped[list[UserStore]] = relationship(
        back_populates="store",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SubscriptionPlan(Entity):
    """A subscription tier (Free, Basic, Pro, Enterprise) with its feature limits."""

    name: Mapped[str] = mapped_column(unique=True)
    slug: Mapped[str] = mapped_column(unique=True)
    tier: Mapped[int] = mapped_column(index=True)  # 0=Free, 1=Basic, 2=Pro, 3=Enterprise
    description: Mapped[str | None]

    # Pricing
    price: Mapped[Decimal] = mapped_column(Money(10, 2))  # monthly, USD
    billing_cycle: Mapped[BillingCycle] = mapped_column(
        enum_column(BillingCycle), default=BillingCycle.MONTHLY
    )
    trial_days: Mapped[int] = mapped_column(default=14)

    # Feature limits; NULL means unlimited (Enterprise), which an Int default cannot say.
    # No Python defaults: SQLAlchemy would substitute them for an explicit None.
    max_products: Mapped[int | None]
    max_orders: Mapped[int | None]  # per month
    max_staff: Mapped[int | None]
    max_storage: Mapped[int | None]  # MB
    api_rate_limit: Mapped[int] = mapped_column(default=60)  # requests per minute

    # Features
    has_advanced_reports: Mapped[bool] = mapped_column(default=False)
    has_abandoned_cart: Mapped[bool] = mapped_column(default=False)
    has_pos_access: Mapped[bool] = mapped_column(default=False)
    has_api_access: Mapped[bool] = mapped_column(default=False)
    has_priority_support: Mapped[bool] = mapped_column(default=False)

    # Status
    is_active: Mapped[bool] = mapped_column(default=True)
    is_public: Mapped[bool] = mapped_column(default=True)  # shown on the pricing page

    subscriptions: Mapped[list[StoreSubscription]] = relationship(back_populates="plan")

    __table_args__ = (Index("ix_subscription_plan_is_active_is_public", "is_active", "is_public"),)


class StoreSubscription(StoreOwnedMixin, Entity):
    """A store's current subscription, with this period's usage counters."""

    plan_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("subscription_plan.id"), index=True
    )

    # Lifecycle
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_column(SubscriptionStatus), default=SubscriptionStatus.TRIAL, index=True
    )
    start_date: Mapped[datetime] = mapped_column(default=utcnow)
    end_date: Mapped[datetime | None]  # null = running
    trial_end_date: Mapped[datetime | None]

    # Billing
    last_billing_date: Mapped[datetime | None]
    next_billing_date: Mapped[datetime | None] = mapped_column(index=True)
    payment_method: Mapped[str | None]  # gateway's payment-method id

    # Usage (reset monthly)
    current_products: Mapped[int] = mapped_column(default=0)
    current_orders: Mapped[int] = mapped_column(default=0)  # this month
    current_staff: Mapped[int] = mapped_column(default=0)
    current_storage: Mapped[int] = mapped_column(default=0)  # MB
    usage_reset_at: Mapped[datetime] = mapped_column(default=utcnow)

    store: Mapped[Store] = relationship(back_populates="subscription")
    plan: Mapped[SubscriptionPlan] = relationship(back_populates="subscriptions")

    __table_args__ = (UniqueConstraint("store_id"),)

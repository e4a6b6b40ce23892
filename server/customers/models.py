"""Store customers and what they keep with the store.

Seed models implemented (data-model.md §20-23): ``Customer``, ``Address`` (+ ``AddressType``),
``Cart`` and ``Wishlist``.

Deviations from the seed, and why:

- Tenancy (product-decisions §2): ``store_id`` on Address and Wishlist too, and Cart's bare
  ``storeId`` string becomes a real foreign key to ``store`` (cascade).
- Customer: the seed's ``@@unique([storeId, email])`` and identical ``@@index([storeId, email])``
  are one unique constraint here (it is the index).
- ``Cart.converted_order_id`` is a foreign key to ``order`` (``SET NULL``, indexed); the seed left
  it a bare string.
- ``Customer.email`` is nullable (a till may create a customer with only a phone number), and
  ``(store_id, phone)`` is indexed for lookup at the till.
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
)

if TYPE_CHECKING:
    from server.catalog.models import ProductReview


class AddressType(enum.StrEnum):
    SHIPPING = "SHIPPING"
    BILLING = "BILLING"
    BOTH = "BOTH"


def _customer_fk(ondelete: str = "CASCADE") -> ForeignKey:
    return ForeignKey("customer.id", ondelete=ondelete)


class Customer(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A store's customer, registered or guest (soft-deleted for GDPR)."""

    # Contact. Email is optional: a customer created at the till may give only a phone number.
    email: Mapped[str | None]
    first_name: Mapped[str]
    last_name: Mapped[str | None]
    phone: Mapped[str | None]

    is_guest: Mapped[bool] = mapped_column(default=False)

    # Authentication, if registered
    password: Mapped[str | None]  # bcrypt hash; null for guests
    email_verified: Mapped[bool] = mapped_column(default=False)

    # Preferences
    language: Mapped[str] = mapped_column(default="en")
    marketing_opt_in: Mapped[bool] = mapped_column(default=False)

    # Tax
    is_tax_exempt: Mapped[bool] = mapped_column(default=False)
    tax_exempt_reason: Mapped[str | None]

    # Denormalised stats
    last_order_at: Mapped[datetime | None]
    total_orders: Mapped[int] = mapped_column(default=0)
    total_spent: Mapped[Decimal] = mapped_column(Money(10, 2), default=Decimal("0"))

    addresses: Mapped[list[Address]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )
    carts: Mapped[list[Cart]] = relationship(back_populates="customer", passive_deletes=True)
    wishlists: Mapped[list[Wishlist]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )
    reviews: Mapped[list[ProductReview]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        UniqueConstraint("store_id", "email"),
        Index("ix_customer_store_id_is_guest", "store_id", "is_guest"),
        Index("ix_customer_store_id_phone", "store_id", "phone"),
    )


class Address(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A customer's shipping and/or billing address."""

    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH), _customer_fk(), index=True)
    type: Mapped[AddressType] = mapped_column(
        enum_column(AddressType), default=AddressType.SHIPPING
    )

    first_name: Mapped[str]
    last_name: Mapped[str | None]
    company: Mapped[str | None]
    address1: Mapped[str]
    address2: Mapped[str | None]
    city: Mapped[str]
    state: Mapped[str | None]
    postal_code: Mapped[str]
    country: Mapped[str]  # ISO 3166-1 alpha-2
    phone: Mapped[str | None]

    is_default: Mapped[bool] = mapped_column(default=False)

    customer: Mapped[Customer] = relationship(back_populates="addresses")


class Cart(StoreOwnedMixin, Entity):
    """A shopping cart, kept for abandoned-cart recovery."""

    customer_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), _customer_fk("SET NULL"), index=True
    )

    items: Mapped[list[Any]] = mapped_column(default=list)  # [{variantId, quantity, price}]

    # Recovery
    expires_at: Mapped[datetime]
    recovery_email_sent: Mapped[bool] = mapped_column(default=False)
    recovery_email_sent_at: Mapped[datetime | None]
    converted_order_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("order.id", ondelete="SET NULL"), index=True
    )

    customer: Mapped[Customer | None] = relationship(back_populates="carts")

    __table_args__ = (Index("ix_cart_store_id_expires_at", "store_id", "expires_at"),)


class Wishlist(StoreOwnedMixin, Entity):
    """A named list of products a customer wants."""

    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH), _customer_fk(), index=True)
    name: Mapped[str] = mapped_column(default="My Wishlist")
    is_public: Mapped[bool] = mapped_column(default=False)
    items: Mapped[list[Any]] = mapped_column(default=list)  # product ids

    customer: Mapped[Customer] = relationship(back_populates="wishlists")

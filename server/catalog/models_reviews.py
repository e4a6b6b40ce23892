"""Product reviews (re-exported by ``server.catalog.models``).

Seed model implemented (data-model.md §42): ``ProductReview`` (+ ``ReviewStatus``).

Deviations from the seed, and why:

- ``store_id`` (product-decisions §2), and the one-review-per-customer-per-product key becomes
  ``(store_id, product_id, customer_id)``: a store-owned table's unique keys include the tenant.
- ``moderated_by`` is a foreign key to ``user`` (``SET NULL``, indexed); the seed left it a bare
  string.
- ``rating`` has a check constraint for the seed's 1-5 stars.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import ID_LENGTH, Entity, SoftDeleteMixin, StoreOwnedMixin, enum_column

if TYPE_CHECKING:
    from server.catalog.models import Product
    from server.customers.models import Customer


class ReviewStatus(enum.StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    FLAGGED = "FLAGGED"


class ProductReview(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A customer's rating and review of a product, moderated before it shows."""

    product_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("product.id", ondelete="CASCADE")
    )
    customer_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )

    # Content
    rating: Mapped[int]  # 1-5 stars
    title: Mapped[str | None]
    review: Mapped[str | None] = mapped_column(Text)

    is_verified_purchase: Mapped[bool] = mapped_column(default=False)
    helpful_count: Mapped[int] = mapped_column(default=0)

    # Moderation
    status: Mapped[ReviewStatus] = mapped_column(
        enum_column(ReviewStatus), default=ReviewStatus.PENDING
    )
    moderated_at: Mapped[datetime | None]
    moderated_by: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("user.id", ondelete="SET NULL"), index=True
    )

    product: Mapped[Product] = relationship(back_populates="reviews")
    customer: Mapped[Customer] = relationship(back_populates="reviews")

    __table_args__ = (
        UniqueConstraint("store_id", "product_id", "customer_id"),
        Index("ix_product_review_product_id_status", "product_id", "status"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
    )

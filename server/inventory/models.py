"""The stock ledger.

Seed model implemented (data-model.md §19): ``InventoryAdjustment`` (+ ``AdjustmentReason``).
Each row is one signed stock delta on a variant; ``Variant.stock_quantity`` is the running
total (product-decisions §6: stock is a ledger of deltas, never last-write-wins).

Deviations from the seed, and why:

- ``store_id`` (product-decisions §2): stock movements are filtered and synced per store.
- ``updated_at`` comes with the house ``Entity``; the rows are still never edited (FR-024).
- ``user_id`` and ``order_id`` stay plain indexed ids, as in the seed, not foreign keys: the
  ledger is immutable (purging an order or a user must not rewrite or block it), and a movement
  pushed by a till is never rejected after the fact (§3), whatever arrives first.
  ``order_id`` is indexed as well (stock restored on cancel/refund looks movements up by order).
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import ID_LENGTH, Entity, StoreOwnedMixin, enum_column

if TYPE_CHECKING:
    from server.catalog.models import Variant


class AdjustmentReason(enum.StrEnum):
    RESTOCK = "RESTOCK"
    DAMAGE = "DAMAGE"
    THEFT = "THEFT"
    CORRECTION = "CORRECTION"
    RETURN = "RETURN"
    ORDER_PLACED = "ORDER_PLACED"
    ORDER_CANCELED = "ORDER_CANCELED"
    MANUAL = "MANUAL"


class InventoryAdjustment(StoreOwnedMixin, Entity):
    """One stock movement: who changed a variant's stock, by how much, and why."""

    variant_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("variant.id", ondelete="CASCADE")
    )

    quantity_change: Mapped[int]  # positive = in, negative = out
    new_quantity: Mapped[int]  # stock after this movement
    reason: Mapped[AdjustmentReason] = mapped_column(enum_column(AdjustmentReason))
    notes: Mapped[str | None]

    # Actor and cause (ids, deliberately without foreign keys: see the module docstring)
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    order_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)

    # Request metadata
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]

    variant: Mapped[Variant] = relationship(back_populates="inventory_adjustments")

    __table_args__ = (
        Index("ix_inventory_adjustment_variant_id_created_at", "variant_id", "created_at"),
    )

"""Shipping: the seed's ``ShippingZone`` (#28), ``ShippingRate`` (#29) and ``Shipment`` (#30).

Deviations from ``data-model.md`` and why:

- ``ShippingRate`` and ``Shipment`` have ``store_id``: tenancy is on every store-owned
  table, child tables included (product-decisions §2), so each can be filtered by tenant
  and scoped in the sync change log without a join.
- Otherwise as the seed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String
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
from stormcom_pos.domain.enums import ShipmentStatus, ShippingRateType


class ShippingZone(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A geographic area a store ships to."""

    __table_args__ = (Index("ix_shipping_zone_store_id_is_active", "store_id", "is_active"),)

    name: Mapped[str]

    # Geographic coverage (JSON arrays)
    countries: Mapped[list[Any]] = mapped_column(default=list)  # ISO 3166-1: ["US", "CA"]
    states: Mapped[list[Any]] = mapped_column(default=list)  # ["CA", "NY", "TX"]
    postal_codes: Mapped[list[Any]] = mapped_column(default=list)  # patterns: ["90*"]

    is_active: Mapped[bool] = mapped_column(default=True)

    rates: Mapped[list[ShippingRate]] = relationship(
        back_populates="zone", cascade="all, delete-orphan", passive_deletes=True
    )


class ShippingRate(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A shipping option and its price within a zone."""

    __table_args__ = (Index("ix_shipping_rate_zone_id_is_active", "zone_id", "is_active"),)

    zone_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("shipping_zone", ondelete="CASCADE"))

    name: Mapped[str]  # Standard Shipping, Express, Overnight
    rate_type: Mapped[ShippingRateType] = mapped_column(
        enum_column(ShippingRateType), default=ShippingRateType.FLAT_RATE
    )
    cost: Mapped[Decimal] = mapped_column(Money(10, 2))
    free_shipping_threshold: Mapped[Decimal | None] = mapped_column(Money(10, 2))
    # {"minWeight": 0, "maxWeight": 10, "minPrice": 50}
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)

    # Delivery time estimate
    min_delivery_days: Mapped[int | None]
    max_delivery_days: Mapped[int | None]

    is_active: Mapped[bool] = mapped_column(default=True)

    zone: Mapped[ShippingZone] = relationship(back_populates="rates")


class Shipment(StoreOwnedMixin, Entity):
    """A parcel sent for an order, with its carrier tracking."""

    __table_args__ = (
        Index("ix_shipment_order_id", "order_id"),
        Index("ix_shipment_tracking_number", "tracking_number"),
    )

    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("order", ondelete="CASCADE"))

    # Carrier details
    carrier: Mapped[str]  # FedEx, UPS, USPS, DHL
    tracking_number: Mapped[str | None]
    tracking_url: Mapped[str | None]

    # Shipping method
    shipping_method: Mapped[str]
    shipping_cost: Mapped[Decimal] = mapped_column(Money(10, 2))

    # Status tracking
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_column(ShipmentStatus), default=ShipmentStatus.PENDING
    )
    shipped_at: Mapped[datetime | None]
    estimated_delivery_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    # Items in this shipment: [{order_item_id, quantity}]
    items: Mapped[list[Any]] = mapped_column(default=list)

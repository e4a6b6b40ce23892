"""``PosAnomaly`` (new, migration 0004): what the back office must look at after a till's
operations were accepted. A sale is stored as charged and never rejected (product-decisions
§3); what looks wrong is flagged here instead: a price that differs from the catalog, stock
below zero, an operation that arrived after its drawer was closed, a quarantined operation,
and the rest of :class:`AnomalyKind`.

One row per flag, pointing at the entity it concerns (``entity_type``/``entity_id``: an order,
an order line, a refund, a drawer session, a cash movement, a stock movement, a customer, or
for a quarantined op the ``push_inbox`` row) and at the terminal operation that raised it
(``device_id``, ``op_id``). ``detail`` holds the figures (catalog price vs charged, stock
after the movement, the till's vs the server's expected cash...). ``occurred_at`` is the
till's clock, ``created_at`` the server's. Rows are never edited by ingestion.
``Order.anomalies``/``flagged`` and ``OrderItem.anomalies`` still carry a sale's flags too.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import ID_LENGTH, Entity, StoreOwnedMixin, enum_column, fk
from server.sync.models import OP_ID_LENGTH


class AnomalyKind(enum.StrEnum):
    PRICE_MISMATCH = "price_mismatch"  # charged catalog price differs from the server's
    NEGATIVE_STOCK = "negative_stock"  # a movement took stock below zero
    LATE_AFTER_CLOSE = "late_after_close"  # an op for a drawer session already closed
    QUARANTINED = "quarantined"  # an op that failed deterministically; kept for re-driving
    INACTIVE_PRODUCT = "inactive_product"  # sold while archived, deleted or inactive
    UNKNOWN_CUSTOMER = "unknown_customer"  # a sale names a customer the server has not got
    UNKNOWN_STAFF = "unknown_staff"  # staff not (or no longer) an active member of the store
    MISSING_DRAWER_SESSION = "missing_drawer_session"  # an op before its drawer.open
    CASH_DRIFT = "cash_drift"  # the till's expected cash differs from the server's
    COUNT_MISMATCH = "count_mismatch"  # counted total differs from the denominations
    CASH_VARIANCE = "cash_variance"  # a closed drawer is over or short
    DUPLICATE_RECEIPT = "duplicate_receipt_number"  # stored under a suffixed number
    DUPLICATE_CUSTOMER = "duplicate_customer"  # same email as an existing customer
    CLOCK_SKEW = "clock_skew"  # the till's clock is ahead of the server's
    UNDERPAID = "underpaid"  # payments do not cover the total
    REFUND_RULE = "refund_rule_violation"  # beyond what the refund rules allow
    REFUND_AMOUNT_MISMATCH = "refund_amount_mismatch"  # the till's amounts differ from the rules
    UNTRACKED_QUANTITY = "untracked_quantity"  # a fractional quantity of a stocked variant


class PosAnomaly(StoreOwnedMixin, Entity):
    """One flag raised while ingesting a terminal's operation."""

    __table_args__ = (
        Index("ix_pos_anomaly_store_id_created_at", "store_id", "created_at"),
        Index("ix_pos_anomaly_store_id_kind_created_at", "store_id", "kind", "created_at"),
        Index("ix_pos_anomaly_device_id", "device_id"),
    )

    kind: Mapped[AnomalyKind] = mapped_column(enum_column(AnomalyKind))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(OP_ID_LENGTH))
    device_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("device", ondelete="SET NULL"))
    op_id: Mapped[str | None] = mapped_column(String(OP_ID_LENGTH))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime | None]  # the till's clock

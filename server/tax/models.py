"""Tax: the seed's ``TaxRate`` (#35) and ``TaxExemption`` (#35.1).

``TaxExemptionStatus`` is the shared one from ``stormcom_pos.domain.tax`` (same members as
the seed), re-exported here.

Deviations from ``data-model.md`` and why:

- ``TaxRate.rate`` is NUMERIC(7,6) (``Rate``), not Decimal(5,4): Quebec's QST of 9.975%
  is 0.09975, which needs five decimal places (product-decisions §2).
- The seed's ``TaxRate.products`` is the back side of ``Product.tax_rate_id`` (a foreign
  key on the catalog's table), so nothing is stored here; no cross-domain relationship()
  is declared.
- ``TaxExemption.approved_by`` / ``rejected_by`` stay plain user-id strings as in the seed
  (no foreign key), so the review record survives the reviewer's account.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import (
    ID_LENGTH,
    Entity,
    Rate,
    SoftDeleteMixin,
    StoreOwnedMixin,
    enum_column,
    fk,
)
from stormcom_pos.domain.tax import TaxExemptionStatus

__all__ = ["TaxExemption", "TaxExemptionStatus", "TaxRate"]


class TaxRate(SoftDeleteMixin, StoreOwnedMixin, Entity):
    """A tax rate for a geographic region; several apply by ascending priority."""

    __table_args__ = (
        Index("ix_tax_rate_store_id_country_state", "store_id", "country", "state"),
        Index("ix_tax_rate_is_active", "is_active"),
    )

    name: Mapped[str]  # CA Sales Tax, UK VAT

    # Geographic scope: each of state, city and postal code is null (any) or must match
    country: Mapped[str]
    state: Mapped[str | None]
    postal_code: Mapped[str | None]
    city: Mapped[str | None]

    # Tax calculation
    rate: Mapped[Decimal] = mapped_column(Rate())  # 0.082500 = 8.25%; 0.099750 = 9.975%
    is_compound: Mapped[bool] = mapped_column(default=False)  # tax on tax
    priority: Mapped[int] = mapped_column(default=0)  # application order, ascending

    is_active: Mapped[bool] = mapped_column(default=True)


class TaxExemption(StoreOwnedMixin, Entity):
    """A customer's tax-exemption certificate and its review (CHK091)."""

    __table_args__ = (
        Index("ix_tax_exemption_store_id_customer_id_status", "store_id", "customer_id", "status"),
        Index(
            "ix_tax_exemption_customer_id_status_expires_at", "customer_id", "status", "expires_at"
        ),
        Index("ix_tax_exemption_expires_at", "expires_at"),  # for the auto-expiry job
    )

    customer_id: Mapped[str] = mapped_column(String(ID_LENGTH), fk("customer", ondelete="CASCADE"))

    # Certificate details
    certificate_url: Mapped[str]  # blob storage URL (PDF/JPG, max 5 MB)
    certificate_num: Mapped[str]
    issuing_state: Mapped[str]
    expires_at: Mapped[datetime]

    status: Mapped[TaxExemptionStatus] = mapped_column(
        enum_column(TaxExemptionStatus), default=TaxExemptionStatus.PENDING
    )

    # Admin review
    approved_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # admin user id
    approved_at: Mapped[datetime | None]
    rejected_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))  # admin user id
    rejected_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None]

"""What to print: a finished receipt or shift report as plain values, never how to print it.

The services layer builds these from a committed sale, refund or drawer session; the ESC/POS
and PDF renderers only lay them out. Money is Decimal in the receipt's currency, already
rounded by the shared rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from stormcom_pos.domain.cash_reports import ShiftReport


@dataclass(frozen=True, slots=True)
class ReceiptLine:
    """One cart line: ``discounts`` are (label, amount) pairs already included in ``total``."""

    name: str
    quantity: Decimal
    unit_price: Decimal
    total: Decimal
    discounts: tuple[tuple[str, Decimal], ...] = ()
    weighed: bool = False


@dataclass(frozen=True, slots=True)
class TaxSummaryLine:
    """Tax of one rate over the whole receipt."""

    name: str
    rate: Decimal
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TenderLine:
    """A payment (or, on a refund, money handed back) through one tender."""

    label: str
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A sale or refund receipt; ``receipt_barcode`` is the text to encode for returns."""

    kind: Literal["sale", "refund"]
    store_name: str
    store_lines: tuple[str, ...]
    logo_path: Path | None
    receipt_number: str
    receipt_barcode: str
    created_at: datetime
    cashier_name: str
    terminal_name: str
    lines: tuple[ReceiptLine, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_lines: tuple[TaxSummaryLine, ...]
    total: Decimal
    rounding_adjustment: Decimal
    tenders: tuple[TenderLine, ...]
    change: Decimal
    currency: str
    locale: str = "en_US"
    customer_name: str | None = None
    footer_lines: tuple[str, ...] = ()
    copy_label: str | None = None
    timezone: str = "UTC"  # the store's: printed times are wall-clock times there


@dataclass(frozen=True, slots=True)
class ReportPrint:
    """An X or Z report to print: the shared rules' report plus where it was taken.

    ``cashier_names`` maps the report's cashier ids to the names to print; an id without a
    name is printed as it is.
    """

    report: ShiftReport
    store_name: str
    terminal_name: str
    currency: str
    locale: str = "en_US"
    cashier_names: tuple[tuple[str, str], ...] = ()
    copy_label: str | None = None  # "REPRINT" on a report printed again after its close
    timezone: str = "UTC"  # the store's: printed times are wall-clock times there

    def cashier_name(self, cashier_id: str) -> str:
        """The printable name of a cashier id."""
        return dict(self.cashier_names).get(cashier_id, cashier_id)

"""Build what to print (:mod:`stormcom_pos.hardware.receipt`) from what the till recorded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from stormcom_pos.domain.barcodes import InvalidBarcode, ReceiptNumber, encode_receipt_barcode
from stormcom_pos.domain.cash_reports import ShiftReport
from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.sync_payloads import OrderSubmit, RefundSubmit
from stormcom_pos.hardware.receipt import (
    Receipt,
    ReceiptLine,
    ReportPrint,
    TaxSummaryLine,
    TenderLine,
)
from stormcom_pos.services.store_rules import StoreRules

TENDER_LABELS = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CARD_PRESENT: "Card",
    PaymentMethod.STORE_CREDIT: "Store credit",
    PaymentMethod.GIFT_CARD: "Gift card",
}
FOOTER = ("Keep this receipt for returns.", "Thank you!")


def tender_label(method: PaymentMethod) -> str:
    return TENDER_LABELS.get(method, method.value.replace("_", " ").title())


def receipt_barcode(receipt_number: str) -> str:
    """The receipt barcode text for a receipt number (the number itself if it is not ours)."""
    try:
        store, terminal, counter = receipt_number.rsplit("-", 2)
        return encode_receipt_barcode(ReceiptNumber(store, int(terminal), int(counter)))
    except (ValueError, InvalidBarcode):
        return receipt_number


def _tax_summary(sale: OrderSubmit) -> tuple[TaxSummaryLine, ...]:
    totals: dict[tuple[str, Decimal], list[Decimal]] = {}
    for line in sale.lines:
        for tax in line.taxes:
            entry = totals.setdefault((tax.name, tax.rate), [ZERO, ZERO])
            entry[0] += line.net
            entry[1] += tax.amount
    return tuple(TaxSummaryLine(name, rate, taxable, amount)
                 for (name, rate), (taxable, amount) in totals.items())


def sale_receipt(sale: OrderSubmit, *, rules: StoreRules, cashier_name: str, terminal_name: str,
                 customer_name: str | None = None, copy_label: str | None = None) -> Receipt:
    """The receipt of a completed sale."""
    inclusive = sale.prices_include_tax
    lines = tuple(
        ReceiptLine(
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            total=line.total if inclusive else line.net,
            discounts=tuple((d.reason or (f"Coupon {d.code}" if d.code else "Discount"),
                             d.amount) for d in line.discounts),
            weighed=line.quantity != line.quantity.to_integral_value(),
        )
        for line in sale.lines
    )
    tenders = tuple(TenderLine(tender_label(p.method), p.tendered or p.amount, p.reference)
                    for p in sale.payments)
    change = sum((p.change or ZERO for p in sale.payments), ZERO)
    return Receipt(
        kind="sale", store_name=rules.name, store_lines=rules.header_lines, logo_path=None,
        receipt_number=sale.receipt_number,
        receipt_barcode=receipt_barcode(sale.receipt_number), created_at=sale.completed_at,
        cashier_name=cashier_name, terminal_name=terminal_name, lines=lines,
        subtotal=sale.subtotal, discount_total=sale.discount_total,
        tax_lines=_tax_summary(sale), total=sale.total,
        rounding_adjustment=sale.rounding_adjustment, tenders=tenders, change=change,
        currency=sale.currency, locale=rules.locale, timezone=rules.timezone,
        customer_name=customer_name, footer_lines=FOOTER, copy_label=copy_label,
    )


def refund_receipt(refund: RefundSubmit, sale: OrderSubmit, *, rules: StoreRules,
                   cashier_name: str, terminal_name: str, at: datetime) -> Receipt:
    """The slip of a refund against a sale, numbered with the sale's receipt number."""
    sold = {line.id: line for line in sale.lines}
    lines = tuple(
        ReceiptLine(name=sold[r.order_item_id].name, quantity=r.quantity,
                    unit_price=sold[r.order_item_id].unit_price, total=r.amount + r.tax)
        for r in refund.lines if r.order_item_id in sold
    )
    net = refund.amount - refund.tax
    tax_lines = (TaxSummaryLine("Tax", ZERO, net, refund.tax),) if refund.tax else ()
    return Receipt(
        kind="refund", store_name=rules.name, store_lines=rules.header_lines, logo_path=None,
        receipt_number=sale.receipt_number,
        receipt_barcode=receipt_barcode(sale.receipt_number), created_at=at,
        cashier_name=cashier_name, terminal_name=terminal_name, lines=lines,
        subtotal=net, discount_total=ZERO, tax_lines=tax_lines, total=refund.amount,
        rounding_adjustment=ZERO,
        tenders=(TenderLine(tender_label(refund.tender), refund.amount),), change=ZERO,
        currency=sale.currency, locale=rules.locale, timezone=rules.timezone,
        footer_lines=(f"Reason: {refund.reason}",),
    )


@cache
def _report_adapter() -> TypeAdapter[ReportPrint]:
    return TypeAdapter(ReportPrint)


def report_payload(report: ReportPrint) -> dict[str, Any]:
    """The report as JSON for the print queue: a reprint after a restart prints it as taken,
    not as the shift looks now."""
    return dict(_report_adapter().dump_python(report, mode="json"))


def report_from_payload(payload: dict[str, Any]) -> ReportPrint:
    return _report_adapter().validate_python(payload)


def report_print(report: ShiftReport, *, rules: StoreRules, terminal_name: str,
                 cashier_names: dict[str, str], copy_label: str | None = None) -> ReportPrint:
    return ReportPrint(report=report, store_name=rules.name, terminal_name=terminal_name,
                       currency=rules.currency, locale=rules.locale, timezone=rules.timezone,
                       cashier_names=tuple(cashier_names.items()), copy_label=copy_label)

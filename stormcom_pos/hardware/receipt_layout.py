"""The content and order of a receipt or report, as rows that any renderer can lay out.

ESC/POS and PDF print the same rows, so a PDF copy reads like the paper slip. Rows carry
already formatted text (money through the shared ``format_money``, per the receipt locale);
column widths are the renderer's business.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from babel.core import UnknownLocaleError
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent

from stormcom_pos.domain.money import ZERO, format_money
from stormcom_pos.domain.store_time import display_zone
from stormcom_pos.hardware.receipt import Receipt, ReceiptLine, ReportPrint


@dataclass(frozen=True, slots=True)
class Row:
    """A line of text, with an optional right-aligned amount column."""

    left: str
    right: str = ""
    align: Literal["left", "center"] = "left"
    bold: bool = False
    large: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A separator across the paper."""


@dataclass(frozen=True, slots=True)
class Logo:
    """The store logo image."""

    path: Path


@dataclass(frozen=True, slots=True)
class Code:
    """The receipt barcode text, printed as a scannable code for returns."""

    text: str


Block = Row | Rule | Logo | Code

# Space characters CLDR puts in dates and amounts that receipt code pages lack.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def plain_spaces(text: str) -> str:
    """Replace no-break and thin spaces with plain ones."""
    return text.translate(_SPACES)


class _Formats:
    def __init__(self, currency: str, locale: str, timezone: str = "UTC") -> None:
        self.currency = currency
        self.locale = locale
        self.tz = display_zone(timezone)

    def money(self, amount: Decimal) -> str:
        return plain_spaces(format_money(amount, self.currency, self.locale))

    def _with_locale(self, fn: Callable[..., str], *args: object, **kwargs: object) -> str:
        try:
            return plain_spaces(fn(*args, locale=self.locale, **kwargs))
        except (UnknownLocaleError, ValueError):
            return plain_spaces(fn(*args, locale="en_US", **kwargs))

    def when(self, at: datetime) -> str:
        return self._with_locale(format_datetime, at, "yyyy-MM-dd HH:mm", tzinfo=self.tz)

    def rate(self, rate: Decimal) -> str:
        return self._with_locale(format_percent, rate, "#,##0.####%")

    def quantity(self, quantity: Decimal, weighed: bool) -> str:
        return self._with_locale(format_decimal, quantity, "#,##0.000" if weighed else "#,##0.###")


def _line_rows(line: ReceiptLine, fmt: _Formats) -> list[Block]:
    rows: list[Block] = [Row(line.name, fmt.money(line.total))]
    if line.weighed or line.quantity != 1:
        detail = f"{fmt.quantity(line.quantity, line.weighed)} x {fmt.money(line.unit_price)}"
        rows.append(Row(f"  {detail}"))
    rows.extend(Row(f"  {label}", fmt.money(-amount)) for label, amount in line.discounts)
    return rows


def receipt_blocks(receipt: Receipt) -> list[Block]:
    """Everything on a sale or refund receipt, top to bottom."""
    fmt = _Formats(receipt.currency, receipt.locale, receipt.timezone)
    refund = receipt.kind == "refund"
    blocks: list[Block] = []
    if receipt.logo_path is not None:
        blocks.append(Logo(receipt.logo_path))
    blocks.append(Row(receipt.store_name, align="center", bold=True, large=True))
    blocks.extend(Row(text, align="center") for text in receipt.store_lines)
    if receipt.copy_label:
        blocks.append(Row(receipt.copy_label, align="center", bold=True))
    if refund:
        blocks.append(Row("REFUND", align="center", bold=True, large=True))
    blocks += [
        Rule(),
        Row("Receipt", receipt.receipt_number),
        Row("Date", fmt.when(receipt.created_at)),
        Row("Cashier", receipt.cashier_name),
        Row("Terminal", receipt.terminal_name),
    ]
    if receipt.customer_name:
        blocks.append(Row("Customer", receipt.customer_name))
    blocks.append(Rule())
    for line in receipt.lines:
        blocks += _line_rows(line, fmt)
    blocks += [Rule(), Row("Subtotal", fmt.money(receipt.subtotal))]
    if receipt.discount_total != ZERO:
        blocks.append(Row("Discounts", fmt.money(-receipt.discount_total)))
    for tax in receipt.tax_lines:
        blocks.append(Row(f"{tax.name} {fmt.rate(tax.rate)}", fmt.money(tax.amount)))
    if receipt.rounding_adjustment != ZERO:
        blocks.append(Row("Rounding", fmt.money(receipt.rounding_adjustment)))
    total_label = "REFUND TOTAL" if refund else "TOTAL"
    blocks += [Row(total_label, fmt.money(receipt.total), bold=True, large=True), Rule()]
    for tender in receipt.tenders:
        blocks.append(Row(tender.label, fmt.money(tender.amount)))
        if tender.reference:
            blocks.append(Row(f"  Ref {tender.reference}"))
    if not refund or receipt.change != ZERO:
        blocks.append(Row("Change", fmt.money(receipt.change), bold=True))
    blocks.append(Code(receipt.receipt_barcode))
    blocks.extend(Row(text, align="center") for text in receipt.footer_lines)
    return blocks


def _tender_name(value: str) -> str:
    return value.replace("_", " ").title()


def report_blocks(report_print: ReportPrint) -> list[Block]:
    """Everything on an X or Z report, top to bottom."""
    report = report_print.report
    fmt = _Formats(report_print.currency, report_print.locale, report_print.timezone)
    title = f"{report.kind.value} REPORT"
    if report.z_number is not None:
        title += f" #{report.z_number}"
    blocks: list[Block] = [
        Row(report_print.store_name, align="center", bold=True, large=True),
        Row(title, align="center", bold=True, large=True),
        *([Row(report_print.copy_label, align="center", bold=True)]
          if report_print.copy_label else []),
        Rule(),
        Row("Terminal", report_print.terminal_name),
        Row("Session", report.session_id),
        Row("Opened", fmt.when(report.opened_at)),
        Row("Generated", fmt.when(report.generated_at)),
        Rule(),
        Row(f"Sales ({report.sales_count})", fmt.money(report.sales_total)),
        Row("  of which tax", fmt.money(report.sales_tax)),
        Row("  discounts given", fmt.money(report.discounts)),
        Row(f"Refunds ({report.refunds_count})", fmt.money(-report.refunds_total)),
        Row("  of which tax", fmt.money(-report.refunds_tax)),
        Row("NET TOTAL", fmt.money(report.net_total), bold=True),
        Rule(),
        Row("By tender", bold=True),
    ]
    for tender in report.by_tender:
        blocks.append(
            Row(f"{_tender_name(tender.tender)} ({tender.payments})", fmt.money(tender.net))
        )
        if tender.refunded != ZERO:
            blocks.append(Row("  refunded", fmt.money(-tender.refunded)))
    blocks += [Rule(), Row("By tax rate", bold=True)]
    for tax in report.by_tax_rate:
        blocks.append(Row(f"{tax.name} {fmt.rate(tax.rate)}", fmt.money(tax.net_tax)))
        blocks.append(Row("  taxable", fmt.money(tax.taxable - tax.refunded_taxable)))
    blocks += [Rule(), Row("By cashier", bold=True)]
    for cashier in report.by_cashier:
        name = report_print.cashier_name(cashier.cashier_id)
        blocks.append(Row(f"{name} ({cashier.sales_count})", fmt.money(cashier.net)))
    blocks += [Rule(), Row("By hour", bold=True)]
    for hour in report.by_hour:
        label = f"{hour.hour:%H}:00 ({hour.sales_count})"
        blocks.append(Row(label, fmt.money(hour.net)))
    cash = report.cash
    blocks += [
        Rule(),
        Row("Cash drawer", bold=True),
        Row("Opening float", fmt.money(cash.opening_float)),
        Row("Cash sales", fmt.money(cash.cash_sales)),
        Row("Cash refunds", fmt.money(-cash.cash_refunds)),
        Row("Pay-ins", fmt.money(cash.pay_ins)),
        Row("Pay-outs", fmt.money(-cash.pay_outs)),
        Row("Drops", fmt.money(-cash.drops)),
        Row("EXPECTED CASH", fmt.money(cash.expected), bold=True),
    ]
    if report.counted is not None:
        blocks.append(Row("Counted cash", fmt.money(report.counted), bold=True))
    if report.over_short is not None:
        blocks.append(Row("Over/short", fmt.money(report.over_short), bold=True))
    return blocks

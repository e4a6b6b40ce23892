"""X and Z reports of a drawer session: totals by tender, tax rate, cashier and hour.

An X report is a read at any time during a shift and changes nothing. A Z report is the
close: it carries the counted cash, the over/short and the next number in the store's
gap-free Z sequence, and once taken the session is CLOSED.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from stormcom_pos.domain.cash import CashCount, CashMovement, CashSummary, summarize_cash
from stormcom_pos.domain.cash import over_short as _over_short
from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, round_money

__all__ = [
    "CashierTotal",
    "HourTotal",
    "InvalidReport",
    "ReportKind",
    "ReturnRecord",
    "SaleRecord",
    "ShiftData",
    "ShiftReport",
    "TaxPortion",
    "TaxRateTotal",
    "TenderRecord",
    "TenderTotal",
    "x_report",
    "z_report",
]


class InvalidReport(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_report"


class ReportKind(StrEnum):
    """X is a mid-shift read; Z closes the session."""

    X = "X"
    Z = "Z"


@dataclass(frozen=True, slots=True)
class TaxPortion:
    """Tax of one rate on a sale or return: the taxable base and the rounded tax."""

    name: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class SaleRecord:
    """A completed sale: merchandise net of discounts (before tax) and its tax per rate."""

    receipt_number: str
    at: datetime
    cashier_id: str
    net: Decimal
    taxes: tuple[TaxPortion, ...] = ()
    discount: Decimal = ZERO

    @property
    def tax(self) -> Decimal:
        """Sum of the tax portions."""
        return sum((t.tax for t in self.taxes), ZERO)

    @property
    def total(self) -> Decimal:
        """What the customer owed: net plus tax."""
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """A refund given in this session: the net and tax handed back, as positive amounts."""

    receipt_number: str
    at: datetime
    cashier_id: str
    net: Decimal
    taxes: tuple[TaxPortion, ...] = ()

    @property
    def tax(self) -> Decimal:
        """Sum of the tax portions."""
        return sum((t.tax for t in self.taxes), ZERO)

    @property
    def total(self) -> Decimal:
        """Net plus tax."""
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class TenderRecord:
    """Money in (a payment) or out (``is_refund``) through one tender.

    ``amount`` is what the sale kept, net of change; ``tendered`` is what the customer
    handed over, when known, so change = tendered - amount.
    """

    at: datetime
    cashier_id: str
    tender: PaymentMethod
    amount: Decimal
    tendered: Decimal | None = None
    is_refund: bool = False

    @property
    def change(self) -> Decimal:
        """Change handed back for this payment."""
        return ZERO if self.tendered is None else self.tendered - self.amount


@dataclass(frozen=True, slots=True)
class ShiftData:
    """Everything recorded in one drawer session."""

    session_id: str
    currency: str
    opened_at: datetime
    opening_float: Decimal
    sales: tuple[SaleRecord, ...] = ()
    returns: tuple[ReturnRecord, ...] = ()
    tenders: tuple[TenderRecord, ...] = ()
    movements: tuple[CashMovement, ...] = ()


@dataclass(frozen=True, slots=True)
class TenderTotal:
    """Money taken and refunded through one tender."""

    tender: PaymentMethod
    payments: int
    taken: Decimal
    refunded: Decimal
    change_given: Decimal

    @property
    def net(self) -> Decimal:
        """Taken minus refunded."""
        return self.taken - self.refunded


@dataclass(frozen=True, slots=True)
class TaxRateTotal:
    """Taxable base and tax for one rate, sold and refunded."""

    name: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    refunded_taxable: Decimal
    refunded_tax: Decimal

    @property
    def net_tax(self) -> Decimal:
        """Tax collected minus tax refunded."""
        return self.tax - self.refunded_tax


@dataclass(frozen=True, slots=True)
class CashierTotal:
    """Sales and refunds rung up by one cashier."""

    cashier_id: str
    sales_count: int
    sales_total: Decimal
    refunds_count: int
    refunds_total: Decimal

    @property
    def net(self) -> Decimal:
        """Sales minus refunds."""
        return self.sales_total - self.refunds_total


@dataclass(frozen=True, slots=True)
class HourTotal:
    """Sales and refunds in one clock hour (``hour`` is its start)."""

    hour: datetime
    sales_count: int
    sales_total: Decimal
    refunds_total: Decimal

    @property
    def net(self) -> Decimal:
        """Sales minus refunds."""
        return self.sales_total - self.refunds_total


@dataclass(frozen=True, slots=True)
class ShiftReport:
    """An X or Z report. Amounts include tax unless named ``net``."""

    kind: ReportKind
    session_id: str
    currency: str
    opened_at: datetime
    generated_at: datetime
    z_number: int | None
    sales_count: int
    sales_total: Decimal
    sales_tax: Decimal
    discounts: Decimal
    refunds_count: int
    refunds_total: Decimal
    refunds_tax: Decimal
    by_tender: tuple[TenderTotal, ...]
    by_tax_rate: tuple[TaxRateTotal, ...]
    by_cashier: tuple[CashierTotal, ...]
    by_hour: tuple[HourTotal, ...]
    cash: CashSummary
    counted: Decimal | None = None
    over_short: Decimal | None = None

    @property
    def net_total(self) -> Decimal:
        """Sales minus refunds, tax included."""
        return self.sales_total - self.refunds_total

    @property
    def closes_session(self) -> bool:
        """A Z report ends the session; an X report does not."""
        return self.kind is ReportKind.Z


_K = TypeVar("_K", bound=Hashable)
_R = TypeVar("_R")


def _group(items: Iterable[_R], key: Callable[[_R], _K]) -> dict[_K, list[_R]]:
    groups: dict[_K, list[_R]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def _by_tender(tenders: tuple[TenderRecord, ...]) -> tuple[TenderTotal, ...]:
    rows = []
    for tender, recs in sorted(_group(tenders, lambda t: t.tender).items()):
        paid = [r for r in recs if not r.is_refund]
        rows.append(
            TenderTotal(
                tender=tender,
                payments=len(paid),
                taken=_sum(r.amount for r in paid),
                refunded=_sum(r.amount for r in recs if r.is_refund),
                change_given=_sum(r.change for r in paid),
            )
        )
    return tuple(rows)


def _by_tax_rate(shift: ShiftData) -> tuple[TaxRateTotal, ...]:
    sold = [t for s in shift.sales for t in s.taxes]
    back = [t for r in shift.returns for t in r.taxes]
    keys = sorted({(t.name, t.rate) for t in sold + back})
    return tuple(
        TaxRateTotal(
            name=name,
            rate=rate,
            taxable=_sum(t.taxable for t in sold if (t.name, t.rate) == (name, rate)),
            tax=_sum(t.tax for t in sold if (t.name, t.rate) == (name, rate)),
            refunded_taxable=_sum(t.taxable for t in back if (t.name, t.rate) == (name, rate)),
            refunded_tax=_sum(t.tax for t in back if (t.name, t.rate) == (name, rate)),
        )
        for name, rate in keys
    )


def _by_cashier(shift: ShiftData) -> tuple[CashierTotal, ...]:
    sales = _group(shift.sales, lambda s: s.cashier_id)
    returns = _group(shift.returns, lambda r: r.cashier_id)
    return tuple(
        CashierTotal(
            cashier_id=cid,
            sales_count=len(sales.get(cid, [])),
            sales_total=_sum(s.total for s in sales.get(cid, [])),
            refunds_count=len(returns.get(cid, [])),
            refunds_total=_sum(r.total for r in returns.get(cid, [])),
        )
        for cid in sorted(set(sales) | set(returns))
    )


def _hour(at: datetime, tz: tzinfo | None) -> datetime:
    if tz is not None:
        if at.tzinfo is None:
            raise InvalidReport(f"timestamp {at.isoformat()} has no time zone to convert from")
        at = at.astimezone(tz)
    return at.replace(minute=0, second=0, microsecond=0)


def _by_hour(shift: ShiftData, tz: tzinfo | None) -> tuple[HourTotal, ...]:
    sales = _group(shift.sales, lambda s: _hour(s.at, tz))
    returns = _group(shift.returns, lambda r: _hour(r.at, tz))
    return tuple(
        HourTotal(
            hour=hour,
            sales_count=len(sales.get(hour, [])),
            sales_total=_sum(s.total for s in sales.get(hour, [])),
            refunds_total=_sum(r.total for r in returns.get(hour, [])),
        )
        for hour in sorted(set(sales) | set(returns))
    )


def _build(
    shift: ShiftData,
    kind: ReportKind,
    generated_at: datetime,
    tz: tzinfo | None,
    z_number: int | None = None,
    counted: Decimal | None = None,
) -> ShiftReport:
    cur = shift.currency.upper()
    for t in shift.tenders:
        if t.amount < ZERO or (t.tendered is not None and t.tendered < t.amount):
            raise InvalidReport(
                f"{t.tender} record at {t.at.isoformat()} is inconsistent: amount {t.amount}, "
                f"tendered {t.tendered}"
            )
    cash = summarize_cash(
        shift.opening_float,
        (t.amount for t in shift.tenders if t.tender is PaymentMethod.CASH and not t.is_refund),
        (t.amount for t in shift.tenders if t.tender is PaymentMethod.CASH and t.is_refund),
        shift.movements,
        cur,
    )
    return ShiftReport(
        kind=kind,
        session_id=shift.session_id,
        currency=cur,
        opened_at=shift.opened_at,
        generated_at=generated_at,
        z_number=z_number,
        sales_count=len(shift.sales),
        sales_total=round_money(_sum(s.total for s in shift.sales), cur),
        sales_tax=round_money(_sum(s.tax for s in shift.sales), cur),
        discounts=round_money(_sum(s.discount for s in shift.sales), cur),
        refunds_count=len(shift.returns),
        refunds_total=round_money(_sum(r.total for r in shift.returns), cur),
        refunds_tax=round_money(_sum(r.tax for r in shift.returns), cur),
        by_tender=_by_tender(shift.tenders),
        by_tax_rate=_by_tax_rate(shift),
        by_cashier=_by_cashier(shift),
        by_hour=_by_hour(shift, tz),
        cash=cash,
        counted=counted,
        over_short=None if counted is None else _over_short(counted, cash.expected, cur),
    )


def x_report(shift: ShiftData, generated_at: datetime, tz: tzinfo | None = None) -> ShiftReport:
    """A mid-shift read of the session; ``tz`` sets the clock hours (store time)."""
    return _build(shift, ReportKind.X, generated_at, tz)


def z_report(
    shift: ShiftData,
    closed_at: datetime,
    counted: Decimal | CashCount,
    last_z_number: int,
    tz: tzinfo | None = None,
) -> ShiftReport:
    """The closing report: numbered ``last_z_number + 1``, with counted cash and over/short."""
    if isinstance(last_z_number, bool) or last_z_number < 0:
        raise InvalidReport(f"last Z number must be 0 or more, got {last_z_number!r}")
    if isinstance(counted, CashCount):
        if counted.currency != shift.currency.upper():
            raise InvalidReport(
                f"cash was counted in {counted.currency} but the session is in "
                f"{shift.currency.upper()}"
            )
        amount = counted.total
    else:
        amount = counted
    if amount < ZERO:
        raise InvalidReport(f"counted cash cannot be negative, got {amount}")
    return _build(shift, ReportKind.Z, closed_at, tz, last_z_number + 1, amount)

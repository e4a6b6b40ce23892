"""The cash drawer: denominations, counting, expected cash and over/short.

Expected cash = opening float + cash sales - cash refunds + pay-ins - pay-outs - drops
(product-decisions §3). Cash sales are what the sale kept, i.e. tendered minus change, so
change handed back is never counted as takings (ERPNext's bug, see pos-anchors §1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from stormcom_pos.domain.enums import CashMovementType
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, round_money

__all__ = [
    "DENOMINATIONS",
    "CashCount",
    "CashCountLine",
    "CashMovement",
    "CashSummary",
    "DenominationSet",
    "InvalidCashAmount",
    "InvalidCount",
    "UnknownDenomination",
    "count_cash",
    "counts_to_json",
    "denominations_for",
    "expected_cash",
    "needs_sign_off",
    "over_short",
    "summarize_cash",
]


class UnknownDenomination(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "unknown_denomination"


class InvalidCount(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_count"


class InvalidCashAmount(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_cash_amount"


def _d(values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(v) for v in values.split())


@dataclass(frozen=True, slots=True)
class DenominationSet:
    """The notes and coins of a currency, largest first."""

    currency: str
    notes: tuple[Decimal, ...]
    coins: tuple[Decimal, ...]

    @property
    def values(self) -> tuple[Decimal, ...]:
        """Every countable value, notes then coins, largest first."""
        return self.notes + self.coins


# Values in circulation that a drawer holds; rarely seen ones (USD $1 coin, EUR 500 note
# printing stopped but still legal) are included where cashiers still meet them.
DENOMINATIONS: Mapping[str, DenominationSet] = {
    "USD": DenominationSet("USD", _d("100 50 20 10 5 2 1"), _d("0.50 0.25 0.10 0.05 0.01")),
    "EUR": DenominationSet(
        "EUR", _d("500 200 100 50 20 10 5"), _d("2 1 0.50 0.20 0.10 0.05 0.02 0.01")
    ),
    "GBP": DenominationSet("GBP", _d("50 20 10 5"), _d("2 1 0.50 0.20 0.10 0.05 0.02 0.01")),
    # BDT 1, 2 and 5 exist as notes and coins; a drawer counts them by value either way.
    "BDT": DenominationSet("BDT", _d("1000 500 200 100 50 20 10 5 2 1"), ()),
    "JPY": DenominationSet("JPY", _d("10000 5000 2000 1000"), _d("500 100 50 10 5 1")),
}


def denominations_for(currency: str) -> DenominationSet:
    """The denomination set of a currency, or raise :class:`UnknownDenomination`."""
    try:
        return DENOMINATIONS[currency.upper()]
    except KeyError:
        known = ", ".join(sorted(DENOMINATIONS))
        raise UnknownDenomination(
            f"no denominations are defined for {currency.upper()}; known: {known}"
        ) from None


@dataclass(frozen=True, slots=True)
class CashCountLine:
    """How many of one note or coin were counted."""

    value: Decimal
    count: int
    subtotal: Decimal


@dataclass(frozen=True, slots=True)
class CashCount:
    """A drawer count by denomination, with its total."""

    currency: str
    lines: tuple[CashCountLine, ...]
    total: Decimal


def _parse_value(raw: object, currency: str) -> Decimal:
    if isinstance(raw, Decimal):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Decimal(raw)
    if isinstance(raw, str):
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            pass
    # Floats are refused like everywhere else in money code: 0.1 is not exactly a dime.
    raise UnknownDenomination(f"{raw!r} is not a {currency} denomination")


def count_cash(currency: str, counts: Mapping[Any, int]) -> CashCount:
    """Total a count keyed by denomination value (``{"20": 3, "0.25": 4}``), validating it.

    Keys may be Decimal, int or str (as in the stored JSON); floats are refused.
    """
    denoms = denominations_for(currency)
    allowed = set(denoms.values)
    by_value: dict[Decimal, int] = {}
    for raw, count in counts.items():
        value = _parse_value(raw, denoms.currency)
        if value not in allowed:
            valid = ", ".join(str(v) for v in denoms.values)
            raise UnknownDenomination(
                f"{raw} is not a {denoms.currency} denomination; valid values are {valid}"
            )
        if isinstance(count, bool) or not isinstance(count, int):
            raise InvalidCount(f"count of {value} {denoms.currency} must be a whole number")
        if count < 0:
            raise InvalidCount(f"count of {value} {denoms.currency} cannot be negative ({count})")
        if value in by_value:
            raise InvalidCount(f"{value} {denoms.currency} is counted twice")
        by_value[value] = count
    lines = tuple(
        CashCountLine(value, by_value.get(value, 0), value * by_value.get(value, 0))
        for value in denoms.values
    )
    total = round_money(sum((line.subtotal for line in lines), ZERO), denoms.currency)
    return CashCount(denoms.currency, lines, total)


def counts_to_json(count: CashCount) -> dict[str, int]:
    """The non-zero counts as PosSession.counted_by_denomination JSON (value string to count)."""
    return {str(line.value): line.count for line in count.lines if line.count}


@dataclass(frozen=True, slots=True)
class CashMovement:
    """A drawer movement outside a sale: pay-in, pay-out or drop to the safe."""

    type: CashMovementType
    amount: Decimal
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CashSummary:
    """The parts of expected cash, each already summed."""

    currency: str
    opening_float: Decimal
    cash_sales: Decimal
    cash_refunds: Decimal
    pay_ins: Decimal
    pay_outs: Decimal
    drops: Decimal
    expected: Decimal


def expected_cash(
    opening_float: Decimal,
    cash_sales: Decimal,
    cash_refunds: Decimal,
    pay_ins: Decimal,
    pay_outs: Decimal,
    drops: Decimal,
    currency: str,
) -> Decimal:
    """Opening float + cash sales - cash refunds + pay-ins - pay-outs - drops, rounded."""
    parts = {
        "opening float": opening_float,
        "cash sales": cash_sales,
        "cash refunds": cash_refunds,
        "pay-ins": pay_ins,
        "pay-outs": pay_outs,
        "drops": drops,
    }
    for name, value in parts.items():
        if value < ZERO:
            raise InvalidCashAmount(f"{name} cannot be negative, got {value}")
    total = opening_float + cash_sales - cash_refunds + pay_ins - pay_outs - drops
    return round_money(total, currency)


def summarize_cash(
    opening_float: Decimal,
    cash_sales: Iterable[Decimal],
    cash_refunds: Iterable[Decimal],
    movements: Iterable[CashMovement],
    currency: str,
) -> CashSummary:
    """Sum a session's cash facts into a :class:`CashSummary` with the expected amount.

    ``cash_sales`` are amounts kept by each sale (tendered minus change).
    """
    movements = tuple(movements)
    for m in movements:
        if m.amount <= ZERO:
            raise InvalidCashAmount(f"a {m.type} must be a positive amount, got {m.amount}")

    def moved(kind: CashMovementType) -> Decimal:
        return sum((m.amount for m in movements if m.type is kind), ZERO)

    sales = sum(cash_sales, ZERO)
    refunds = sum(cash_refunds, ZERO)
    pay_ins = moved(CashMovementType.PAY_IN)
    pay_outs = moved(CashMovementType.PAY_OUT)
    drops = moved(CashMovementType.DROP)
    expected = expected_cash(opening_float, sales, refunds, pay_ins, pay_outs, drops, currency)
    return CashSummary(
        currency.upper(), opening_float, sales, refunds, pay_ins, pay_outs, drops, expected
    )


def over_short(counted: Decimal, expected: Decimal, currency: str) -> Decimal:
    """Counted minus expected: positive is over, negative is short."""
    return round_money(counted - expected, currency)


def needs_sign_off(difference: Decimal, tolerance: Decimal) -> bool:
    """True when an over/short is beyond the store's tolerance and a manager must approve."""
    if tolerance < ZERO:
        raise InvalidCashAmount(f"cash difference tolerance cannot be negative, got {tolerance}")
    return abs(difference) > tolerance

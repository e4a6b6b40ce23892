"""Tax rules: which rates apply, exemptions, and the arithmetic (exclusive, inclusive, rounding).

Rules (product decisions §3a, 2-4):

- A rate matches an address when it is active, its country equals the address's, and each of
  state, city and postal code is null or equal. Comparison ignores case and surrounding spaces;
  postal codes also ignore inner spaces ("H2X 1Y4" == "h2x1y4").
- Rates apply by ascending priority; equal priorities are ordered by rate id so the till and the
  server order them the same way whatever order the rows arrive in.
- Tax is computed on the line total. Per-line mode rounds each rate separately, then sums. A
  compound rate is charged on the base plus the line's earlier taxes (the rounded ones in per-line
  mode). Per-order mode sums the unrounded tax per rate over the order, rounds once per rate, and
  hands the rounded total back to the lines by largest remainder so lines still add up.
- Tax-inclusive amounts: with one rate, tax = round(amount x r / (1 + r)), base = amount - tax.
  With several rates we use the exact back-out: let c_i be what rate i charges on a base of 1
  (c_i = r_i, or r_i x (1 + earlier c) when compound) and M = 1 + sum(c_i); then
  tax_i = round(amount x c_i / M), each rate rounded separately, and base = amount - sum(tax_i).
  That reduces to the one-rate formula, keeps base + taxes == amount exactly, and never rounds a
  combined rate in one go.
- An exempt customer pays no tax. On tax-inclusive prices the tax the price contains is taken
  out, so the customer pays the base (FR-02F: exemption overrides everything). A non-taxable
  product simply has no rates: its price, inclusive or not, is all base.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stormcom_pos.domain.allocation import allocate
from stormcom_pos.domain.enums import TaxExemptionStatus
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import round_money

__all__ = [
    "InvalidTaxRate",
    "RateAmount",
    "TaxAddress",
    "TaxExemption",
    "TaxExemptionStatus",
    "TaxRate",
    "TaxResult",
    "TaxRounding",
    "TaxSummary",
    "compute_taxes",
    "exemption_applies",
    "is_tax_exempt",
    "line_rates",
    "matching_rates",
    "rate_amounts",
    "rate_matches",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class InvalidTaxRate(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_tax_rate"


class TaxRounding(StrEnum):
    PER_LINE = "per_line"
    PER_ORDER = "per_order"


@dataclass(frozen=True, slots=True)
class TaxRate:
    """A tax rate row; ``rate`` is a fraction (0.09975 for 9.975%)."""

    id: str
    name: str
    rate: Decimal
    country: str
    state: str | None = None
    city: str | None = None
    postal_code: str | None = None
    priority: int = 0
    is_compound: bool = False
    is_active: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate < 0:
            raise InvalidTaxRate(f"tax rate {self.name!r} must be a Decimal >= 0, got {self.rate}")


@dataclass(frozen=True, slots=True)
class TaxAddress:
    """The address taxes are matched against: shipping address online, the store at the till."""

    country: str
    state: str | None = None
    city: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, slots=True)
class TaxExemption:
    """A customer's exemption certificate; only APPROVED and unexpired ones count."""

    id: str
    customer_id: str
    status: TaxExemptionStatus
    expires_at: datetime
    certificate_num: str = ""
    issuing_state: str | None = None


@dataclass(frozen=True, slots=True)
class RateAmount:
    """The tax one rate charged on one line."""

    rate_id: str
    name: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class TaxSummary:
    """One rate's totals for the tax report: the tax-exclusive line bases it applied to, its tax."""

    rate_id: str
    name: str
    rate: Decimal
    is_compound: bool
    priority: int
    taxable_amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class TaxResult:
    """Per-line results as parallel tuples, plus the order totals.

    Line i was taxed at ``rates[i]`` (empty when exempt or untaxed), charging ``amounts[i]``
    (one per rate), ``line_tax[i]`` in all, on a tax-exclusive base of ``bases[i]``.
    """

    bases: tuple[Decimal, ...]
    rates: tuple[tuple[TaxRate, ...], ...]
    amounts: tuple[tuple[Decimal, ...], ...]
    line_tax: tuple[Decimal, ...]
    by_rate: tuple[TaxSummary, ...]
    tax: Decimal


def rate_amounts(
    rates: tuple[TaxRate, ...], amounts: tuple[Decimal, ...]
) -> tuple[RateAmount, ...]:
    """Pair each rate with the tax it charged."""
    return tuple(RateAmount(r.id, r.name, r.rate, a) for r, a in zip(rates, amounts, strict=True))


def _norm(value: str | None) -> str:
    return value.strip().casefold() if value else ""


def _norm_postal(value: str | None) -> str:
    return "".join(value.split()).casefold() if value else ""


def rate_matches(rate: TaxRate, address: TaxAddress) -> bool:
    """True when the rate is active and its country, state, city and postal code fit the address."""
    if not rate.is_active or _norm(rate.country) != _norm(address.country):
        return False
    if rate.state and _norm(rate.state) != _norm(address.state):
        return False
    if rate.city and _norm(rate.city) != _norm(address.city):
        return False
    return not rate.postal_code or _norm_postal(rate.postal_code) == _norm_postal(
        address.postal_code
    )


def _rate_order(rate: TaxRate) -> tuple[int, str]:
    return (rate.priority, rate.id)


def matching_rates(rates: Iterable[TaxRate], address: TaxAddress) -> tuple[TaxRate, ...]:
    """The rates that apply at an address, by ascending priority (then id)."""
    return tuple(sorted((r for r in rates if rate_matches(r, address)), key=_rate_order))


def exemption_applies(exemption: TaxExemption, customer_id: str, now: datetime) -> bool:
    """True for the customer's own APPROVED certificate before its expiry instant."""
    return (
        exemption.customer_id == customer_id
        and exemption.status is TaxExemptionStatus.APPROVED
        and now < exemption.expires_at
    )


def is_tax_exempt(
    customer_id: str | None,
    customer_is_tax_exempt: bool,
    exemptions: Iterable[TaxExemption],
    now: datetime,
) -> bool:
    """Whether a sale to this customer carries no tax (the customer flag or a live certificate)."""
    if customer_id is None:
        return False
    if customer_is_tax_exempt:
        return True
    return any(exemption_applies(e, customer_id, now) for e in exemptions)


def line_rates(
    *,
    taxable: bool,
    tax_rate_id: str | None,
    address_rates: tuple[TaxRate, ...],
    rates_by_id: dict[str, TaxRate],
    address: TaxAddress,
) -> tuple[TaxRate, ...]:
    """The rates for one product: none if non-taxable, its own rate if set and valid here."""
    if not taxable:
        return ()
    if tax_rate_id is not None:
        own = rates_by_id.get(tax_rate_id)
        # A product's own rate belongs to a region; outside it (or if it was switched off) the
        # region's normal rates apply rather than none at all.
        if own is not None and rate_matches(own, address):
            return (own,)
    return address_rates


class _Plan:
    """Per distinct rate tuple: the rates' fields unpacked once, and the inclusive back-out."""

    __slots__ = ("rates", "ids", "values", "compound", "any_compound", "coefficients", "multiplier")

    def __init__(self, rates: tuple[TaxRate, ...]) -> None:
        self.rates = rates
        self.ids = [r.id for r in rates]
        self.values = [r.rate for r in rates]
        self.compound = [r.is_compound for r in rates]
        self.any_compound = any(self.compound)
        coefficients: list[Decimal] = []
        earlier = _ZERO
        for rate in rates:
            c = rate.rate * (_ONE + earlier) if rate.is_compound else rate.rate
            coefficients.append(c)
            earlier += c
        # What each rate charges on a base of 1, and the gross multiplier 1 + their sum.
        self.coefficients = coefficients
        self.multiplier = _ONE + earlier


def _plans(rate_sets: Sequence[tuple[TaxRate, ...]]) -> dict[int, _Plan]:
    # Keyed by identity: hashing a tuple of rate dataclasses on every line costs more than the
    # tax itself, and callers pass the same tuple object for lines with the same rates.
    plans: dict[int, _Plan] = {}
    for rates in rate_sets:
        if rates and id(rates) not in plans:
            plans[id(rates)] = _Plan(rates)
    return plans


def _unrounded(amount: Decimal, plan: _Plan, inclusive: bool) -> list[Decimal]:
    if inclusive:
        multiplier = plan.multiplier
        return [amount * c / multiplier for c in plan.coefficients]
    taxes: list[Decimal] = []
    earlier = _ZERO
    for value, compound in zip(plan.values, plan.compound, strict=True):
        t = (amount + earlier) * value if compound else amount * value
        taxes.append(t)
        earlier += t
    return taxes


def _per_line(
    amounts: Sequence[Decimal],
    rate_sets: Sequence[tuple[TaxRate, ...]],
    exempt: bool,
    plans: dict[int, _Plan],
    currency: str,
    inclusive: bool,
) -> list[list[Decimal] | None]:
    """Each rate rounded on its own, line by line; compound rates see the rounded earlier taxes."""
    result: list[list[Decimal] | None] = []
    for amount, rates in zip(amounts, rate_sets, strict=True):
        if not rates or (exempt and not inclusive):
            result.append(None)
            continue
        plan = plans[id(rates)]
        if inclusive:
            multiplier = plan.multiplier
            result.append(
                [round_money(amount * c / multiplier, currency) for c in plan.coefficients]
            )
            continue
        if not plan.any_compound:
            result.append([round_money(amount * value, currency) for value in plan.values])
            continue
        taxes: list[Decimal] = []
        earlier = _ZERO
        for value, compound in zip(plan.values, plan.compound, strict=True):
            t = round_money((amount + earlier) * value if compound else amount * value, currency)
            taxes.append(t)
            earlier += t
        result.append(taxes)
    return result


def _per_order(
    amounts: Sequence[Decimal],
    rate_sets: Sequence[tuple[TaxRate, ...]],
    exempt: bool,
    plans: dict[int, _Plan],
    currency: str,
    inclusive: bool,
) -> list[list[Decimal] | None]:
    """Round once per rate over the order, then give each line its largest-remainder share."""
    result: list[list[Decimal] | None] = []
    # Lines that carry each distinct rate tuple, so slots per rate are gathered per tuple.
    members: dict[int, list[list[Decimal]]] = {}
    for amount, rates in zip(amounts, rate_sets, strict=True):
        if not rates or (exempt and not inclusive):
            result.append(None)
            continue
        taxes = _unrounded(amount, plans[id(rates)], inclusive)
        if exempt:
            # The tax taken out of an exempt customer's inclusive price is not reported, so it
            # is rounded per line and kept out of the per-rate sums.
            result.append([round_money(t, currency) for t in taxes])
            continue
        result.append(taxes)
        members.setdefault(id(rates), []).append(taxes)
    slots: dict[str, list[tuple[list[list[Decimal]], int]]] = {}
    for key, rows in members.items():
        for j, rate_id in enumerate(plans[key].ids):
            slots.setdefault(rate_id, []).append((rows, j))
    for groups in slots.values():
        weights = [row[j] for rows, j in groups for row in rows]
        total = round_money(sum(weights, _ZERO), currency)
        shares = iter(allocate(total, weights, currency))
        # The rows are the lines' own tax lists: overwrite each unrounded tax with its share.
        for rows, j in groups:
            for row in rows:
                row[j] = next(shares)
    return result


def compute_taxes(
    amounts: Sequence[Decimal],
    rate_sets: Sequence[tuple[TaxRate, ...]],
    *,
    currency: str,
    inclusive: bool,
    rounding: TaxRounding = TaxRounding.PER_LINE,
    exempt: bool = False,
) -> TaxResult:
    """Tax each amount at its ordered rates; the lines always add up to the per-rate totals.

    ``amounts`` are line totals (after discounts; include the shipping charge as one more line)
    in the store's convention, tax-inclusive when ``inclusive``. ``rate_sets[i]`` are line i's
    rates from :func:`line_rates`; pass the same tuple object for lines with the same rates.
    ``exempt`` is the customer's exemption and applies to every line.
    """
    zero = round_money(_ZERO, currency)
    plans = _plans(rate_sets)
    if rounding is TaxRounding.PER_LINE:
        per_item = _per_line(amounts, rate_sets, exempt, plans, currency, inclusive)
    else:
        per_item = _per_order(amounts, rate_sets, exempt, plans, currency, inclusive)

    bases: list[Decimal] = []
    charged_at: list[tuple[TaxRate, ...]] = []
    charged: list[tuple[Decimal, ...]] = []
    line_tax: list[Decimal] = []
    # Bases and tax rows per distinct rate tuple, summed per rate at the end.
    groups: dict[int, tuple[list[Decimal], list[list[Decimal]]]] = {}
    for amount, rates, taxes in zip(amounts, rate_sets, per_item, strict=True):
        tax_sum = sum(taxes, zero) if taxes else zero
        base = amount - tax_sum if inclusive else amount
        bases.append(base)
        if taxes is None or exempt:
            # Exempt: the tax an inclusive price contains is taken out, and none is charged.
            charged_at.append(())
            charged.append(())
            line_tax.append(zero)
            continue
        group = groups.setdefault(id(rates), ([], []))
        group[0].append(base)
        group[1].append(taxes)
        charged_at.append(rates)
        charged.append(tuple(taxes))
        line_tax.append(tax_sum)

    totals: dict[str, tuple[TaxRate, list[Decimal]]] = {}
    for key, (group_bases, rows) in groups.items():
        base_sum = sum(group_bases, zero)
        for rate, column in zip(plans[key].rates, zip(*rows, strict=True), strict=True):
            running = totals.setdefault(rate.id, (rate, [zero, zero]))[1]
            running[0] += base_sum
            running[1] += sum(column, zero)
    by_rate = tuple(
        TaxSummary(r.id, r.name, r.rate, r.is_compound, r.priority, *sums)
        for r, sums in sorted(totals.values(), key=lambda item: _rate_order(item[0]))
    )
    return TaxResult(
        tuple(bases),
        tuple(charged_at),
        tuple(charged),
        tuple(line_tax),
        by_rate,
        sum((summary.tax for summary in by_rate), zero),
    )

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
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import round_money

__all__ = [
    "InvalidTaxRate",
    "LineTax",
    "RateAmount",
    "TaxAddress",
    "TaxExemption",
    "TaxExemptionStatus",
    "TaxRate",
    "TaxResult",
    "TaxRounding",
    "TaxSummary",
    "TaxableAmount",
    "compute_taxes",
    "exemption_applies",
    "is_tax_exempt",
    "line_rates",
    "matching_rates",
    "rate_matches",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class InvalidTaxRate(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_tax_rate"


class TaxRounding(StrEnum):
    PER_LINE = "per_line"
    PER_ORDER = "per_order"


class TaxExemptionStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"


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
class TaxableAmount:
    """One line (or the shipping charge) to tax: its amount and its resolved, ordered rates."""

    key: str
    amount: Decimal
    rates: tuple[TaxRate, ...]
    exempt: bool = False


@dataclass(frozen=True, slots=True)
class RateAmount:
    """The tax one rate charged on one line."""

    rate_id: str
    name: str
    rate: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineTax:
    """A line's tax-exclusive base, its tax per rate and their sum; base + tax is what it costs."""

    key: str
    base: Decimal
    taxes: tuple[RateAmount, ...]
    tax: Decimal


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
    """Taxes for every item, the totals per rate, and the total tax."""

    lines: tuple[LineTax, ...]
    by_rate: tuple[TaxSummary, ...]
    tax: Decimal


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


def _coefficients(rates: tuple[TaxRate, ...]) -> tuple[tuple[Decimal, ...], Decimal]:
    """What each rate charges on a base of 1, and 1 + their sum (the gross multiplier)."""
    coefficients: list[Decimal] = []
    earlier = _ZERO
    for rate in rates:
        c = rate.rate * (_ONE + earlier) if rate.is_compound else rate.rate
        coefficients.append(c)
        earlier += c
    return tuple(coefficients), _ONE + earlier


def _unrounded(
    item: TaxableAmount,
    inclusive: bool,
    cache: dict[tuple[TaxRate, ...], tuple[tuple[Decimal, ...], Decimal]],
) -> list[Decimal]:
    if inclusive:
        factors = cache.get(item.rates)
        if factors is None:
            factors = cache[item.rates] = _coefficients(item.rates)
        coefficients, multiplier = factors
        return [item.amount * c / multiplier for c in coefficients]
    taxes: list[Decimal] = []
    earlier = _ZERO
    for rate in item.rates:
        t = (item.amount + earlier) * rate.rate if rate.is_compound else item.amount * rate.rate
        taxes.append(t)
        earlier += t
    return taxes


def _per_line(
    item: TaxableAmount,
    currency: str,
    inclusive: bool,
    cache: dict[tuple[TaxRate, ...], tuple[tuple[Decimal, ...], Decimal]],
) -> list[Decimal]:
    if inclusive:
        return [round_money(t, currency) for t in _unrounded(item, True, cache)]
    taxes: list[Decimal] = []
    earlier = _ZERO
    for rate in item.rates:
        basis = item.amount + earlier if rate.is_compound else item.amount
        t = round_money(basis * rate.rate, currency)
        taxes.append(t)
        earlier += t
    return taxes


def compute_taxes(
    items: Sequence[TaxableAmount],
    *,
    currency: str,
    inclusive: bool,
    rounding: TaxRounding = TaxRounding.PER_LINE,
) -> TaxResult:
    """Tax every item under the store's convention; lines always add up to the per-rate totals."""
    zero = round_money(_ZERO, currency)
    cache: dict[tuple[TaxRate, ...], tuple[tuple[Decimal, ...], Decimal]] = {}
    per_item: list[list[Decimal]] = []
    if rounding is TaxRounding.PER_LINE:
        for item in items:
            per_item.append(_per_line(item, currency, inclusive, cache) if item.rates else [])
    else:
        per_item = _per_order(items, currency, inclusive, cache)

    lines: list[LineTax] = []
    totals: dict[str, list[Decimal]] = {}
    seen: dict[str, TaxRate] = {}
    for item, taxes in zip(items, per_item, strict=True):
        tax_sum = sum(taxes, zero)
        base = item.amount - tax_sum if inclusive else item.amount
        if item.exempt:
            # Exempt: the tax an inclusive price contains is taken out, and none is charged.
            lines.append(LineTax(item.key, base, (), zero))
            continue
        amounts = []
        for rate, amount in zip(item.rates, taxes, strict=True):
            amounts.append(RateAmount(rate.id, rate.name, rate.rate, amount))
            running = totals.get(rate.id)
            if running is None:
                seen[rate.id] = rate
                totals[rate.id] = [base, amount]
            else:
                running[0] += base
                running[1] += amount
        lines.append(LineTax(item.key, base, tuple(amounts), tax_sum))
    by_rate = tuple(
        TaxSummary(r.id, r.name, r.rate, r.is_compound, r.priority, *totals[r.id])
        for r in sorted(seen.values(), key=_rate_order)
    )
    tax = sum((s.tax for s in by_rate), zero)
    return TaxResult(tuple(lines), by_rate, tax)


def _per_order(
    items: Sequence[TaxableAmount],
    currency: str,
    inclusive: bool,
    cache: dict[tuple[TaxRate, ...], tuple[tuple[Decimal, ...], Decimal]],
) -> list[list[Decimal]]:
    """Round once per rate over the order, then give each line its largest-remainder share."""
    unrounded = [_unrounded(item, inclusive, cache) if item.rates else [] for item in items]
    # Exempt lines' removed tax is not reported, so it is rounded per line and kept out of the
    # order sums that feed the per-rate totals.
    result: list[list[Decimal]] = [
        [round_money(t, currency) for t in taxes] if item.exempt else [_ZERO] * len(taxes)
        for item, taxes in zip(items, unrounded, strict=True)
    ]
    slots: dict[str, list[tuple[int, int]]] = {}
    for i, item in enumerate(items):
        if item.exempt:
            continue
        for j, rate in enumerate(item.rates):
            slots.setdefault(rate.id, []).append((i, j))
    for positions in slots.values():
        weights = [unrounded[i][j] for i, j in positions]
        total = round_money(sum(weights, _ZERO), currency)
        for (i, j), share in zip(positions, allocate(total, weights, currency), strict=True):
            result[i][j] = share
    return result

"""Shipping zones and rates: which zone covers an address and what each rate costs.

Zone semantics (ShippingZone.countries / states / postalCodes):

- A country entry is an ISO 3166-1 code or ``*`` (any country). An empty list also means any.
- An empty states list means any state; otherwise the address's state must be listed.
- Postal patterns: ``*`` matches anything, a ``*`` elsewhere matches any run of characters
  (``"90*"`` is a prefix, ``"SW1A*"`` too), and a pattern without ``*`` must match exactly.
  Codes are compared upper-case with whitespace removed. An empty list means any code.
- When several zones cover an address the most specific wins: a postal match beats a state
  match beats a country match beats a catch-all; a longer literal postal pattern beats a
  shorter one; remaining ties go to the zone listed first.

Rates: FLAT_RATE, WEIGHT_BASED and PRICE_BASED charge ``cost``; PERCENTAGE charges ``cost``
percent of the merchandise subtotal. Conditions (minWeight, maxWeight in kg; minPrice,
maxPrice on the subtotal) are inclusive at both ends and apply to every rate type, so a
weight-based table is a set of rates with adjacent weight bands. A free-shipping threshold
makes the rate cost zero when the subtotal is at least the threshold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from stormcom_pos.domain.enums import ShippingRateType
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, round_money, to_decimal

__all__ = [
    "InvalidShippingRate",
    "NoShippingRate",
    "NoShippingZone",
    "RateConditions",
    "ShippingAddress",
    "ShippingQuote",
    "ShippingRate",
    "ShippingZone",
    "match_zone",
    "postal_pattern_matches",
    "quote_rates",
    "rate_cost",
]

_HUNDRED = Decimal(100)


class NoShippingZone(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "no_shipping_zone"


class NoShippingRate(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "no_shipping_rate"


class InvalidShippingRate(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_shipping_rate"


@dataclass(frozen=True, slots=True)
class ShippingAddress:
    """The parts of a destination that zones look at."""

    country: str
    state: str | None = None
    postal_code: str | None = None

    def describe(self) -> str:
        """A short human form such as ``US, CA 90210`` for error messages."""
        parts = [self.country.upper()]
        tail = " ".join(p for p in (self.state, self.postal_code) if p)
        return ", ".join([*parts, tail]) if tail else parts[0]


@dataclass(frozen=True, slots=True)
class RateConditions:
    """Inclusive bounds a cart must meet for a rate to be offered; None means no bound."""

    min_weight: Decimal | None = None
    max_weight: Decimal | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RateConditions:
        """Read ShippingRate.conditions, e.g. ``{"minWeight": 0, "maxWeight": 10}``."""

        def get(camel: str, snake: str) -> Decimal | None:
            raw = data.get(camel, data.get(snake))
            if isinstance(raw, float):
                # json.loads yields floats; str() gives back the literal that was stored.
                raw = str(raw)
            return None if raw is None else to_decimal(raw)

        return cls(
            min_weight=get("minWeight", "min_weight"),
            max_weight=get("maxWeight", "max_weight"),
            min_price=get("minPrice", "min_price"),
            max_price=get("maxPrice", "max_price"),
        )

    def accepts(self, subtotal: Decimal, weight_kg: Decimal) -> bool:
        """True when the cart's weight and subtotal fall inside every bound."""
        return (
            (self.min_weight is None or weight_kg >= self.min_weight)
            and (self.max_weight is None or weight_kg <= self.max_weight)
            and (self.min_price is None or subtotal >= self.min_price)
            and (self.max_price is None or subtotal <= self.max_price)
        )


@dataclass(frozen=True, slots=True)
class ShippingRate:
    """One rate offered inside a zone."""

    id: str
    name: str
    rate_type: ShippingRateType
    cost: Decimal
    free_shipping_threshold: Decimal | None = None
    conditions: RateConditions = RateConditions()
    min_delivery_days: int | None = None
    max_delivery_days: int | None = None
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class ShippingZone:
    """A geographic zone and its rates."""

    id: str
    name: str
    countries: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    postal_codes: tuple[str, ...] = ()
    rates: tuple[ShippingRate, ...] = ()
    is_active: bool = True


@dataclass(frozen=True, slots=True)
class ShippingQuote:
    """A rate the customer may choose, with its rounded cost for this cart."""

    zone_id: str
    rate_id: str
    name: str
    cost: Decimal
    is_free: bool
    min_delivery_days: int | None
    max_delivery_days: int | None


def _norm_postal(code: str) -> str:
    return "".join(code.split()).upper()


def postal_pattern_matches(pattern: str, postal_code: str) -> bool:
    """Whether a postal pattern (``*`` any run of characters) matches a postal code."""
    pat = _norm_postal(pattern)
    code = _norm_postal(postal_code)
    if "*" not in pat:
        return pat == code
    regex = ".*".join(re.escape(part) for part in pat.split("*"))
    return re.fullmatch(regex, code) is not None


def _postal_rank(zone: ShippingZone, postal_code: str | None) -> tuple[int, int] | None:
    """(exact?, literal length) of the best matching pattern; (0, 0) if unrestricted."""
    patterns = [p for p in zone.postal_codes if _norm_postal(p) not in ("", "*")]
    if not patterns:
        return (0, 0)
    if not postal_code:
        return None
    best: tuple[int, int] | None = None
    for pattern in patterns:
        if postal_pattern_matches(pattern, postal_code):
            norm = _norm_postal(pattern)
            rank = (0 if "*" in norm else 1, len(norm.replace("*", "")))
            best = rank if best is None or rank > best else best
    return best


def _zone_rank(
    zone: ShippingZone, address: ShippingAddress
) -> tuple[tuple[int, int], int, int] | None:
    countries = {c.strip().upper() for c in zone.countries} - {""}
    if countries and "*" not in countries and address.country.strip().upper() not in countries:
        return None
    country_rank = 1 if countries and "*" not in countries else 0
    states = {s.strip().upper() for s in zone.states} - {""}
    if states and (not address.state or address.state.strip().upper() not in states):
        return None
    state_rank = 1 if states else 0
    postal_rank = _postal_rank(zone, address.postal_code)
    if postal_rank is None:
        return None
    return (postal_rank, state_rank, country_rank)


def match_zone(zones: Iterable[ShippingZone], address: ShippingAddress) -> ShippingZone:
    """The most specific active zone covering the address, or raise :class:`NoShippingZone`."""
    best: ShippingZone | None = None
    best_rank: tuple[tuple[int, int], int, int] | None = None
    for zone in zones:
        if not zone.is_active:
            continue
        rank = _zone_rank(zone, address)
        # Strictly greater keeps the earlier zone on ties.
        if rank is not None and (best_rank is None or rank > best_rank):
            best, best_rank = zone, rank
    if best is None:
        raise NoShippingZone(f"no shipping zone covers the address {address.describe()}")
    return best


def rate_cost(
    rate: ShippingRate, subtotal: Decimal, weight_kg: Decimal, currency: str
) -> Decimal | None:
    """The rounded cost of a rate for a cart, or None when its conditions exclude the cart."""
    if rate.cost < ZERO:
        raise InvalidShippingRate(f"shipping rate {rate.name!r} has a negative cost {rate.cost}")
    if not rate.is_active or not rate.conditions.accepts(subtotal, weight_kg):
        return None
    if rate.free_shipping_threshold is not None and subtotal >= rate.free_shipping_threshold:
        return round_money(ZERO, currency)
    if rate.rate_type is ShippingRateType.PERCENTAGE:
        return round_money(subtotal * rate.cost / _HUNDRED, currency)
    return round_money(rate.cost, currency)


def quote_rates(
    zones: Iterable[ShippingZone],
    address: ShippingAddress,
    subtotal: Decimal,
    weight_kg: Decimal,
    currency: str,
) -> tuple[ShippingQuote, ...]:
    """Every rate offered for this address and cart, cheapest first.

    ``subtotal`` is the merchandise subtotal after discounts and before tax and shipping.
    Raises :class:`NoShippingZone` or :class:`NoShippingRate` because checkout must stop then.
    """
    if weight_kg < ZERO:
        raise InvalidShippingRate(f"cart weight cannot be negative, got {weight_kg} kg")
    zone = match_zone(zones, address)
    quotes: list[ShippingQuote] = []
    for rate in zone.rates:
        cost = rate_cost(rate, subtotal, weight_kg, currency)
        if cost is None:
            continue
        quotes.append(
            ShippingQuote(
                zone_id=zone.id,
                rate_id=rate.id,
                name=rate.name,
                cost=cost,
                is_free=cost == ZERO,
                min_delivery_days=rate.min_delivery_days,
                max_delivery_days=rate.max_delivery_days,
            )
        )
    if not quotes:
        raise NoShippingRate(
            f"shipping zone {zone.name!r} has no rate for {address.describe()} with a "
            f"subtotal of {subtotal} {currency.upper()} and a weight of {weight_kg} kg"
        )
    # sorted() is stable, so equal costs keep the store's order.
    return tuple(sorted(quotes, key=lambda q: q.cost))

"""Shipping: zone matching by country, state and postal pattern; rate types and conditions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import ShippingRateType as T
from stormcom_pos.domain.shipping import (
    InvalidShippingRate,
    NoShippingRate,
    NoShippingZone,
    RateConditions,
    ShippingAddress,
    ShippingRate,
    ShippingZone,
    match_zone,
    postal_pattern_matches,
    quote_rates,
    rate_cost,
)

D = Decimal


@pytest.mark.parametrize(
    ("pattern", "code", "ok"),
    [
        ("*", "90210", True),
        ("90*", "90210", True),
        ("90*", "91210", False),
        ("90210", "90210", True),
        ("90210", "902101", False),
        ("sw1a*", "SW1A 1AA", True),  # case and spaces ignored
        ("1*", "1000", True),
        ("1*", "2100", False),
        ("*00", "1200", True),  # a star anywhere matches any run
        ("9*0", "9121", False),
        ("9.*", "9123", False),  # a dot is literal, not a regex
    ],
)
def test_postal_patterns(pattern: str, code: str, ok: bool) -> None:
    assert postal_pattern_matches(pattern, code) is ok


def rate(rid: str, rtype: T = T.FLAT_RATE, cost: str = "5", **kw: object) -> ShippingRate:
    return ShippingRate(id=rid, name=rid, rate_type=rtype, cost=D(cost), **kw)  # type: ignore[arg-type]


WORLD = ShippingZone("world", "Rest of world", countries=("*",), rates=(rate("intl", cost="25"),))
US = ShippingZone("us", "United States", countries=("US",), rates=(rate("std"),))
CALIFORNIA = ShippingZone("ca", "California", countries=("US",), states=("CA",))
LA = ShippingZone("la", "Los Angeles", countries=("US",), postal_codes=("900*", "902*"))
BEVERLY = ShippingZone("bh", "Beverly Hills", countries=("us",), postal_codes=("90210",))
DHAKA = ShippingZone("dhaka", "Dhaka", countries=("BD",), postal_codes=("12*", "13*"))
INACTIVE = ShippingZone("old", "Old", countries=("FR",), is_active=False)
ZONES = (WORLD, US, CALIFORNIA, LA, BEVERLY, DHAKA, INACTIVE)


@pytest.mark.parametrize(
    ("address", "zone_id"),
    [
        (ShippingAddress("US", "NY", "10001"), "us"),
        (ShippingAddress("US", "CA", "94105"), "ca"),  # state beats country
        (ShippingAddress("US", "CA", "90012"), "la"),  # postal beats state
        (ShippingAddress("US", "CA", "90210"), "bh"),  # exact beats prefix
        (ShippingAddress("us", "ca", "90210"), "bh"),
        (ShippingAddress("DE", None, "10115"), "world"),
        (ShippingAddress("BD", "Dhaka", "1207"), "dhaka"),
        (ShippingAddress("BD", None, "4000"), "world"),  # Chattogram: outside the Dhaka zone
        (ShippingAddress("FR", None, "75001"), "world"),  # inactive zone is ignored
        (ShippingAddress("US", None, None), "us"),  # a state-only zone needs a state
    ],
)
def test_most_specific_zone_wins(address: ShippingAddress, zone_id: str) -> None:
    assert match_zone(ZONES, address).id == zone_id


def test_ties_go_to_the_zone_listed_first() -> None:
    a = ShippingZone("a", "A", countries=("US",))
    b = ShippingZone("b", "B", countries=("US", "CA"))
    assert match_zone((a, b), ShippingAddress("US")).id == "a"
    assert match_zone((b, a), ShippingAddress("US")).id == "b"


def test_empty_zone_lists_match_anything() -> None:
    assert match_zone((ShippingZone("any", "Any"),), ShippingAddress("JP", None, "100-0001"))


def test_no_zone_names_the_address() -> None:
    with pytest.raises(NoShippingZone, match=r"US, CA 90210") as err:
        match_zone((DHAKA,), ShippingAddress("US", "CA", "90210"))
    assert err.value.code == "no_shipping_zone"


SUB = D("80.00")
KG = D("2.5")


@pytest.mark.parametrize(
    ("r", "subtotal", "weight", "cost"),
    [
        (rate("flat", cost="4.99"), SUB, KG, D("4.99")),
        (rate("pct", T.PERCENTAGE, "7.5"), D("33.33"), KG, D("2.50")),  # 2.499975 -> 2.50
        (rate("pct", T.PERCENTAGE, "10"), D("0.05"), KG, D("0.01")),  # half-up 0.005
        (rate("w", T.WEIGHT_BASED, "6", conditions=RateConditions(D("0"), D("5"))), SUB, KG,
         D("6.00")),
        (rate("w", T.WEIGHT_BASED, "6", conditions=RateConditions(D("0"), D("5"))), SUB, D("5"),
         D("6.00")),  # bounds are inclusive
        (rate("w", T.WEIGHT_BASED, "6", conditions=RateConditions(D("0"), D("5"))), SUB,
         D("5.001"), None),
        (rate("p", T.PRICE_BASED, "3", conditions=RateConditions(min_price=D("50"))), D("49.99"),
         KG, None),
        (rate("p", T.PRICE_BASED, "3", conditions=RateConditions(min_price=D("50"))), D("50"), KG,
         D("3.00")),
        (rate("p", T.PRICE_BASED, "3", conditions=RateConditions(max_price=D("50"))), D("50.01"),
         KG, None),
        (rate("free", cost="9", free_shipping_threshold=D("75")), D("75.00"), KG, D("0.00")),
        (rate("free", cost="9", free_shipping_threshold=D("75")), D("74.99"), KG, D("9.00")),
        (rate("off", cost="1", is_active=False), SUB, KG, None),
    ],
)  # fmt: skip
def test_rate_cost(r: ShippingRate, subtotal: D, weight: D, cost: D | None) -> None:
    assert rate_cost(r, subtotal, weight, "USD") == cost


def test_jpy_rates_round_to_whole_yen() -> None:
    assert rate_cost(rate("pct", T.PERCENTAGE, "5"), D("1990"), KG, "JPY") == D("100")


def test_conditions_from_json() -> None:
    cond = RateConditions.from_json({"minWeight": 0, "maxWeight": "10", "minPrice": "50"})
    assert cond == RateConditions(D("0"), D("10"), D("50"), None)
    assert RateConditions.from_json({"max_price": "20.5"}).max_price == D("20.5")
    assert RateConditions.from_json({"maxWeight": 0.1}).max_weight == D("0.1")  # json.loads


def test_quotes_are_cheapest_first_and_exclude_unmet_conditions() -> None:
    zone = ShippingZone(
        "bd",
        "Bangladesh",
        countries=("BD",),
        rates=(
            rate("express", cost="150", min_delivery_days=1, max_delivery_days=1),
            rate("light", T.WEIGHT_BASED, "60", conditions=RateConditions(max_weight=D("1"))),
            rate("heavy", T.WEIGHT_BASED, "120", conditions=RateConditions(D("1"), D("20"))),
            rate("std", T.FLAT_RATE, "120", free_shipping_threshold=D("5000")),
        ),
    )
    quotes = quote_rates((zone,), ShippingAddress("BD", None, "1207"), D("1200"), D("3"), "BDT")
    assert [(q.rate_id, q.cost) for q in quotes] == [
        ("heavy", D("120.00")),
        ("std", D("120.00")),  # ties keep the store's order
        ("express", D("150.00")),
    ]
    assert quotes[-1].min_delivery_days == 1
    free = quote_rates((zone,), ShippingAddress("BD"), D("5000"), D("3"), "BDT")
    assert free[0].rate_id == "std" and free[0].is_free


def test_no_rate_for_the_cart_is_an_error() -> None:
    zone = ShippingZone(
        "us", "US", countries=("US",),
        rates=(rate("w", T.WEIGHT_BASED, "6", conditions=RateConditions(max_weight=D("5"))),),
    )  # fmt: skip
    with pytest.raises(NoShippingRate, match="weight of 30 kg"):
        quote_rates((zone,), ShippingAddress("US", "NY"), D("10"), D("30"), "USD")


def test_no_zone_stops_quoting() -> None:
    with pytest.raises(NoShippingZone, match="JP"):
        quote_rates((US,), ShippingAddress("JP"), D("10"), D("1"), "USD")


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(InvalidShippingRate, match="negative"):
        rate_cost(rate("neg", cost="-1"), SUB, KG, "USD")
    with pytest.raises(InvalidShippingRate, match="weight"):
        quote_rates((US,), ShippingAddress("US"), SUB, D("-1"), "USD")

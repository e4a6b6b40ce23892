"""Money: ISO 4217 minor units via Babel, the one half-up rounding, cash rounding, formatting."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from stormcom_pos.domain.money import (
    InvalidAmount,
    Money,
    UnknownCurrency,
    cash_round,
    format_money,
    minor_units,
    round_money,
    to_decimal,
)


@pytest.mark.parametrize(
    ("code", "digits"), [("USD", 2), ("EUR", 2), ("BDT", 2), ("JPY", 0), ("usd", 2), ("KWD", 3)]
)
def test_minor_units_come_from_iso_4217(code: str, digits: int) -> None:
    assert minor_units(code) == digits


def test_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency, match="XYZ"):
        minor_units("XYZ")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("2.345", "USD", "2.35"),
        ("2.344", "USD", "2.34"),
        ("-2.345", "USD", "-2.35"),
        ("0.005", "EUR", "0.01"),
        ("150.5", "JPY", "151"),
        ("149.49", "JPY", "149"),
        ("99.995", "BDT", "100.00"),
    ],
)
def test_round_money_is_half_up_to_the_minor_unit(
    amount: str, currency: str, expected: str
) -> None:
    result = round_money(D(amount), currency)
    assert result == D(expected) and str(result) == expected


@pytest.mark.parametrize(
    ("due", "increment", "expected"),
    [
        ("1.23", "0.05", "1.25"),
        ("1.22", "0.05", "1.20"),
        ("1.225", "0.05", "1.25"),
        ("10.49", "0.50", "10.50"),
        ("10.24", "0.50", "10.00"),
        ("7.77", None, "7.77"),
    ],
)
def test_cash_rounding_to_the_smallest_coin(due: str, increment: str | None, expected: str) -> None:
    inc = D(increment) if increment else None
    assert cash_round(D(due), inc, "USD") == D(expected)


def test_format_per_locale() -> None:
    assert format_money(D("1234.5"), "USD", "en_US") == "$1,234.50"
    assert format_money(D("1234.5"), "JPY", "ja_JP") == "￥1,235"
    assert "1,234.50" in format_money(D("1234.5"), "BDT", "en_BD")
    assert format_money(D("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"


def test_floats_are_refused_everywhere() -> None:
    with pytest.raises(InvalidAmount):
        to_decimal(0.1)
    with pytest.raises(InvalidAmount):
        Money(0.1, "USD")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="not a number"):
        to_decimal("12,50")
    with pytest.raises(InvalidAmount, match="finite"):
        to_decimal("NaN")


def test_money_refuses_to_mix_currencies() -> None:
    assert Money(D("1.10"), "usd") + Money(1, "USD") == Money(D("2.10"), "USD")
    with pytest.raises(InvalidAmount, match="USD and EUR"):
        Money(1, "USD") + Money(1, "EUR")

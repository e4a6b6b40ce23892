"""Largest-remainder allocation: floors, leftover cents to the largest remainders, ties earlier."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stormcom_pos.domain.allocation import AllocationError, allocate


@pytest.mark.parametrize(
    ("amount", "weights", "currency", "expected"),
    [
        # 1000 cents / 3 = 333 r 1 each; the one leftover cent goes to the first (tie).
        ("10.00", ["1", "1", "1"], "USD", ["3.34", "3.33", "3.33"]),
        # 2 cents / 3: floors 0, remainders tie, leftovers to lines 1 and 2.
        ("0.02", ["1", "1", "1"], "USD", ["0.01", "0.01", "0.00"]),
        # Exact shares need no leftover: 5 cents in 1:2:2 = 1, 2, 2.
        ("0.05", ["1", "2", "2"], "USD", ["0.01", "0.02", "0.02"]),
        # 10 cents over 33:33:34 = 3.3, 3.3, 3.4 -> floors 3, 3, 3; leftover to the .4 (line 3).
        ("0.10", ["0.33", "0.33", "0.34"], "USD", ["0.03", "0.03", "0.04"]),
        # 100 cents over 0.5:0.2 (5:2) = 71.43, 28.57 -> 71, 28; leftover to .57 (line 2).
        ("1.00", ["0.5", "0.2"], "USD", ["0.71", "0.29"]),
        # Yen have no minor unit: 100 / 3 = 33 r 1 -> 34, 33, 33.
        ("100", ["1", "1", "1"], "JPY", ["34", "33", "33"]),
        # A zero-weight line gets nothing.
        ("5.00", ["0", "3.00", "2.00"], "USD", ["0.00", "3.00", "2.00"]),
        ("0.00", ["0", "0"], "USD", ["0.00", "0.00"]),
    ],
)
def test_allocation_table(
    amount: str, weights: list[str], currency: str, expected: list[str]
) -> None:
    result = allocate(D(amount), [D(w) for w in weights], currency)
    assert [str(x) for x in result] == expected
    assert sum(result) == D(amount)


def test_allocating_nothing_over_no_lines() -> None:
    assert allocate(D("0.00"), [], "USD") == ()


@pytest.mark.parametrize(
    ("amount", "weights"),
    [
        ("-1.00", ["1"]),  # negative amount
        ("0.005", ["1"]),  # not whole cents
        ("1.00", []),  # nowhere to put it
        ("1.00", ["0", "0"]),  # all weights zero
        ("1.00", ["1", "-1"]),  # negative weight
        ("NaN", ["1"]),
    ],
)
def test_bad_allocations_are_refused(amount: str, weights: list[str]) -> None:
    with pytest.raises(AllocationError) as info:
        allocate(D(amount), [D(w) for w in weights], "USD")
    assert info.value.code == "invalid_allocation"


cents = st.integers(min_value=0, max_value=1_000_000)


@settings(max_examples=200, deadline=None)
@given(st.lists(cents, min_size=1, max_size=12), st.data())
def test_allocated_parts_sum_exactly_and_stay_within_their_lines(
    weight_cents: list[int], data: st.DataObject
) -> None:
    """With weights = line amounts and amount <= their sum, each part is in [0, its line]."""
    total = sum(weight_cents)
    amount_cents = data.draw(st.integers(min_value=0, max_value=total))
    weights = [D(c).scaleb(-2) for c in weight_cents]
    amount = D(amount_cents).scaleb(-2)
    if total == 0:
        parts = allocate(amount, weights, "USD")
        assert all(p == 0 for p in parts)
        return
    parts = allocate(amount, weights, "USD")
    assert sum(parts) == amount
    for part, weight in zip(parts, weights, strict=True):
        assert D(0) <= part <= weight
        assert part == part.quantize(D("0.01"))
        # Never more than one cent away from the exact proportional share.
        exact = amount * weight / sum(weights)
        assert abs(part - exact) < D("0.01")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=10))
def test_equal_remainders_favour_earlier_lines(weights: list[int]) -> None:
    """Among equal weights, a line never gets more than an earlier line of the same weight."""
    amount = D(sum(weights) // 3).scaleb(-2)
    parts = allocate(amount, [D(w) for w in weights], "USD")
    for i in range(len(weights)):
        for j in range(i + 1, len(weights)):
            if weights[i] == weights[j]:
                assert parts[i] >= parts[j]

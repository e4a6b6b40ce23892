"""Largest-remainder allocation: split an amount over lines so the parts add up to the cent.

Each line gets the floor of its proportional share; the minor units left over go one each to
the lines with the largest remainders, ties to the earlier line. The arithmetic is done in
integers (minor units and exact weight ratios): with Decimal division, 1/3 and 4/3 would leave
remainders that differ in the 28th digit and break ties that should go to the earlier line.
Integer floor division is exactly :func:`~stormcom_pos.domain.money.floor_money` of the exact
share, so the rounding rule is the same one.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from math import lcm

from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import quantum

__all__ = ["AllocationError", "allocate"]


class AllocationError(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_allocation"


def _integer_weights(weights: Sequence[Decimal]) -> list[int]:
    """Scale weights to integers over a common denominator, exactly."""
    try:
        ratios = [weight.as_integer_ratio() for weight in weights]
    except (ValueError, OverflowError) as exc:
        raise AllocationError("allocation weights must be finite numbers") from exc
    if ratios and min(weights) < 0:
        raise AllocationError("allocation weights must be >= 0")
    # Reduced Decimal denominators are 2^a * 5^b (1/2, 1/5): the largest need not be a multiple
    # of the others, so take their least common multiple.
    denominator = lcm(*{denom for _, denom in ratios})
    return [numerator * (denominator // denom) for numerator, denom in ratios]


def allocate(amount: Decimal, weights: Sequence[Decimal], currency: str) -> tuple[Decimal, ...]:
    """Split ``amount`` over ``weights`` by largest remainder; the parts sum to it exactly.

    ``amount`` must be >= 0 and in whole minor units. When the weights are the lines' own
    amounts (in whole minor units) and ``amount`` does not exceed their sum, no line gets
    more than its weight and none gets less than zero.
    """
    unit = quantum(currency)
    if not amount.is_finite() or amount < 0:
        raise AllocationError(f"cannot allocate {amount}: it must be a finite amount >= 0")
    units_ratio = (amount / unit).as_integer_ratio()
    if units_ratio[1] != 1:
        raise AllocationError(f"cannot allocate {amount}: it is not in whole minor units")
    total_units = units_ratio[0]
    if not weights:
        if total_units:
            raise AllocationError(f"cannot allocate {amount} over no lines")
        return ()
    ints = _integer_weights(weights)
    weight_sum = sum(ints)
    if weight_sum == 0:
        if total_units:
            raise AllocationError(f"cannot allocate {amount} over lines that all weigh zero")
        return tuple(unit * 0 for _ in ints)
    products = [total_units * weight for weight in ints]
    floors = [product // weight_sum for product in products]
    leftover = total_units - sum(floors)
    if leftover:
        remainders = [product % weight_sum for product in products]
        # A stable sort, reversed, keeps equal remainders in line order: ties go to the earlier.
        ranked = sorted(range(len(ints)), key=remainders.__getitem__, reverse=True)
        for index in ranked[:leftover]:
            floors[index] += 1
    return tuple(map(unit.__mul__, floors))

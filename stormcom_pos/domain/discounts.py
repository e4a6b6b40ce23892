"""Discount arithmetic: flash-sale prices, coupon amounts, BUY_X_GET_Y and manual discounts.

Percentages are stored as percent numbers (``discount_value`` 10 means 10%), as in the data
model's Decimal(10, 2) ``discountValue``. Every amount is rounded with
:func:`~stormcom_pos.domain.money.round_money`; spreading an amount over lines is
:func:`~stormcom_pos.domain.allocation.allocate`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stormcom_pos.domain.allocation import allocate
from stormcom_pos.domain.enums import DiscountType, FlashSaleStatus
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import round_money

__all__ = [
    "DiscountSource",
    "DiscountType",
    "FlashSale",
    "FlashSaleStatus",
    "InvalidDiscount",
    "ManualDiscount",
    "ManualDiscountKind",
    "best_flash_sale",
    "buy_x_get_y_discounts",
    "cap_per_line",
    "capped",
    "fixed_amount",
    "flash_sale_live",
    "manual_discount_amount",
    "percent_of",
    "sale_unit_price",
]

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


class InvalidDiscount(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_discount"


class DiscountSource(StrEnum):
    COUPON = "coupon"
    MANUAL_LINE = "manual_line"
    MANUAL_ORDER = "manual_order"


class ManualDiscountKind(StrEnum):
    PERCENT = "percent"
    AMOUNT = "amount"


def _check_value(kind: str, value: Decimal, is_percent: bool) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InvalidDiscount(f"{kind} value must be a Decimal >= 0, got {value}")
    if is_percent and value > _HUNDRED:
        raise InvalidDiscount(f"{kind} percentage cannot exceed 100, got {value}")


@dataclass(frozen=True, slots=True)
class FlashSale:
    """A time-boxed sale on some products (or all) that sets their unit price."""

    id: str
    name: str
    discount_type: DiscountType
    discount_value: Decimal
    start_at: datetime
    end_at: datetime
    status: FlashSaleStatus = FlashSaleStatus.ACTIVE
    product_ids: frozenset[str] = frozenset()
    all_products: bool = False

    def __post_init__(self) -> None:
        if self.discount_type not in (DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT):
            raise InvalidDiscount(
                f"flash sale {self.name!r} must be PERCENTAGE or FIXED_AMOUNT, "
                f"not {self.discount_type}"
            )
        _check_value(
            "flash sale", self.discount_value, self.discount_type is DiscountType.PERCENTAGE
        )


@dataclass(frozen=True, slots=True)
class ManualDiscount:
    """A discount keyed at the till: a percent or an amount off, why, and who approved it."""

    kind: ManualDiscountKind
    value: Decimal
    reason: str
    approved_by: str | None = None

    def __post_init__(self) -> None:
        _check_value("manual discount", self.value, self.kind is ManualDiscountKind.PERCENT)
        if not self.reason.strip():
            raise InvalidDiscount("a manual discount needs a reason")


def flash_sale_live(sale: FlashSale, now: datetime) -> bool:
    """Whether a sale runs at ``now``: inside its window (both ends included) and not stopped.

    A SCHEDULED sale counts inside its window: the job that flips it to ACTIVE may not have run,
    and an offline till cannot wait for it.
    """
    return (
        sale.status in (FlashSaleStatus.SCHEDULED, FlashSaleStatus.ACTIVE)
        and sale.start_at <= now <= sale.end_at
    )


def sale_unit_price(sale: FlashSale, unit_price: Decimal, currency: str) -> Decimal:
    """The unit price under a sale: round(unit x (1 - p)), or unit - amount, never below zero."""
    if sale.discount_type is DiscountType.PERCENTAGE:
        price = unit_price * (_HUNDRED - sale.discount_value) / _HUNDRED
    else:
        price = unit_price - sale.discount_value
    return round_money(max(price, _ZERO), currency)


def best_flash_sale(
    product_id: str,
    unit_price: Decimal,
    sales: Sequence[FlashSale],
    now: datetime,
    currency: str,
) -> tuple[FlashSale | None, Decimal]:
    """The live sale that gives this product its lowest price (ties: the earlier sale).

    A sale that would not lower the price (0% off) does not put the line on sale.
    """
    best: FlashSale | None = None
    best_price = unit_price
    for sale in sales:
        if not (sale.all_products or product_id in sale.product_ids):
            continue
        if not flash_sale_live(sale, now):
            continue
        price = sale_unit_price(sale, unit_price, currency)
        if price < best_price:
            best, best_price = sale, price
    return best, best_price


def percent_of(amount: Decimal, percent: Decimal, currency: str) -> Decimal:
    """round(amount x percent / 100)."""
    return round_money(amount * percent / _HUNDRED, currency)


def fixed_amount(value: Decimal, available: Decimal, currency: str) -> Decimal:
    """A fixed amount off, never more than what is left to discount."""
    return round_money(min(value, available), currency)


def capped(amount: Decimal, cap: Decimal | None, currency: str) -> Decimal:
    """Apply a coupon's ``maxDiscount``."""
    if cap is None or amount <= cap:
        return amount
    return round_money(max(cap, _ZERO), currency)


def manual_discount_amount(discount: ManualDiscount, current: Decimal, currency: str) -> Decimal:
    """What a manual discount takes off an amount; an amount larger than it is cut to fit."""
    if discount.kind is ManualDiscountKind.PERCENT:
        return percent_of(current, discount.value, currency)
    return fixed_amount(discount.value, current, currency)


def buy_x_get_y_discounts(
    lines: Sequence[tuple[Decimal, Decimal]],
    buy: int,
    get: int,
    percent: Decimal,
    currency: str,
) -> tuple[Decimal, ...]:
    """Per-line discount for BUY_X_GET_Y over eligible ``(quantity, current amount)`` lines.

    floor(units / (X + Y)) x Y units get ``percent`` off, and they are the cheapest units at
    their current price (ties: the earlier line). Only whole-unit lines count: a weighed
    quantity such as 0.75 kg has no "units" to give away.
    """
    zero = round_money(_ZERO, currency)
    whole = [
        (i, int(qty), amount)
        for i, (qty, amount) in enumerate(lines)
        if qty > 0 and qty == qty.to_integral_value()
    ]
    units = sum(q for _, q, _ in whole)
    remaining = units // (buy + get) * get
    result = [zero] * len(lines)
    for i, qty, amount in sorted(whole, key=lambda w: (w[2] / w[1], w[0])):
        if remaining <= 0:
            break
        take = min(qty, remaining)
        remaining -= take
        result[i] = round_money(amount * take * percent / (qty * _HUNDRED), currency)
    return tuple(result)


def cap_per_line(
    amounts: tuple[Decimal, ...], cap: Decimal | None, currency: str
) -> tuple[Decimal, ...]:
    """Cap a per-line discount at ``maxDiscount`` by spreading the cap by largest remainder."""
    total = sum(amounts, _ZERO)
    if cap is None or total <= cap:
        return amounts
    return allocate(capped(total, cap, currency), amounts, currency)

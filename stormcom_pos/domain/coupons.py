"""Coupons: which entered coupons are admitted, in what order they apply, and why one is refused.

Admission (product decisions §3a.6, CHK060), for each coupon in entry order: it must exist, not be
entered twice, be active, be inside its validity window (both ends inclusive), be under its usage
limits, be open to this customer, not clash with a flash sale when the store forbids that, and
have at least one eligible item. Then:

- stacking off (``max_coupons`` 1): the first admissible coupon entered is kept;
- stacking on: of several fixed-amount coupons only the highest face value stays (ties: the
  earlier), then the first ``max_coupons`` left, in entry order, are kept.

Dropping superseded fixed coupons before counting means a losing fixed coupon never takes a slot
from a later percentage coupon. Every refusal is a :class:`CouponRejection` with a stable code
and a sentence a cashier can read out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from stormcom_pos.domain.discounts import DiscountType, InvalidDiscount
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import format_money

__all__ = [
    "MAX_STACKED_COUPONS",
    "Coupon",
    "CouponRejected",
    "CouponRejection",
    "EligibleLine",
    "EnteredCoupon",
    "RejectionCode",
    "admit_coupons",
    "application_order",
    "applies_to_line",
    "is_product_specific",
    "reject",
]

_HUNDRED = Decimal(100)
MAX_STACKED_COUPONS = 3


class RejectionCode(StrEnum):
    NOT_FOUND = "coupon_not_found"
    DUPLICATE = "coupon_duplicate"
    INACTIVE = "coupon_inactive"
    NOT_STARTED = "coupon_not_started"
    EXPIRED = "coupon_expired"
    USAGE_LIMIT = "coupon_usage_limit_reached"
    CUSTOMER_REQUIRED = "coupon_customer_required"
    CUSTOMER_NOT_ELIGIBLE = "coupon_customer_not_eligible"
    CUSTOMER_LIMIT = "coupon_customer_limit_reached"
    FLASH_SALE = "coupon_not_with_flash_sale"
    NO_ELIGIBLE_ITEMS = "coupon_no_eligible_items"
    ONE_PER_ORDER = "coupon_one_per_order"
    FIXED_NOT_STACKABLE = "coupon_fixed_not_stackable"
    TOO_MANY = "coupon_limit_per_order"
    MINIMUM_NOT_MET = "coupon_minimum_not_met"
    NOTHING_TO_DISCOUNT = "coupon_nothing_to_discount"
    NOT_ENOUGH_ITEMS = "coupon_not_enough_items"
    NO_SHIPPING = "coupon_no_shipping_charge"


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon row. Percent values are percent numbers; empty eligibility sets mean everything.

    ``buy_quantity`` (X) and ``get_quantity`` (Y) are the BUY_X_GET_Y parameters; for that type
    ``discount_value`` is the percent off the "get" units (100 = free).
    """

    id: str
    code: str
    discount_type: DiscountType
    discount_value: Decimal
    valid_from: datetime
    valid_to: datetime | None = None
    name: str = ""
    min_order_value: Decimal | None = None
    max_discount: Decimal | None = None
    eligible_products: frozenset[str] = frozenset()
    eligible_categories: frozenset[str] = frozenset()
    eligible_customers: frozenset[str] = frozenset()
    usage_limit_per_coupon: int | None = None
    usage_limit_per_customer: int | None = None
    current_usage_count: int = 0
    is_active: bool = True
    buy_quantity: int | None = None
    get_quantity: int | None = None

    def __post_init__(self) -> None:
        value = self.discount_value
        if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
            raise InvalidDiscount(f"coupon {self.code}: value must be a Decimal >= 0")
        percent_like = (DiscountType.PERCENTAGE, DiscountType.BUY_X_GET_Y)
        if self.discount_type in percent_like and value > _HUNDRED:
            raise InvalidDiscount(f"coupon {self.code}: a percentage cannot exceed 100")
        if self.discount_type is DiscountType.BUY_X_GET_Y and not (
            self.buy_quantity
            and self.buy_quantity > 0
            and self.get_quantity
            and self.get_quantity > 0
        ):
            raise InvalidDiscount(f"coupon {self.code}: BUY_X_GET_Y needs buy and get quantities")


@dataclass(frozen=True, slots=True)
class EnteredCoupon:
    """A code the cashier or shopper entered, the coupon it resolved to (None if unknown), and
    how many times this customer has already used it."""

    code: str
    coupon: Coupon | None
    customer_uses: int = 0


@dataclass(frozen=True, slots=True)
class CouponRejection:
    """Why an entered coupon is not on the order: a stable ``code`` and a readable ``reason``."""

    coupon_code: str
    code: RejectionCode
    reason: str
    coupon_id: str | None = None

    def error(self) -> CouponRejected:
        """The same refusal as an exception, for callers that validate one coupon."""
        return CouponRejected(self.code, self.reason)


class CouponRejected(DomainError):  # noqa: N818 - the package names errors without a suffix
    """A coupon was refused; ``code`` is one of :class:`RejectionCode`."""

    code = "coupon_rejected"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class EligibleLine(Protocol):
    """What coupon eligibility needs to know about a cart line."""

    @property
    def product_id(self) -> str: ...

    @property
    def category_ids(self) -> frozenset[str]: ...


def reject(entry: EnteredCoupon | Coupon, code: RejectionCode, reason: str) -> CouponRejection:
    """Build a refusal for an entered coupon (or an admitted one dropped later)."""
    if isinstance(entry, Coupon):
        return CouponRejection(entry.code, code, reason, entry.id)
    coupon = entry.coupon
    return CouponRejection(
        coupon.code if coupon else entry.code, code, reason, coupon.id if coupon else None
    )


def is_product_specific(coupon: Coupon) -> bool:
    """A coupon limited to some products or categories (it applies before order-wide ones)."""
    return bool(coupon.eligible_products or coupon.eligible_categories)


def applies_to_line(coupon: Coupon, line: EligibleLine) -> bool:
    """Whether a line is eligible: listed product, or in a listed category, or no list at all."""
    if not (coupon.eligible_products or coupon.eligible_categories):
        return True
    return line.product_id in coupon.eligible_products or not coupon.eligible_categories.isdisjoint(
        line.category_ids
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _check(
    entry: EnteredCoupon,
    coupon: Coupon,
    *,
    lines: Sequence[EligibleLine],
    any_flash_sale: bool,
    allow_with_flash_sale: bool,
    customer_id: str | None,
    now: datetime,
) -> CouponRejection | None:
    code = coupon.code
    if not coupon.is_active:
        return reject(entry, RejectionCode.INACTIVE, f"Coupon {code} is not active")
    if now < coupon.valid_from:
        return reject(
            entry,
            RejectionCode.NOT_STARTED,
            f"Coupon {code} is not valid until {_when(coupon.valid_from)}",
        )
    if coupon.valid_to is not None and now > coupon.valid_to:
        return reject(
            entry, RejectionCode.EXPIRED, f"Coupon {code} expired at {_when(coupon.valid_to)}"
        )
    limit = coupon.usage_limit_per_coupon
    if limit is not None and coupon.current_usage_count >= limit:
        return reject(
            entry,
            RejectionCode.USAGE_LIMIT,
            f"Coupon {code} has been used its maximum of {limit} times",
        )
    customers = coupon.eligible_customers
    if customers and "all" not in customers:
        if customer_id is None:
            return reject(
                entry,
                RejectionCode.CUSTOMER_REQUIRED,
                f"Coupon {code} is for selected customers; add the customer to the sale first",
            )
        if customer_id not in customers:
            return reject(
                entry,
                RejectionCode.CUSTOMER_NOT_ELIGIBLE,
                f"Coupon {code} is not valid for this customer",
            )
    per_customer = coupon.usage_limit_per_customer
    # Without a customer on the sale there is nobody to count uses against.
    if per_customer is not None and customer_id is not None and entry.customer_uses >= per_customer:
        return reject(
            entry,
            RejectionCode.CUSTOMER_LIMIT,
            f"This customer has already used coupon {code} the maximum of {per_customer} times",
        )
    if any_flash_sale and not allow_with_flash_sale:
        return reject(
            entry,
            RejectionCode.FLASH_SALE,
            f"Coupon {code} cannot be used while items in the order are on flash sale",
        )
    if not any(applies_to_line(coupon, line) for line in lines):
        return reject(
            entry,
            RejectionCode.NO_ELIGIBLE_ITEMS,
            f"No item in this order qualifies for coupon {code}",
        )
    return None


def admit_coupons(
    entries: Sequence[EnteredCoupon],
    *,
    lines: Sequence[EligibleLine],
    any_flash_sale: bool,
    allow_with_flash_sale: bool,
    max_coupons: int,
    customer_id: str | None,
    now: datetime,
    currency: str,
    locale: str = "en_US",
) -> tuple[tuple[tuple[int, Coupon], ...], tuple[tuple[int, CouponRejection], ...]]:
    """Split entered coupons into admitted ``(entry index, coupon)`` and refused ones."""
    if not 1 <= max_coupons <= MAX_STACKED_COUPONS:
        raise InvalidDiscount(f"max coupons per order must be 1 to 3, got {max_coupons}")
    admissible: list[tuple[int, Coupon]] = []
    refused: list[tuple[int, CouponRejection]] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        coupon = entry.coupon
        if coupon is None:
            refused.append(
                (index, reject(entry, RejectionCode.NOT_FOUND, f"Coupon {entry.code} not found"))
            )
            continue
        if coupon.id in seen:
            refused.append(
                (
                    index,
                    reject(
                        entry,
                        RejectionCode.DUPLICATE,
                        f"Coupon {coupon.code} is already on this order",
                    ),
                )
            )
            continue
        seen.add(coupon.id)
        problem = _check(
            entry,
            coupon,
            lines=lines,
            any_flash_sale=any_flash_sale,
            allow_with_flash_sale=allow_with_flash_sale,
            customer_id=customer_id,
            now=now,
        )
        if problem is None:
            admissible.append((index, coupon))
        else:
            refused.append((index, problem))

    if max_coupons == 1:
        kept = admissible[:1]
        for index, coupon in admissible[1:]:
            reason = (
                f"Only one coupon per order; coupon {kept[0][1].code} is already applied, "
                f"so {coupon.code} was not"
            )
            refused.append((index, reject(coupon, RejectionCode.ONE_PER_ORDER, reason)))
    else:
        kept = _drop_lesser_fixed(admissible, refused, currency, locale)
        for index, coupon in kept[max_coupons:]:
            reason = f"At most {max_coupons} coupons per order; coupon {coupon.code} was not added"
            refused.append((index, reject(coupon, RejectionCode.TOO_MANY, reason)))
        kept = kept[:max_coupons]
    refused.sort(key=lambda item: item[0])
    return tuple(kept), tuple(refused)


def _drop_lesser_fixed(
    admissible: list[tuple[int, Coupon]],
    refused: list[tuple[int, CouponRejection]],
    currency: str,
    locale: str,
) -> list[tuple[int, Coupon]]:
    fixed = [item for item in admissible if item[1].discount_type is DiscountType.FIXED_AMOUNT]
    if len(fixed) < 2:
        return admissible
    winner = max(fixed, key=lambda item: (item[1].discount_value, -item[0]))[1]
    kept = []
    for index, coupon in admissible:
        if coupon.discount_type is DiscountType.FIXED_AMOUNT and coupon is not winner:
            reason = (
                f"Fixed-amount coupons do not combine; coupon {winner.code} "
                f"({format_money(winner.discount_value, currency, locale)} off) is kept "
                f"instead of {coupon.code} "
                f"({format_money(coupon.discount_value, currency, locale)} off)"
            )
            refused.append((index, reject(coupon, RejectionCode.FIXED_NOT_STACKABLE, reason)))
        else:
            kept.append((index, coupon))
    return kept


_TYPE_RANK = {
    DiscountType.PERCENTAGE: 0,
    DiscountType.FIXED_AMOUNT: 1,
    DiscountType.BUY_X_GET_Y: 2,
    DiscountType.FREE_SHIPPING: 3,
}


def application_order(admitted: Sequence[tuple[int, Coupon]]) -> list[tuple[int, Coupon]]:
    """Product-specific before order-wide; percentages highest first, then fixed, then
    BUY_X_GET_Y; FREE_SHIPPING last; entry order breaks ties."""

    def key(item: tuple[int, Coupon]) -> tuple[bool, bool, int, Decimal, int]:
        index, coupon = item
        kind = coupon.discount_type
        free_shipping = kind is DiscountType.FREE_SHIPPING
        percent = -coupon.discount_value if kind is DiscountType.PERCENTAGE else Decimal(0)
        return (free_shipping, not is_product_specific(coupon), _TYPE_RANK[kind], percent, index)

    return sorted(admitted, key=key)

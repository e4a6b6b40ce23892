"""What :func:`~stormcom_pos.domain.pricing.price_cart` takes (a cart and its pricing context)
and what it gives back (the priced cart)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stormcom_pos.domain.coupons import MAX_STACKED_COUPONS, CouponRejection, EnteredCoupon
from stormcom_pos.domain.discounts import DiscountSource, DiscountType, FlashSale, ManualDiscount
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import minor_units
from stormcom_pos.domain.tax import (
    RateAmount,
    TaxAddress,
    TaxExemption,
    TaxRate,
    TaxRounding,
    TaxSummary,
    rate_amounts,
)

__all__ = [
    "AppliedCoupon",
    "Cart",
    "CartLine",
    "Customer",
    "InvalidCart",
    "LineDiscount",
    "PricedCart",
    "PricedLine",
    "PricedShipping",
    "PricingContext",
    "SourceTotal",
    "StoreSettings",
]

_ZERO = Decimal(0)


class InvalidCart(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_cart"


def _finite(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


@dataclass(frozen=True, slots=True)
class CartLine:
    """One line: a product at a unit price; ``quantity`` is a Decimal so weighed items fit.

    ``unit_price`` is in the store's convention (tax-inclusive when the store prices so).
    ``tax_rate_id`` is the product's own rate, overriding the address's rates where it applies.
    """

    line_id: str
    product_id: str
    unit_price: Decimal
    quantity: Decimal
    variant_id: str | None = None
    category_ids: frozenset[str] = frozenset()
    taxable: bool = True
    tax_rate_id: str | None = None
    manual_discount: ManualDiscount | None = None

    def __post_init__(self) -> None:
        if not _finite(self.quantity) or self.quantity <= 0:
            raise InvalidCart(f"line {self.line_id}: quantity must be a Decimal > 0")
        if not _finite(self.unit_price) or self.unit_price < 0:
            raise InvalidCart(f"line {self.line_id}: unit price must be a Decimal >= 0")


@dataclass(frozen=True, slots=True)
class Cart:
    """The lines being priced, in display order (earlier lines win allocation ties)."""

    lines: tuple[CartLine, ...]

    def __post_init__(self) -> None:
        ids = [line.line_id for line in self.lines]
        if len(set(ids)) != len(ids):
            raise InvalidCart("cart line ids must be unique")


@dataclass(frozen=True, slots=True)
class Customer:
    """The customer on the sale, as far as pricing cares."""

    id: str
    is_tax_exempt: bool = False


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Store settings that change prices. ``max_coupons`` 1 means stacking is off."""

    currency: str
    prices_include_tax: bool = False
    tax_rounding: TaxRounding = TaxRounding.PER_LINE
    max_coupons: int = 1
    allow_coupons_with_flash_sale: bool = True
    locale: str = "en_US"

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", self.currency.upper())
        minor_units(self.currency)
        if not 1 <= self.max_coupons <= MAX_STACKED_COUPONS:
            raise InvalidCart(f"max coupons per order must be 1 to 3, got {self.max_coupons}")


@dataclass(frozen=True, slots=True)
class PricingContext:
    """Everything besides the lines: settings, the moment, taxes, promotions, shipping.

    ``coupons`` are in entry order. ``shipping`` is the charge the shipping rules computed, in
    the same tax convention as the prices; ``shipping_taxable`` says whether the address's
    rates apply to it. ``order_discount`` is a manual discount on the whole order.
    """

    settings: StoreSettings
    now: datetime
    address: TaxAddress
    tax_rates: tuple[TaxRate, ...] = ()
    customer: Customer | None = None
    exemptions: tuple[TaxExemption, ...] = ()
    flash_sales: tuple[FlashSale, ...] = ()
    coupons: tuple[EnteredCoupon, ...] = ()
    shipping: Decimal = _ZERO
    shipping_taxable: bool = True
    order_discount: ManualDiscount | None = None

    def __post_init__(self) -> None:
        if not _finite(self.shipping) or self.shipping < 0:
            raise InvalidCart("shipping must be a Decimal >= 0")


# --- what price_cart gives back ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineDiscount:
    """One discount on one line: where it came from, its code or reason, and the amount."""

    source: DiscountSource
    amount: Decimal
    code: str | None
    reason: str
    approved_by: str | None = None


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A priced line. ``gross`` is at the sale price; ``net`` = gross - discounts, in the store's
    price convention; ``tax_base`` + ``tax_total`` = ``total``, what the customer pays.

    ``line`` is the cart line as given. ``tax_rates`` and ``tax_amounts`` are parallel (one
    amount per rate charged); ``taxes`` pairs them up.
    """

    line: CartLine
    unit_price: Decimal
    flash_sale_id: str | None
    list_amount: Decimal
    gross: Decimal
    discounts: tuple[LineDiscount, ...]
    net: Decimal
    tax_base: Decimal
    tax_rates: tuple[TaxRate, ...]
    tax_amounts: tuple[Decimal, ...]
    tax_total: Decimal

    @property
    def line_id(self) -> str:
        """The cart line's id."""
        return self.line.line_id

    @property
    def product_id(self) -> str:
        """The product sold."""
        return self.line.product_id

    @property
    def variant_id(self) -> str | None:
        """The variant sold, if any."""
        return self.line.variant_id

    @property
    def quantity(self) -> Decimal:
        """Units, or weight for a weighed item."""
        return self.line.quantity

    @property
    def list_unit_price(self) -> Decimal:
        """The unit price before any flash sale."""
        return self.line.unit_price

    @property
    def flash_sale_saving(self) -> Decimal:
        """round(list price x quantity) - gross."""
        return self.list_amount - self.gross

    @property
    def discount_total(self) -> Decimal:
        """All discounts on the line: gross - net."""
        return self.gross - self.net

    @property
    def total(self) -> Decimal:
        """What the customer pays for the line: tax_base + tax_total."""
        return self.tax_base + self.tax_total

    @property
    def taxes(self) -> tuple[RateAmount, ...]:
        """The tax each rate charged on this line."""
        return rate_amounts(self.tax_rates, self.tax_amounts)


@dataclass(frozen=True, slots=True)
class PricedShipping:
    """The shipping charge, what a FREE_SHIPPING coupon waived, and its tax."""

    charge: Decimal
    waived: Decimal
    amount: Decimal
    tax_base: Decimal
    tax_rates: tuple[TaxRate, ...]
    tax_amounts: tuple[Decimal, ...]
    tax_total: Decimal
    total: Decimal

    @property
    def taxes(self) -> tuple[RateAmount, ...]:
        """The tax each rate charged on shipping."""
        return rate_amounts(self.tax_rates, self.tax_amounts)


@dataclass(frozen=True, slots=True)
class AppliedCoupon:
    """A coupon on the order and what it took off (the shipping waived, for FREE_SHIPPING)."""

    coupon_id: str
    code: str
    discount_type: DiscountType
    amount: Decimal


@dataclass(frozen=True, slots=True)
class SourceTotal:
    """All discounts from one source on the order."""

    source: DiscountSource
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PricedCart:
    """The priced order. Each order figure is the exact sum of the line (and shipping) figures."""

    currency: str
    prices_include_tax: bool
    lines: tuple[PricedLine, ...]
    subtotal: Decimal
    flash_sale_savings: Decimal
    discounts_by_source: tuple[SourceTotal, ...]
    discount_total: Decimal
    net: Decimal
    shipping: PricedShipping
    taxes: tuple[TaxSummary, ...]
    tax_total: Decimal
    total: Decimal
    applied_coupons: tuple[AppliedCoupon, ...]
    rejected_coupons: tuple[CouponRejection, ...]
    tax_exempt: bool

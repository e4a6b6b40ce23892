"""What :func:`~stormcom_pos.domain.pricing.price_cart` takes: the cart and its pricing context."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stormcom_pos.domain.coupons import MAX_STACKED_COUPONS, EnteredCoupon
from stormcom_pos.domain.discounts import FlashSale, ManualDiscount
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import minor_units
from stormcom_pos.domain.tax import TaxAddress, TaxExemption, TaxRate, TaxRounding

__all__ = [
    "Cart",
    "CartLine",
    "Customer",
    "InvalidCart",
    "PricingContext",
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

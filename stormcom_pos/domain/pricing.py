"""Price a cart: flash sales, manual and coupon discounts, shipping and tax, adding up exactly.

The order of work (product decisions §3a):

1. Flash sales set each unit price; line gross = round(unit price x quantity).
2. Manual line discounts come off their lines. They stand in for a price change at the till, so
   coupons and their minimums see the price actually charged.
3. Coupons are admitted (:mod:`~stormcom_pos.domain.coupons`) and applied in CHK060 order. Each
   one's minimum is checked against the merchandise subtotal so far; its amount is computed once
   on its eligible lines and spread over them by largest remainder.
4. The manual order discount comes last, spread over all lines: it is the cashier's final word
   on the balance.
5. Tax per line (and on shipping, as one more line), per-line or per-order rounding.

Every amount on a line is rounded, and order figures are sums of line figures, so receipts,
reports and refunds add up to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stormcom_pos.domain.allocation import allocate
from stormcom_pos.domain.cart import Cart, PricingContext
from stormcom_pos.domain.coupons import (
    Coupon,
    CouponRejection,
    RejectionCode,
    admit_coupons,
    application_order,
    applies_to_line,
    reject,
)
from stormcom_pos.domain.discounts import (
    DiscountSource,
    DiscountType,
    best_flash_sale,
    buy_x_get_y_discounts,
    cap_per_line,
    capped,
    fixed_amount,
    manual_discount_amount,
    percent_of,
)
from stormcom_pos.domain.money import format_money, round_money
from stormcom_pos.domain.tax import (
    RateAmount,
    TaxableAmount,
    TaxSummary,
    compute_taxes,
    is_tax_exempt,
    line_rates,
    matching_rates,
)

__all__ = [
    "AppliedCoupon",
    "LineDiscount",
    "PricedCart",
    "PricedLine",
    "PricedShipping",
    "SourceTotal",
    "price_cart",
]

_ZERO = Decimal(0)
SHIPPING_KEY = "__shipping__"


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
    price convention; ``tax_base`` + ``tax_total`` = ``total``, what the customer pays."""

    line_id: str
    product_id: str
    variant_id: str | None
    quantity: Decimal
    list_unit_price: Decimal
    unit_price: Decimal
    flash_sale_id: str | None
    flash_sale_saving: Decimal
    gross: Decimal
    discounts: tuple[LineDiscount, ...]
    discount_total: Decimal
    net: Decimal
    tax_base: Decimal
    taxes: tuple[RateAmount, ...]
    tax_total: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class PricedShipping:
    """The shipping charge, what a FREE_SHIPPING coupon waived, and its tax."""

    charge: Decimal
    waived: Decimal
    amount: Decimal
    tax_base: Decimal
    taxes: tuple[RateAmount, ...]
    tax_total: Decimal
    total: Decimal


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


def price_cart(cart: Cart, context: PricingContext) -> PricedCart:
    """Price a cart under a context; pure and deterministic."""
    settings = context.settings
    currency = settings.currency
    zero = round_money(_ZERO, currency)
    lines = cart.lines

    # 1. Flash sales.
    sale_ids: list[str | None] = []
    units: list[Decimal] = []
    gross: list[Decimal] = []
    list_amounts: list[Decimal] = []
    for line in lines:
        if context.flash_sales:
            sale, unit = best_flash_sale(
                line.product_id, line.unit_price, context.flash_sales, context.now, currency
            )
        else:
            sale, unit = None, line.unit_price
        amount = round_money(unit * line.quantity, currency)
        sale_ids.append(sale.id if sale else None)
        units.append(unit)
        gross.append(amount)
        list_amounts.append(
            round_money(line.unit_price * line.quantity, currency) if sale else amount
        )
    current = list(gross)
    discounts: list[list[LineDiscount]] = [[] for _ in lines]
    by_source = dict.fromkeys(DiscountSource, zero)

    # 2. Manual line discounts.
    for i, line in enumerate(lines):
        manual = line.manual_discount
        if manual is not None:
            amount = manual_discount_amount(manual, current[i], currency)
            if amount:
                current[i] -= amount
                discounts[i].append(
                    LineDiscount(
                        DiscountSource.MANUAL_LINE, amount, None, manual.reason, manual.approved_by
                    )
                )
                by_source[DiscountSource.MANUAL_LINE] += amount

    # 3. Coupons.
    customer_id = context.customer.id if context.customer else None
    admitted, refused = admit_coupons(
        context.coupons,
        lines=lines,
        any_flash_sale=any(sale_ids),
        allow_with_flash_sale=settings.allow_coupons_with_flash_sale,
        max_coupons=settings.max_coupons,
        customer_id=customer_id,
        now=context.now,
        currency=currency,
        locale=settings.locale,
    )
    rejections = list(refused)
    applied: list[AppliedCoupon] = []
    shipping_charge = round_money(context.shipping, currency)
    waived = zero
    for index, coupon in application_order(admitted):
        problem, taken = _apply_coupon(
            coupon, context, cart, current, discounts, shipping_charge - waived
        )
        if problem is not None:
            rejections.append((index, problem))
            continue
        if coupon.discount_type is DiscountType.FREE_SHIPPING:
            waived += taken
        else:
            by_source[DiscountSource.COUPON] += taken
        applied.append(AppliedCoupon(coupon.id, coupon.code, coupon.discount_type, taken))
    rejections.sort(key=lambda item: item[0])

    # 4. Manual order discount.
    order_discount = context.order_discount
    if order_discount is not None and lines:
        amount = manual_discount_amount(order_discount, sum(current, zero), currency)
        if amount:
            shares = allocate(amount, current, currency)
            for i, share in enumerate(shares):
                if share:
                    current[i] -= share
                    discounts[i].append(
                        LineDiscount(
                            DiscountSource.MANUAL_ORDER,
                            share,
                            None,
                            order_discount.reason,
                            order_discount.approved_by,
                        )
                    )
            by_source[DiscountSource.MANUAL_ORDER] += amount

    # 5. Tax.
    address = context.address
    exempt = is_tax_exempt(
        customer_id,
        context.customer.is_tax_exempt if context.customer else False,
        context.exemptions,
        context.now,
    )
    address_rates = matching_rates(context.tax_rates, address)
    rates_by_id = {rate.id: rate for rate in context.tax_rates}
    items = [
        TaxableAmount(
            line.line_id,
            current[i],
            line_rates(
                taxable=line.taxable,
                tax_rate_id=line.tax_rate_id,
                address_rates=address_rates,
                rates_by_id=rates_by_id,
                address=address,
            ),
            exempt,
        )
        for i, line in enumerate(lines)
    ]
    shipping_amount = shipping_charge - waived
    items.append(
        TaxableAmount(
            SHIPPING_KEY,
            shipping_amount,
            address_rates if context.shipping_taxable else (),
            exempt,
        )
    )
    taxed = compute_taxes(
        items,
        currency=currency,
        inclusive=settings.prices_include_tax,
        rounding=settings.tax_rounding,
    )

    priced: list[PricedLine] = []
    for i, line in enumerate(lines):
        line_tax = taxed.lines[i]
        priced.append(
            PricedLine(
                line_id=line.line_id,
                product_id=line.product_id,
                variant_id=line.variant_id,
                quantity=line.quantity,
                list_unit_price=line.unit_price,
                unit_price=units[i],
                flash_sale_id=sale_ids[i],
                flash_sale_saving=list_amounts[i] - gross[i],
                gross=gross[i],
                discounts=tuple(discounts[i]),
                discount_total=gross[i] - current[i],
                net=current[i],
                tax_base=line_tax.base,
                taxes=line_tax.taxes,
                tax_total=line_tax.tax,
                total=line_tax.base + line_tax.tax,
            )
        )
    ship_tax = taxed.lines[-1]
    shipping = PricedShipping(
        charge=shipping_charge,
        waived=waived,
        amount=shipping_amount,
        tax_base=ship_tax.base,
        taxes=ship_tax.taxes,
        tax_total=ship_tax.tax,
        total=ship_tax.base + ship_tax.tax,
    )
    discount_total = sum(by_source.values(), zero)
    return PricedCart(
        currency=currency,
        prices_include_tax=settings.prices_include_tax,
        lines=tuple(priced),
        subtotal=sum(gross, zero),
        flash_sale_savings=sum(list_amounts, zero) - sum(gross, zero),
        discounts_by_source=tuple(SourceTotal(s, a) for s, a in by_source.items()),
        discount_total=discount_total,
        net=sum(current, zero),
        shipping=shipping,
        taxes=taxed.by_rate,
        tax_total=taxed.tax,
        total=sum((p.total for p in priced), shipping.total),
        applied_coupons=tuple(applied),
        rejected_coupons=tuple(r for _, r in rejections),
        tax_exempt=exempt,
    )


def _apply_coupon(
    coupon: Coupon,
    context: PricingContext,
    cart: Cart,
    current: list[Decimal],
    discounts: list[list[LineDiscount]],
    shipping_left: Decimal,
) -> tuple[CouponRejection | None, Decimal]:
    """Apply one admitted coupon to ``current`` in place; return a refusal or the amount taken."""
    settings = context.settings
    currency = settings.currency
    code = coupon.code
    subtotal = sum(current, _ZERO)
    minimum = coupon.min_order_value
    if minimum is not None and subtotal < minimum:
        need = format_money(minimum, currency, settings.locale)
        have = format_money(subtotal, currency, settings.locale)
        return (
            reject(
                coupon,
                RejectionCode.MINIMUM_NOT_MET,
                f"Coupon {code} needs an order of at least {need}; this order is {have}",
            ),
            _ZERO,
        )
    kind = coupon.discount_type
    if kind is DiscountType.FREE_SHIPPING:
        if shipping_left <= 0:
            reason = f"Coupon {code} gives free shipping, and this order has no shipping charge"
            return reject(coupon, RejectionCode.NO_SHIPPING, reason), _ZERO
        return None, shipping_left

    lines = cart.lines
    eligible = [i for i, line in enumerate(lines) if applies_to_line(coupon, line)]
    if kind is DiscountType.BUY_X_GET_Y:
        buy, get = coupon.buy_quantity or 1, coupon.get_quantity or 1
        whole = sum(
            int(lines[i].quantity)
            for i in eligible
            if lines[i].quantity == lines[i].quantity.to_integral_value()
        )
        if whole < buy + get:
            reason = (
                f"Coupon {code} (buy {buy}, get {get}) needs {buy + get} eligible items; "
                f"this order has {whole}"
            )
            return reject(coupon, RejectionCode.NOT_ENOUGH_ITEMS, reason), _ZERO
        shares = buy_x_get_y_discounts(
            [(lines[i].quantity, current[i]) for i in eligible],
            buy,
            get,
            coupon.discount_value,
            currency,
        )
        shares = cap_per_line(shares, coupon.max_discount, currency)
    else:
        weights = [current[i] for i in eligible]
        available = sum(weights, _ZERO)
        if kind is DiscountType.PERCENTAGE:
            amount = percent_of(available, coupon.discount_value, currency)
        else:
            amount = fixed_amount(coupon.discount_value, available, currency)
        shares = allocate(capped(amount, coupon.max_discount, currency), weights, currency)
    taken = sum(shares, _ZERO)
    if not taken:
        reason = f"Coupon {code} has nothing left to take off this order"
        return reject(coupon, RejectionCode.NOTHING_TO_DISCOUNT, reason), _ZERO
    label = coupon.name or f"Coupon {code}"
    for i, share in zip(eligible, shares, strict=True):
        if share:
            current[i] -= share
            discounts[i].append(LineDiscount(DiscountSource.COUPON, share, code, label))
    return None, taken

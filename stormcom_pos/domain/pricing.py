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
reports and refunds add up to the cent. Amounts are in the store's price convention: when prices
include tax, coupon minimums and fixed amounts apply to tax-inclusive amounts, and the shipping
charge is taken as tax-inclusive too.
"""

from __future__ import annotations

from decimal import Decimal

from stormcom_pos.domain.allocation import allocate
from stormcom_pos.domain.cart import (
    AppliedCoupon,
    Cart,
    LineDiscount,
    PricedCart,
    PricedLine,
    PricedShipping,
    PricingContext,
    SourceTotal,
)
from stormcom_pos.domain.coupons import (
    Coupon,
    CouponRejection,
    RejectionCode,
    admit_coupons,
    application_order,
    applies_to_line,
    is_product_specific,
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
    flash_sale_live,
    manual_discount_amount,
    percent_of,
)
from stormcom_pos.domain.money import format_money, round_money
from stormcom_pos.domain.tax import (
    TaxRate,
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


def price_cart(cart: Cart, context: PricingContext) -> PricedCart:
    """Price a cart under a context; pure and deterministic."""
    settings = context.settings
    currency = settings.currency
    zero = round_money(_ZERO, currency)
    lines = cart.lines

    # 1. Flash sales.
    now = context.now
    live_sales = [sale for sale in context.flash_sales if flash_sale_live(sale, now)]
    store_wide = any(sale.all_products for sale in live_sales)
    on_sale = {product for sale in live_sales for product in sale.product_ids}
    sale_ids: list[str | None] = []
    units: list[Decimal] = []
    gross: list[Decimal] = []
    list_amounts: list[Decimal] = []
    for line in lines:
        unit = line.unit_price
        sale = None
        if store_wide or line.product_id in on_sale:
            sale, unit = best_flash_sale(line.product_id, unit, live_sales, now, currency)
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
    # Most lines share a few (taxable, own rate) combinations; resolve each once.
    resolved: dict[tuple[bool, str | None], tuple[TaxRate, ...]] = {}
    rate_sets: list[tuple[TaxRate, ...]] = []
    for line in lines:
        key = (line.taxable, line.tax_rate_id)
        rates = resolved.get(key)
        if rates is None:
            rates = resolved[key] = line_rates(
                taxable=line.taxable,
                tax_rate_id=line.tax_rate_id,
                address_rates=address_rates,
                rates_by_id=rates_by_id,
                address=address,
            )
        rate_sets.append(rates)
    # Shipping is taxed as one more line, at the address's rates.
    shipping_amount = shipping_charge - waived
    rate_sets.append(address_rates if context.shipping_taxable else ())
    taxed = compute_taxes(
        [*current, shipping_amount],
        rate_sets,
        currency=currency,
        inclusive=settings.prices_include_tax,
        rounding=settings.tax_rounding,
        exempt=exempt,
    )

    bases, line_tax = taxed.bases, taxed.line_tax
    taxed_at, tax_amounts = taxed.rates, taxed.amounts
    priced = [
        PricedLine(
            line,
            units[i],
            sale_ids[i],
            list_amounts[i],
            gross[i],
            tuple(discounts[i]),
            current[i],
            bases[i],
            taxed_at[i],
            tax_amounts[i],
            line_tax[i],
        )
        for i, line in enumerate(lines)
    ]
    shipping = PricedShipping(
        charge=shipping_charge,
        waived=waived,
        amount=shipping_amount,
        tax_base=bases[-1],
        tax_rates=taxed_at[-1],
        tax_amounts=tax_amounts[-1],
        tax_total=line_tax[-1],
        total=bases[-1] + line_tax[-1],
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
    if is_product_specific(coupon):
        eligible = [i for i, line in enumerate(lines) if applies_to_line(coupon, line)]
    else:
        eligible = list(range(len(lines)))
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

"""Properties of price_cart over generated carts: everything adds up, discounts stay in bounds,
and tax-inclusive and tax-exclusive pricing agree to the cent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from stormcom_pos.domain.cart import Cart, CartLine, Customer, PricingContext, StoreSettings
from stormcom_pos.domain.coupons import Coupon, EnteredCoupon
from stormcom_pos.domain.discounts import (
    DiscountSource,
    DiscountType,
    FlashSale,
    FlashSaleStatus,
    ManualDiscount,
    ManualDiscountKind,
)
from stormcom_pos.domain.money import minor_units, quantum, round_money
from stormcom_pos.domain.pricing import PricedCart, price_cart
from stormcom_pos.domain.tax import TaxAddress, TaxRate, TaxRounding

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ADDRESS = TaxAddress("CA", "QC")
PRODUCTS = ("p1", "p2", "p3", "p4")
CATEGORIES = ("c1", "c2")


def assert_adds_up(priced: PricedCart) -> None:
    """Every figure is whole minor units, discounts stay in bounds, and lines sum to the order."""
    q = quantum(priced.currency)

    def whole(value: D) -> None:
        assert value == value.quantize(q), value

    source_totals = dict.fromkeys(DiscountSource, D(0))
    rate_totals: dict[str, D] = {}
    for line in priced.lines:
        for value in (
            line.gross,
            line.net,
            line.discount_total,
            line.tax_base,
            line.tax_total,
            line.total,
            line.flash_sale_saving,
        ):
            whole(value)
        running = line.gross
        for discount in line.discounts:
            whole(discount.amount)
            # A discount is never negative and never more than what was left of the line.
            assert D(0) < discount.amount <= running
            running -= discount.amount
            source_totals[discount.source] += discount.amount
        assert running == line.net
        assert line.discount_total == line.gross - line.net
        assert D(0) <= line.net <= line.gross
        assert line.flash_sale_saving >= 0
        assert line.unit_price <= line.list_unit_price
        assert line.tax_total == sum((t.amount for t in line.taxes), D(0))
        assert line.total == line.tax_base + line.tax_total
        assert line.tax_base >= 0
        if not priced.prices_include_tax:
            assert line.tax_base == line.net
        elif not priced.tax_exempt:
            assert line.total == line.net
        for tax in line.taxes:
            whole(tax.amount)
            assert tax.amount >= 0
            rate_totals[tax.rate_id] = rate_totals.get(tax.rate_id, D(0)) + tax.amount
    ship = priced.shipping
    assert ship.amount == ship.charge - ship.waived >= 0
    assert ship.total == ship.tax_base + ship.tax_total
    for tax in ship.taxes:
        rate_totals[tax.rate_id] = rate_totals.get(tax.rate_id, D(0)) + tax.amount

    assert priced.subtotal == sum((line.gross for line in priced.lines), D(0))
    assert priced.net == sum((line.net for line in priced.lines), D(0))
    assert priced.discount_total == priced.subtotal - priced.net
    by_source = {s.source: s.amount for s in priced.discounts_by_source}
    assert by_source == source_totals
    coupons = [c for c in priced.applied_coupons if c.discount_type != DiscountType.FREE_SHIPPING]
    assert by_source[DiscountSource.COUPON] == sum((c.amount for c in coupons), D(0))
    assert ship.waived == sum(
        (c.amount for c in priced.applied_coupons if c.discount_type == DiscountType.FREE_SHIPPING),
        D(0),
    )
    assert {s.rate_id: s.tax for s in priced.taxes} == rate_totals
    assert priced.tax_total == sum(rate_totals.values(), D(0))
    assert priced.tax_total == sum((line.tax_total for line in priced.lines), ship.tax_total)
    assert priced.total == sum((line.total for line in priced.lines), ship.total)
    if not priced.prices_include_tax:
        assert priced.total == priced.net + ship.amount + priced.tax_total


# --- strategies -----------------------------------------------------------------------------


def amounts(currency: str, max_units: int) -> st.SearchStrategy[D]:
    digits = minor_units(currency)
    return st.integers(0, max_units).map(lambda units: D(units).scaleb(-digits))


percents = st.integers(0, 10000).map(lambda n: D(n).scaleb(-2))  # 0.00 .. 100.00
quantities = st.one_of(
    st.integers(1, 6).map(D), st.integers(1, 5000).map(lambda g: D(g).scaleb(-3))
)
manual = st.none() | st.builds(
    ManualDiscount,
    st.sampled_from(ManualDiscountKind),
    st.integers(0, 5000).map(lambda n: D(n).scaleb(-2)),
    st.just("till"),
    st.none() | st.just("mgr"),
)


@st.composite
def tax_rates(draw: st.DrawFn) -> tuple[TaxRate, ...]:
    count = draw(st.integers(1, 3) | st.just(0))
    return tuple(
        TaxRate(
            f"r{i}",
            f"Rate {i}",
            D(draw(st.integers(0, 25000))).scaleb(-5),
            "CA",
            state=draw(st.sampled_from([None, None, "QC", "ON"])),
            priority=draw(st.integers(0, 3)),
            is_compound=draw(st.booleans()),
        )
        for i in range(count)
    )


@st.composite
def coupons(draw: st.DrawFn, currency: str) -> tuple[EnteredCoupon, ...]:
    result = []
    for i in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(DiscountType))
        percent_like = kind in (DiscountType.PERCENTAGE, DiscountType.BUY_X_GET_Y)
        value = draw(percents if percent_like else amounts(currency, 5000))
        coupon = Coupon(
            f"k{i}",
            f"CODE{i}",
            kind,
            value,
            valid_from=NOW - timedelta(days=1),
            min_order_value=draw(st.none() | amounts(currency, 20000)),
            max_discount=draw(st.none() | amounts(currency, 3000)),
            eligible_products=frozenset(draw(st.lists(st.sampled_from(PRODUCTS), max_size=2))),
            eligible_categories=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), max_size=1))),
            buy_quantity=draw(st.integers(1, 3)),
            get_quantity=draw(st.integers(1, 2)),
        )
        result.append(EnteredCoupon(coupon.code, coupon))
    return tuple(result)


@st.composite
def priced_carts(draw: st.DrawFn) -> tuple[Cart, PricingContext]:
    currency = draw(st.sampled_from(["USD", "BDT", "JPY"]))
    rates = draw(tax_rates())
    lines = tuple(
        CartLine(
            f"l{i}",
            draw(st.sampled_from(PRODUCTS)),
            draw(amounts(currency, 50000)),
            draw(quantities),
            category_ids=frozenset(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2))),
            taxable=draw(st.booleans() | st.just(True)),
            tax_rate_id=draw(st.none() | st.sampled_from([r.id for r in rates] or ["none"])),
            manual_discount=draw(manual),
        )
        for i in range(draw(st.integers(0, 8)))
    )
    sales = tuple(
        FlashSale(
            f"s{i}",
            "Sale",
            kind,
            draw(percents if kind is DiscountType.PERCENTAGE else amounts(currency, 3000)),
            NOW - timedelta(hours=1),
            NOW + timedelta(hours=draw(st.integers(-2, 2))),
            FlashSaleStatus.ACTIVE,
            frozenset(draw(st.lists(st.sampled_from(PRODUCTS), max_size=2))),
            all_products=draw(st.booleans()),
        )
        for i, kind in enumerate(
            draw(
                st.lists(
                    st.sampled_from([DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT]),
                    max_size=2,
                )
            )
        )
    )
    store = StoreSettings(
        currency,
        prices_include_tax=draw(st.booleans()),
        tax_rounding=draw(st.sampled_from(TaxRounding)),
        max_coupons=draw(st.integers(1, 3)),
        allow_coupons_with_flash_sale=draw(st.booleans()),
    )
    context = PricingContext(
        store,
        NOW,
        ADDRESS,
        tax_rates=rates,
        customer=draw(st.none() | st.builds(Customer, st.just("cust"), st.booleans())),
        flash_sales=sales,
        coupons=draw(coupons(currency)),
        shipping=draw(amounts(currency, 2000)),
        shipping_taxable=draw(st.booleans()),
        order_discount=draw(manual),
    )
    return Cart(lines), context


# --- properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(priced_carts())
def test_lines_always_sum_to_the_order(case: tuple[Cart, PricingContext]) -> None:
    cart, context = case
    assert_adds_up(price_cart(cart, context))


@settings(max_examples=60, deadline=None)
@given(priced_carts())
def test_per_order_tax_is_the_rounded_exact_sum_per_rate(case: tuple[Cart, PricingContext]) -> None:
    """Per-order mode: each simple (non-compound) rate's exclusive tax is round(sum of base x r)."""
    cart, context = case
    store = StoreSettings(context.settings.currency, tax_rounding=TaxRounding.PER_ORDER)
    context = PricingContext(
        store,
        NOW,
        ADDRESS,
        tax_rates=context.tax_rates,
        shipping=context.shipping,
        shipping_taxable=context.shipping_taxable,
    )
    priced = price_cart(cart, context)
    items = [(line.tax_base, line.taxes) for line in priced.lines]
    items.append((priced.shipping.tax_base, priced.shipping.taxes))
    for summary in priced.taxes:
        if summary.is_compound:
            continue
        exact = sum(
            (
                base * summary.rate
                for base, taxes in items
                if any(t.rate_id == summary.rate_id for t in taxes)
            ),
            D(0),
        )
        assert summary.tax == round_money(exact, store.currency)


def _one_line(
    unit: D, rates: tuple[TaxRate, ...], inclusive: bool, rounding: TaxRounding
) -> PricedCart:
    store = StoreSettings("USD", prices_include_tax=inclusive, tax_rounding=rounding)
    cart = Cart((CartLine("l", "p", unit, D(1)),))
    return price_cart(cart, PricingContext(store, NOW, ADDRESS, tax_rates=rates))


single_rate = st.integers(1, 30000).map(lambda n: D(n).scaleb(-5))  # 0.00001 .. 0.30000


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**7), single_rate, st.sampled_from(TaxRounding))
def test_inclusive_pricing_inverts_exclusive_pricing_exactly(
    base_cents: int, rate: D, rounding: TaxRounding
) -> None:
    """What "agree to the cent" means, for one rate r.

    Price a base B exclusively: tax t = round(B x r), gross P = B + t. Price P inclusively:
    the tax backed out is round(P x r / (1 + r)). Writing t = B x r + e with |e| <= 1/2 cent,
    P x r / (1 + r) = B x r + e x r / (1 + r) = t - e / (1 + r), which is strictly within half a
    cent of t; so the back-out rounds to exactly t and the base comes back as exactly B. Both
    directions give the same base, tax and gross, to the cent. (Inclusive pricing of an
    arbitrary P always gives base + tax == P exactly; the converse, pricing that base
    exclusively, can land one cent off P, which is why the property starts from B.)
    """
    base = D(base_cents).scaleb(-2)
    rates = (TaxRate("vat", "VAT", rate, "CA"),)
    exclusive = _one_line(base, rates, False, rounding)
    gross = exclusive.total
    inclusive = _one_line(gross, rates, True, rounding)
    assert inclusive.total == gross
    assert inclusive.lines[0].tax_base == base
    assert inclusive.tax_total == exclusive.tax_total


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**7), st.lists(single_rate, min_size=2, max_size=3))
def test_several_simple_rates_agree_within_one_cent_per_rate(base_cents: int, rs: list[D]) -> None:
    """With 2-3 simple rates (each <= 30%) the round trip B -> P -> back-out recovers each
    rate's tax within one cent and the gross exactly.

    Per rate, back-out minus exclusive tax is r_i x (sum of the rounding errors e_j) / M - e_i,
    at most 1/2 + 0.3/1.3 x 3/2 < 1.5 cents, so the rounded values differ by at most 1 cent.
    They can differ (two rates each rounded up by nearly half a cent push the third), which is
    the documented tolerance.
    """
    base = D(base_cents).scaleb(-2)
    rates = tuple(TaxRate(f"r{i}", f"R{i}", r, "CA", priority=i) for i, r in enumerate(rs))
    exclusive = _one_line(base, rates, False, TaxRounding.PER_LINE)
    inclusive = _one_line(exclusive.total, rates, True, TaxRounding.PER_LINE)
    assert inclusive.total == exclusive.total
    line = inclusive.lines[0]
    assert line.tax_base + line.tax_total == exclusive.total
    for back_out, charged in zip(line.taxes, exclusive.lines[0].taxes, strict=True):
        assert abs(back_out.amount - charged.amount) <= D("0.01")
    assert abs(line.tax_base - base) <= D("0.01") * len(rs)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 10**7),
    st.lists(single_rate, min_size=0, max_size=3),
    st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_inclusive_price_is_always_base_plus_taxes(
    price_cents: int, rs: list[D], compound: list[bool]
) -> None:
    """Whatever the rates, compound or not, an inclusive price splits into base + taxes exactly,
    with no negative part."""
    price = D(price_cents).scaleb(-2)
    rates = tuple(
        TaxRate(f"r{i}", f"R{i}", r, "CA", priority=i, is_compound=compound[i])
        for i, r in enumerate(rs)
    )
    for rounding in TaxRounding:
        line = _one_line(price, rates, True, rounding).lines[0]
        assert line.tax_base + line.tax_total == price
        assert line.tax_base >= 0 and all(t.amount >= 0 for t in line.taxes)

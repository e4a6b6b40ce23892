"""price_cart worked cases, each computed by hand in the comments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from stormcom_pos.domain.cart import (
    Cart,
    CartLine,
    Customer,
    InvalidCart,
    PricingContext,
    StoreSettings,
)
from stormcom_pos.domain.coupons import Coupon, EnteredCoupon, RejectionCode
from stormcom_pos.domain.discounts import (
    DiscountSource,
    DiscountType,
    FlashSale,
    ManualDiscount,
    ManualDiscountKind,
)
from stormcom_pos.domain.pricing import PricedCart, price_cart
from stormcom_pos.domain.tax import (
    TaxAddress,
    TaxExemption,
    TaxExemptionStatus,
    TaxRate,
    TaxRounding,
)
from tests.domain.test_pricing_properties import assert_adds_up

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
QC = TaxAddress("CA", "QC", "Montréal", "H2X 1Y4")
GST = TaxRate("gst", "GST", D("0.05"), "CA", priority=1)
QST = TaxRate("qst", "QST", D("0.09975"), "CA", state="QC", priority=2)
PST_COMPOUND = TaxRate("pst", "PST", D("0.085"), "CA", state="QC", priority=2, is_compound=True)
VAT_BD = TaxRate("vat", "VAT", D("0.15"), "BD")
DHAKA = TaxAddress("BD", city="Dhaka")
PCT, FIX = DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT
FREE, BXGY = DiscountType.FREE_SHIPPING, DiscountType.BUY_X_GET_Y


def line(
    line_id: str, unit: str, qty: str = "1", product: str | None = None, **kw: object
) -> CartLine:
    return CartLine(line_id, product or line_id, D(unit), D(qty), **kw)  # type: ignore[arg-type]


def coupon(
    code: str, kind: DiscountType = PCT, value: str = "10", uses: int = 0, **kw: object
) -> EnteredCoupon:
    kw.setdefault("valid_from", NOW - timedelta(days=30))
    c = Coupon(code, code, kind, D(value), **kw)  # type: ignore[arg-type]
    return EnteredCoupon(code, c, uses)


def price(
    lines: list[CartLine],
    *,
    currency: str = "USD",
    address: TaxAddress = QC,
    inclusive: bool = False,
    rounding: TaxRounding = TaxRounding.PER_LINE,
    max_coupons: int = 1,
    allow_flash: bool = True,
    **context: object,
) -> PricedCart:
    store = StoreSettings(currency, inclusive, rounding, max_coupons, allow_flash)
    priced = price_cart(Cart(tuple(lines)), PricingContext(store, NOW, address, **context))  # type: ignore[arg-type]
    assert_adds_up(priced)
    return priced


def rejected(priced: PricedCart) -> list[tuple[str, RejectionCode]]:
    return [(r.coupon_code, r.code) for r in priced.rejected_coupons]


def applied(priced: PricedCart) -> list[tuple[str, D]]:
    return [(c.code, c.amount) for c in priced.applied_coupons]


# --- CHK060 ---------------------------------------------------------------------------------


def test_chk060_ten_then_five_percent_is_fourteen_and_a_half() -> None:
    # Entered 5% first, but the highest percentage applies first:
    # 10% of 100.00 = 10.00 -> 90.00; 5% of 90.00 = 4.50 -> 85.50. 14.50 off = 14.5%.
    priced = price(
        [line("a", "100.00")], coupons=(coupon("P5", value="5"), coupon("P10")), max_coupons=3
    )
    assert applied(priced) == [("P10", D("10.00")), ("P5", D("4.50"))]
    assert priced.discount_total == D("14.50")
    assert priced.net == priced.total == D("85.50")


def test_chk060_amounts_are_spread_over_lines_by_their_amounts() -> None:
    # 60.00 + 40.00: 10% = 10.00 -> 6.00 / 4.00; then 5% of 90.00 = 4.50 over 54:36 -> 2.70 / 1.80.
    priced = price(
        [line("a", "60.00"), line("b", "40.00")],
        coupons=(coupon("P10"), coupon("P5", value="5")),
        max_coupons=2,
    )
    assert [[d.amount for d in ln.discounts] for ln in priced.lines] == [
        [D("6.00"), D("2.70")],
        [D("4.00"), D("1.80")],
    ]


def test_product_coupons_come_before_order_wide_ones() -> None:
    shoes = frozenset({"shoes"})
    # SHOES20 first although entered second: 20% of A's 50.00 = 10.00 -> A 40.00.
    # FIX10 on 90.00 spread 40:50 -> 4.444 / 5.556 cents-floored 4.44 / 5.55, the leftover cent
    # to the larger remainder (B) -> 4.44 / 5.56.
    priced = price(
        [line("a", "50.00", category_ids=shoes), line("b", "50.00")],
        coupons=(
            coupon("FIX10", FIX, "10.00"),
            coupon("SHOES20", value="20", eligible_categories=shoes),
        ),
        max_coupons=3,
    )
    assert applied(priced) == [("SHOES20", D("10.00")), ("FIX10", D("10.00"))]
    assert [ln.net for ln in priced.lines] == [D("35.56"), D("44.44")]


def test_minimum_is_rechecked_after_earlier_discounts() -> None:
    # P20 applies first: 100.00 -> 80.00. F10 needs 85.00 and is dropped.
    priced = price(
        [line("a", "100.00")],
        coupons=(
            coupon("F10", FIX, "10.00", min_order_value=D("85.00")),
            coupon("P20", value="20"),
        ),
        max_coupons=3,
    )
    assert applied(priced) == [("P20", D("20.00"))]
    assert rejected(priced) == [("F10", RejectionCode.MINIMUM_NOT_MET)]
    assert priced.rejected_coupons[0].reason == (
        "Coupon F10 needs an order of at least $85.00; this order is $80.00"
    )
    # Exactly at the minimum is enough: 80.00 >= 80.00.
    priced = price(
        [line("a", "100.00")],
        coupons=(
            coupon("F10", FIX, "10.00", min_order_value=D("80.00")),
            coupon("P20", value="20"),
        ),
        max_coupons=3,
    )
    assert applied(priced) == [("P20", D("20.00")), ("F10", D("10.00"))]


def test_fixed_amount_coupons_do_not_stack() -> None:
    priced = price(
        [line("a", "100.00")],
        coupons=(coupon("F5", FIX, "5.00"), coupon("F10", FIX, "10.00")),
        max_coupons=3,
    )
    assert applied(priced) == [("F10", D("10.00"))]
    assert rejected(priced) == [("F5", RejectionCode.FIXED_NOT_STACKABLE)]


def test_one_coupon_per_order_by_default() -> None:
    priced = price([line("a", "100.00")], coupons=(coupon("P5", value="5"), coupon("P10")))
    assert applied(priced) == [("P5", D("5.00"))]
    assert rejected(priced) == [("P10", RejectionCode.ONE_PER_ORDER)]


def test_max_discount_caps_a_percentage() -> None:
    # 50% of 100.00 = 50.00, capped at 20.00.
    priced = price(
        [line("a", "100.00")], coupons=(coupon("HALF", value="50", max_discount=D("20.00")),)
    )
    assert applied(priced) == [("HALF", D("20.00"))]


def test_fixed_coupon_never_exceeds_the_order() -> None:
    priced = price([line("a", "6.00")], coupons=(coupon("F10", FIX, "10.00"),))
    assert applied(priced) == [("F10", D("6.00"))]
    assert priced.total == D("0.00")


def test_manual_line_discounts_come_before_coupon_minimums() -> None:
    # 100.00 less a 20% manual discount = 80.00, below the coupon's 85.00 minimum.
    staff = ManualDiscount(ManualDiscountKind.PERCENT, D("20"), "Staff", "mgr-1")
    priced = price(
        [line("a", "100.00", manual_discount=staff)],
        coupons=(coupon("F10", FIX, "10.00", min_order_value=D("85.00")),),
    )
    assert rejected(priced) == [("F10", RejectionCode.MINIMUM_NOT_MET)]


def test_with_stacking_off_the_first_coupon_holds_the_slot_even_if_its_minimum_fails() -> None:
    # FIX10 is admitted (first entered), so P10 is refused; FIX10 then misses its minimum.
    priced = price(
        [line("a", "100.00")],
        coupons=(coupon("FIX10", FIX, "10.00", min_order_value=D("200.00")), coupon("P10")),
    )
    assert applied(priced) == []
    assert rejected(priced) == [
        ("FIX10", RejectionCode.MINIMUM_NOT_MET),
        ("P10", RejectionCode.ONE_PER_ORDER),
    ]


# --- flash sales ----------------------------------------------------------------------------


def flash(percent: str, *products: str) -> FlashSale:
    return FlashSale(
        "fs",
        "Summer",
        PCT,
        D(percent),
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        product_ids=frozenset(products),
    )


def test_coupon_works_on_the_sale_price() -> None:
    # p1 50.00 at 20% off -> 40.00 (saving 10.00); p2 10.00. P10 on 50.00 = 5.00 -> 4.00 / 1.00.
    priced = price(
        [line("a", "50.00", product="p1"), line("b", "10.00", product="p2")],
        flash_sales=(flash("20", "p1"),),
        coupons=(coupon("P10"),),
    )
    first = priced.lines[0]
    assert (first.unit_price, first.gross, first.flash_sale_saving) == (
        D("40.00"),
        D("40.00"),
        D("10.00"),
    )
    assert priced.flash_sale_savings == D("10.00")
    assert [ln.discount_total for ln in priced.lines] == [D("4.00"), D("1.00")]


def test_coupons_refused_with_flash_sale_when_the_store_says_so() -> None:
    priced = price(
        [line("a", "50.00", product="p1"), line("b", "10.00", product="p2")],
        flash_sales=(flash("20", "p1"),),
        coupons=(coupon("P10"),),
        allow_flash=False,
    )
    assert rejected(priced) == [("P10", RejectionCode.FLASH_SALE)]
    assert priced.total == D("50.00")


def test_minimum_is_checked_on_sale_prices() -> None:
    # 50.00 on sale at 20% = 40.00 < 45.00.
    priced = price(
        [line("a", "50.00", product="p1")],
        flash_sales=(flash("20", "p1"),),
        coupons=(coupon("P10", min_order_value=D("45.00")),),
    )
    assert rejected(priced) == [("P10", RejectionCode.MINIMUM_NOT_MET)]


# --- BUY_X_GET_Y and free shipping ----------------------------------------------------------


def test_buy_two_get_one_free_on_a_category() -> None:
    snacks = frozenset({"snacks"})
    # Eligible: chips 2 x 3.00, soda 3 x 1.50 = 5 units -> floor(5 / 3) x 1 = 1 free unit, the
    # cheapest (a soda): 4.50 x 1/3 = 1.50 off. Bread is not a snack.
    priced = price(
        [
            line("chips", "3.00", "2", category_ids=snacks),
            line("soda", "1.50", "3", category_ids=snacks),
            line("bread", "4.00"),
        ],
        coupons=(
            coupon("B2G1", BXGY, "100", buy_quantity=2, get_quantity=1, eligible_categories=snacks),
        ),
    )
    assert [ln.discount_total for ln in priced.lines] == [D("0.00"), D("1.50"), D("0.00")]
    assert priced.total == D("13.00")  # 6.00 + 4.50 + 4.00 - 1.50


def test_buy_x_get_y_needs_enough_items() -> None:
    priced = price(
        [line("a", "3.00", "2")],
        coupons=(coupon("B2G1", BXGY, "100", buy_quantity=2, get_quantity=1),),
    )
    assert rejected(priced) == [("B2G1", RejectionCode.NOT_ENOUGH_ITEMS)]
    assert priced.rejected_coupons[0].reason == (
        "Coupon B2G1 (buy 2, get 1) needs 3 eligible items; this order has 2"
    )


def test_free_shipping_waives_shipping_and_its_tax() -> None:
    # Merchandise 40.00 + GST 2.00 + QST 3.99 (3.99); shipping 8.00 waived, so no tax on it.
    priced = price(
        [line("a", "40.00")],
        tax_rates=(GST, QST),
        shipping=D("8.00"),
        coupons=(coupon("SHIPFREE", FREE, "0"),),
    )
    assert applied(priced) == [("SHIPFREE", D("8.00"))]
    assert (priced.shipping.amount, priced.shipping.tax_total) == (D("0.00"), D("0.00"))
    assert priced.total == D("45.99")  # 40.00 + 2.00 + 3.99


def test_free_shipping_comes_last_and_checks_its_minimum_after_discounts() -> None:
    # 55.00 - 10% = 49.50 < 50.00, so free shipping is dropped and 8.00 shipping stays.
    priced = price(
        [line("a", "55.00")],
        shipping=D("8.00"),
        max_coupons=2,
        coupons=(coupon("SHIP50", FREE, "0", min_order_value=D("50.00")), coupon("P10")),
    )
    assert applied(priced) == [("P10", D("5.50"))]
    assert rejected(priced) == [("SHIP50", RejectionCode.MINIMUM_NOT_MET)]
    assert priced.total == D("57.50")


def test_free_shipping_without_shipping_is_refused() -> None:
    priced = price([line("a", "5.00")], coupons=(coupon("SHIP", FREE, "0"),))
    assert rejected(priced) == [("SHIP", RejectionCode.NO_SHIPPING)]


# --- validity and limits, end to end --------------------------------------------------------


def test_coupon_validity_ends_are_inclusive() -> None:
    ends_now = coupon("LAST", valid_to=NOW)
    assert applied(price([line("a", "10.00")], coupons=(ends_now,))) == [("LAST", D("1.00"))]
    ended = coupon("GONE", valid_to=NOW - timedelta(microseconds=1))
    priced = price([line("a", "10.00")], coupons=(ended,))
    assert rejected(priced) == [("GONE", RejectionCode.EXPIRED)]
    assert priced.rejected_coupons[0].reason == "Coupon GONE expired at 2025-06-01 11:59"
    starts_now = coupon("FIRST", valid_from=NOW)
    assert applied(price([line("a", "10.00")], coupons=(starts_now,))) == [("FIRST", D("1.00"))]


def test_usage_limits_end_to_end() -> None:
    used_up = coupon("HUNDRED", usage_limit_per_coupon=100, current_usage_count=100)
    priced = price([line("a", "10.00")], coupons=(used_up,))
    assert (
        priced.rejected_coupons[0].reason == "Coupon HUNDRED has been used its maximum of 100 times"
    )
    once = coupon("ONCE", usage_limit_per_customer=1, uses=1)
    priced = price([line("a", "10.00")], coupons=(once,), customer=Customer("c1"))
    assert rejected(priced) == [("ONCE", RejectionCode.CUSTOMER_LIMIT)]


def test_unknown_coupon_code() -> None:
    priced = price([line("a", "10.00")], coupons=(EnteredCoupon("NOPE", None),))
    assert [(r.code, r.reason) for r in priced.rejected_coupons] == [
        (RejectionCode.NOT_FOUND, "Coupon NOPE not found")
    ]


# --- manual discounts -----------------------------------------------------------------------


def test_manual_line_and_order_discounts() -> None:
    damaged = ManualDiscount(ManualDiscountKind.PERCENT, D("10"), "Damaged box", "mgr-1")
    loyalty = ManualDiscount(ManualDiscountKind.AMOUNT, D("5.00"), "Loyalty", "mgr-2")
    # A 19.99 - 10% (1.999 -> 2.00) = 17.99; B 10.01. Order 5.00 over 17.99:10.01 of 28.00:
    # A 321.25 -> 321 cents, B 178.75 -> 178, leftover cent to B (.75) -> 3.21 / 1.79.
    priced = price(
        [line("a", "19.99", manual_discount=damaged), line("b", "10.01")], order_discount=loyalty
    )
    a, b = priced.lines
    assert [(d.source, d.amount, d.reason, d.approved_by) for d in a.discounts] == [
        (DiscountSource.MANUAL_LINE, D("2.00"), "Damaged box", "mgr-1"),
        (DiscountSource.MANUAL_ORDER, D("3.21"), "Loyalty", "mgr-2"),
    ]
    assert [d.amount for d in b.discounts] == [D("1.79")]
    assert (a.net, b.net, priced.total) == (D("14.78"), D("8.22"), D("23.00"))


# --- tax, end to end ------------------------------------------------------------------------


def test_quebec_gst_and_qst() -> None:
    # 100.00: GST 5.00, QST 9.975 -> 9.98; total 114.98.
    priced = price([line("a", "100.00")], tax_rates=(QST, GST))
    assert [(t.rate_id, t.tax) for t in priced.taxes] == [("gst", D("5.00")), ("qst", D("9.98"))]
    assert priced.total == D("114.98")


def test_compound_provincial_tax() -> None:
    # 100.00: GST 5.00; compound PST 8.5% of 105.00 = 8.925 -> 8.93; total 113.93.
    priced = price([line("a", "100.00")], tax_rates=(GST, PST_COMPOUND))
    assert priced.tax_total == D("13.93")
    assert priced.total == D("113.93")


def test_bdt_vat_exclusive() -> None:
    # 2 x 1,250.00 = 2,500.00 -> VAT 375.00; 333.33 -> 49.9995 -> 50.00. 2,833.33 + 425.00.
    priced = price(
        [line("a", "1250.00", "2"), line("b", "333.33")],
        currency="BDT",
        address=DHAKA,
        tax_rates=(VAT_BD,),
    )
    assert priced.tax_total == D("425.00")
    assert priced.total == D("3258.33")


def test_bdt_vat_inclusive() -> None:
    # 1,150.00 holds 150.00 VAT (base 1,000.00); 99.00 holds 12.913 -> 12.91 (base 86.09).
    priced = price(
        [line("a", "1150.00"), line("b", "99.00")],
        currency="BDT",
        address=DHAKA,
        tax_rates=(VAT_BD,),
        inclusive=True,
    )
    assert [(ln.tax_base, ln.tax_total, ln.total) for ln in priced.lines] == [
        (D("1000.00"), D("150.00"), D("1150.00")),
        (D("86.09"), D("12.91"), D("99.00")),
    ]
    assert (priced.tax_total, priced.total) == (D("162.91"), D("1249.00"))


def test_per_line_and_per_order_rounding_differ() -> None:
    # Three 0.10 lines at 5%: per line 0.005 -> 0.01 each = 0.03; per order 0.015 -> 0.02.
    five = TaxRate("t", "T", D("0.05"), "CA")
    lines = [line("a", "0.10"), line("b", "0.10"), line("c", "0.10")]
    assert price(lines, tax_rates=(five,)).tax_total == D("0.03")
    per_order = price(lines, tax_rates=(five,), rounding=TaxRounding.PER_ORDER)
    assert per_order.tax_total == D("0.02")
    assert [ln.tax_total for ln in per_order.lines] == [D("0.01"), D("0.01"), D("0.00")]


def test_product_rate_override_and_non_taxable_lines() -> None:
    # Book taxed at its own rate (GST only): 20.00 -> 1.00. Gift card not taxable.
    priced = price(
        [line("book", "20.00", tax_rate_id="gst"), line("gift", "25.00", taxable=False)],
        tax_rates=(GST, QST),
    )
    assert [[(t.rate_id, t.amount) for t in ln.taxes] for ln in priced.lines] == [
        [("gst", D("1.00"))],
        [],
    ]


def test_tax_is_charged_on_taxable_shipping() -> None:
    # 10.00 + shipping 5.00, both at GST 5%: 0.50 + 0.25.
    priced = price([line("a", "10.00")], tax_rates=(GST,), shipping=D("5.00"))
    assert (priced.shipping.tax_total, priced.tax_total, priced.total) == (
        D("0.25"),
        D("0.75"),
        D("15.75"),
    )
    untaxed = price(
        [line("a", "10.00")], tax_rates=(GST,), shipping=D("5.00"), shipping_taxable=False
    )
    assert untaxed.tax_total == D("0.50")


def test_exempt_customer_pays_no_tax() -> None:
    cert = TaxExemption("e", "c1", TaxExemptionStatus.APPROVED, NOW + timedelta(days=90))
    priced = price(
        [line("a", "100.00")], tax_rates=(GST, QST), customer=Customer("c1"), exemptions=(cert,)
    )
    assert priced.tax_exempt and priced.tax_total == D("0.00") and priced.total == D("100.00")
    # Inclusive prices: the 15% VAT inside 1,150.00 is taken out; the customer pays 1,000.00.
    priced = price(
        [line("a", "1150.00")],
        currency="BDT",
        address=DHAKA,
        tax_rates=(VAT_BD,),
        inclusive=True,
        customer=Customer("c2", is_tax_exempt=True),
    )
    assert (priced.tax_total, priced.total) == (D("0.00"), D("1000.00"))


def test_weighed_item_and_yen() -> None:
    # 0.756 kg at 3.49 = 2.63844 -> 2.64.
    assert price([line("apples", "3.49", "0.756")]).total == D("2.64")
    # ¥1,005 at 10% = 100.5 -> 101.
    jct = TaxRate("jct", "JCT", D("0.10"), "JP")
    priced = price([line("a", "1005")], currency="JPY", address=TaxAddress("JP"), tax_rates=(jct,))
    assert (priced.tax_total, priced.total) == (D("101"), D("1106"))


def test_empty_cart_with_shipping() -> None:
    priced = price([], tax_rates=(GST,), shipping=D("5.00"))
    assert (priced.subtotal, priced.tax_total, priced.total) == (D("0.00"), D("0.25"), D("5.25"))


def test_invalid_carts_are_refused() -> None:
    with pytest.raises(InvalidCart):
        line("a", "1.00", "0")
    with pytest.raises(InvalidCart):
        line("a", "-1.00")
    with pytest.raises(InvalidCart):
        Cart((line("a", "1.00"), line("a", "2.00")))
    with pytest.raises(InvalidCart):
        StoreSettings("USD", max_coupons=4)
    with pytest.raises(InvalidCart):
        PricingContext(StoreSettings("USD"), NOW, QC, shipping=D("-1"))

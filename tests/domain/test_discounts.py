"""Discount pieces: flash sales, manual discounts, BUY_X_GET_Y, coupon admission and order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from stormcom_pos.domain.coupons import (
    Coupon,
    CouponRejected,
    CouponRejection,
    EnteredCoupon,
    RejectionCode,
    admit_coupons,
    application_order,
)
from stormcom_pos.domain.discounts import (
    DiscountType,
    FlashSale,
    FlashSaleStatus,
    InvalidDiscount,
    ManualDiscount,
    ManualDiscountKind,
    best_flash_sale,
    buy_x_get_y_discounts,
    cap_per_line,
    capped,
    flash_sale_live,
    manual_discount_amount,
    sale_unit_price,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
START = datetime(2025, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)
PCT, FIX = DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT
FREE, BXGY = DiscountType.FREE_SHIPPING, DiscountType.BUY_X_GET_Y


def sale(
    kind: DiscountType = PCT,
    value: str = "20",
    *,
    products: tuple[str, ...] = ("p1",),
    status: FlashSaleStatus = FlashSaleStatus.ACTIVE,
    sale_id: str = "s1",
) -> FlashSale:
    return FlashSale(
        sale_id,
        "Sale",
        kind,
        D(value),
        NOW - timedelta(hours=1),
        NOW + timedelta(hours=1),
        status,
        frozenset(products),
        all_products=not products,
    )


# --- flash sales ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "unit", "expected"),
    [
        (PCT, "15", "19.99", "16.99"),  # 19.99 x 0.85 = 16.9915 -> 16.99
        (PCT, "33", "0.05", "0.03"),  # 0.05 x 0.67 = 0.0335 -> 0.03
        (PCT, "50", "0.25", "0.13"),  # 0.125 -> 0.13 (half up)
        (FIX, "3.00", "10.00", "7.00"),
        (FIX, "12.00", "10.00", "0.00"),  # never below zero
    ],
)
def test_sale_unit_price(kind: DiscountType, value: str, unit: str, expected: str) -> None:
    assert sale_unit_price(sale(kind, value), D(unit), "USD") == D(expected)


def test_flash_sale_window_is_inclusive_and_status_counts() -> None:
    s = sale()
    assert flash_sale_live(s, s.start_at) and flash_sale_live(s, s.end_at)
    assert not flash_sale_live(s, s.start_at - US) and not flash_sale_live(s, s.end_at + US)
    assert flash_sale_live(sale(status=FlashSaleStatus.SCHEDULED), NOW)
    assert not flash_sale_live(sale(status=FlashSaleStatus.ENDED), NOW)
    assert not flash_sale_live(sale(status=FlashSaleStatus.CANCELED), NOW)


def test_best_flash_sale_targets_and_lowest_price() -> None:
    ten_off = sale(FIX, "10.00", products=(), sale_id="all")  # every product
    pct = sale(PCT, "20", products=("p1",), sale_id="p1-20")
    # 50.00: 20% off and 10.00 off both give 40.00; on a tie the earlier sale wins.
    assert best_flash_sale("p1", D("50.00"), [ten_off, pct], NOW, "USD") == (ten_off, D("40.00"))
    # 100.00: 20% -> 80.00 beats 90.00.
    assert best_flash_sale("p1", D("100.00"), [ten_off, pct], NOW, "USD") == (pct, D("80.00"))
    # p2 is only in the store-wide sale.
    assert best_flash_sale("p2", D("100.00"), [ten_off, pct], NOW, "USD") == (ten_off, D("90.00"))
    assert best_flash_sale("p2", D("5.00"), [pct], NOW, "USD") == (None, D("5.00"))


def test_flash_sale_must_be_a_price_change() -> None:
    with pytest.raises(InvalidDiscount):
        sale(FREE, "0")
    with pytest.raises(InvalidDiscount):
        sale(PCT, "101")


# --- manual discounts and caps ---------------------------------------------------------------


def test_manual_discounts() -> None:
    ten_pct = ManualDiscount(ManualDiscountKind.PERCENT, D("10"), "Damaged box", "mgr-1")
    five_off = ManualDiscount(ManualDiscountKind.AMOUNT, D("5.00"), "Price match")
    assert manual_discount_amount(ten_pct, D("19.99"), "USD") == D("2.00")  # 1.999 -> 2.00
    assert manual_discount_amount(five_off, D("19.99"), "USD") == D("5.00")
    assert manual_discount_amount(five_off, D("3.50"), "USD") == D("3.50")  # cut to fit
    with pytest.raises(InvalidDiscount):
        ManualDiscount(ManualDiscountKind.PERCENT, D("10"), "  ")
    with pytest.raises(InvalidDiscount):
        ManualDiscount(ManualDiscountKind.PERCENT, D("120"), "too much")
    with pytest.raises(InvalidDiscount):
        ManualDiscount(ManualDiscountKind.AMOUNT, D("-1"), "negative")


def test_caps() -> None:
    assert capped(D("50.00"), D("20.00"), "USD") == D("20.00")
    assert capped(D("5.00"), D("20.00"), "USD") == D("5.00")
    assert capped(D("5.00"), None, "USD") == D("5.00")
    # 12.00 + 3.00 capped at 10.00, spread 12:3 -> 8.00, 2.00.
    assert cap_per_line((D("12.00"), D("3.00")), D("10.00"), "USD") == (D("8.00"), D("2.00"))


# --- BUY_X_GET_Y ----------------------------------------------------------------------------


def test_buy_two_get_one_free_takes_the_cheapest_units() -> None:
    # A 2 x 10.00, B 3 x 4.00, C 2 x 6.00: 7 units, floor(7 / 3) x 1 = 2 free units, the two
    # cheapest: both from B (4.00 each) -> B's discount is 12.00 x 2/3 = 8.00.
    lines = [(D(2), D("20.00")), (D(3), D("12.00")), (D(2), D("12.00"))]
    assert buy_x_get_y_discounts(lines, 2, 1, D(100), "USD") == (D("0.00"), D("8.00"), D("0.00"))
    # At 50% off the "get" units: 4.00.
    assert buy_x_get_y_discounts(lines, 2, 1, D(50), "USD") == (D("0.00"), D("4.00"), D("0.00"))


def test_buy_one_get_one_spans_lines_and_ignores_weighed_items() -> None:
    # A 1 x 5.00, B 3 x 3.00, weighed 0.5 kg: 4 whole units -> 2 at 50% off, both B (3.00):
    # 9.00 x 2/3 x 50% = 3.00.
    lines = [(D(1), D("5.00")), (D(3), D("9.00")), (D("0.5"), D("1.00"))]
    assert buy_x_get_y_discounts(lines, 1, 1, D(50), "USD") == (D("0.00"), D("3.00"), D("0.00"))
    # Buy 2 get 2 over 5 units: floor(5 / 4) x 2 = 2 free units. The cheapest line has only
    # one unit (2.00), so the second free unit is the next cheapest (5.00, line 3).
    lines = [(D(3), D("30.00")), (D(1), D("2.00")), (D(1), D("5.00"))]
    assert buy_x_get_y_discounts(lines, 2, 2, D(100), "USD") == (D("0.00"), D("2.00"), D("5.00"))


def test_buy_x_get_y_with_too_few_units_gives_nothing() -> None:
    assert buy_x_get_y_discounts([(D(2), D("10.00"))], 2, 1, D(100), "USD") == (D("0.00"),)


# --- coupons: admission ---------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    product_id: str
    category_ids: frozenset[str] = frozenset()


LINES = (Line("p1", frozenset({"shoes"})), Line("p2"))


def coupon(code: str, kind: DiscountType = PCT, value: str = "10", **kw: object) -> Coupon:
    kw.setdefault("valid_from", START)
    return Coupon(code, code, kind, D(value), **kw)  # type: ignore[arg-type]


def entered(c: Coupon | None, code: str = "", uses: int = 0) -> EnteredCoupon:
    return EnteredCoupon(c.code if c else code, c, uses)


def admit(
    *entries: EnteredCoupon,
    now: datetime = NOW,
    max_coupons: int = 3,
    flash: bool = False,
    allow_flash: bool = True,
    customer: str | None = "cust-1",
) -> tuple[list[str], list[tuple[str, RejectionCode]]]:
    kept, refused = admit_coupons(
        entries,
        lines=LINES,
        any_flash_sale=flash,
        allow_with_flash_sale=allow_flash,
        max_coupons=max_coupons,
        customer_id=customer,
        now=now,
        currency="USD",
    )
    return [c.code for _, c in kept], [(r.coupon_code, r.code) for _, r in refused]


def test_validity_bounds_are_inclusive() -> None:
    end = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    c = coupon("JUNE", valid_from=START, valid_to=end)
    assert admit(entered(c), now=START) == (["JUNE"], [])
    assert admit(entered(c), now=end) == (["JUNE"], [])
    assert admit(entered(c), now=START - US) == ([], [("JUNE", RejectionCode.NOT_STARTED)])
    assert admit(entered(c), now=end + US) == ([], [("JUNE", RejectionCode.EXPIRED)])
    # No end date: valid for ever after the start.
    assert admit(entered(coupon("FOREVER")), now=NOW + timedelta(days=3650))[0] == ["FOREVER"]


def test_usage_limits() -> None:
    total = coupon("LIMIT5", usage_limit_per_coupon=5, current_usage_count=4)
    used_up = coupon("USED5", usage_limit_per_coupon=5, current_usage_count=5)
    assert admit(entered(total))[0] == ["LIMIT5"]
    assert admit(entered(used_up))[1] == [("USED5", RejectionCode.USAGE_LIMIT)]
    once = coupon("ONCE", usage_limit_per_customer=1)
    assert admit(entered(once, uses=0))[0] == ["ONCE"]
    assert admit(entered(once, uses=1))[1] == [("ONCE", RejectionCode.CUSTOMER_LIMIT)]
    # A walk-in sale has no customer to count against.
    assert admit(entered(once, uses=1), customer=None)[0] == ["ONCE"]


def test_customer_eligibility() -> None:
    vip = coupon("VIP", eligible_customers=frozenset({"cust-9"}))
    everyone = coupon("ALL", eligible_customers=frozenset({"all"}))
    assert admit(entered(vip))[1] == [("VIP", RejectionCode.CUSTOMER_NOT_ELIGIBLE)]
    assert admit(entered(vip), customer=None)[1] == [("VIP", RejectionCode.CUSTOMER_REQUIRED)]
    assert admit(entered(vip), customer="cust-9")[0] == ["VIP"]
    assert admit(entered(everyone), customer=None)[0] == ["ALL"]


def test_simple_refusals() -> None:
    off = coupon("OFF", is_active=False)
    socks = coupon("SOCKS", eligible_categories=frozenset({"socks"}))
    shoes = coupon("SHOES", eligible_categories=frozenset({"shoes"}))
    c = coupon("TWICE")
    assert admit(entered(None, "NOPE"), entered(off), entered(socks), entered(shoes)) == (
        ["SHOES"],
        [
            ("NOPE", RejectionCode.NOT_FOUND),
            ("OFF", RejectionCode.INACTIVE),
            ("SOCKS", RejectionCode.NO_ELIGIBLE_ITEMS),
        ],
    )
    assert admit(entered(c), entered(c)) == (["TWICE"], [("TWICE", RejectionCode.DUPLICATE)])


def test_coupons_with_flash_sale_toggle() -> None:
    c = coupon("SAVE")
    assert admit(entered(c), flash=True, allow_flash=True)[0] == ["SAVE"]
    assert admit(entered(c), flash=True, allow_flash=False) == (
        [],
        [("SAVE", RejectionCode.FLASH_SALE)],
    )
    assert admit(entered(c), flash=False, allow_flash=False)[0] == ["SAVE"]


def test_stacking_off_keeps_the_first_admissible_coupon() -> None:
    expired = coupon("OLD", valid_to=START + US)
    five, ten = coupon("FIX5", FIX, "5.00"), coupon("FIX10", FIX, "10.00")
    assert admit(entered(expired), entered(five), entered(ten), max_coupons=1) == (
        ["FIX5"],
        [("OLD", RejectionCode.EXPIRED), ("FIX10", RejectionCode.ONE_PER_ORDER)],
    )


def test_fixed_amounts_do_not_stack_and_the_highest_wins() -> None:
    five, ten, other_ten = (
        coupon("FIX5", FIX, "5.00"),
        coupon("FIX10", FIX, "10.00"),
        coupon("TEN", FIX, "10.00"),
    )
    kept, refused = admit(entered(five), entered(ten), entered(other_ten))
    assert kept == ["FIX10"]  # ties go to the earlier entry
    assert refused == [
        ("FIX5", RejectionCode.FIXED_NOT_STACKABLE),
        ("TEN", RejectionCode.FIXED_NOT_STACKABLE),
    ]


def test_stacking_limit_counts_after_fixed_duplicates_go() -> None:
    a, b, c, d = (
        coupon("A"),
        coupon("F5", FIX, "5"),
        coupon("F9", FIX, "9"),
        coupon("D", value="5"),
    )
    e = coupon("E", FREE, "0")
    # F5 loses to F9 and takes no slot, so A, F9 and D fit; E is the fourth.
    assert admit(entered(a), entered(b), entered(c), entered(d), entered(e)) == (
        ["A", "F9", "D"],
        [("F5", RejectionCode.FIXED_NOT_STACKABLE), ("E", RejectionCode.TOO_MANY)],
    )
    assert admit(entered(a), entered(d), max_coupons=2)[0] == ["A", "D"]


def test_refusal_reads_well_and_raises() -> None:
    _, refused = admit_coupons(
        [entered(coupon("FIX5", FIX, "5.00")), entered(coupon("FIX10", FIX, "10.00"))],
        lines=LINES,
        any_flash_sale=False,
        allow_with_flash_sale=True,
        max_coupons=2,
        customer_id=None,
        now=NOW,
        currency="USD",
    )
    rejection: CouponRejection = refused[0][1]
    assert rejection.reason == (
        "Fixed-amount coupons do not combine; coupon FIX10 ($10.00 off) is kept instead of "
        "FIX5 ($5.00 off)"
    )
    error = rejection.error()
    assert isinstance(error, CouponRejected)
    assert error.code == "coupon_fixed_not_stackable"


def test_coupon_definitions_are_checked() -> None:
    with pytest.raises(InvalidDiscount):
        coupon("BAD", PCT, "150")
    with pytest.raises(InvalidDiscount):
        coupon("B2G1", BXGY, "100")  # no buy/get quantities
    with pytest.raises(InvalidDiscount):
        admit(entered(coupon("A")), max_coupons=4)


# --- coupons: order -------------------------------------------------------------------------


def test_application_order() -> None:
    shoes = frozenset({"shoes"})
    entries = [
        coupon("FREESHIP", FREE, "0"),
        coupon("ORDER5", PCT, "5"),
        coupon("ORDERFIX", FIX, "3"),
        coupon("B1G1", BXGY, "100", buy_quantity=1, get_quantity=1),
        coupon("SHOES10", PCT, "10", eligible_categories=shoes),
        coupon("ORDER10", PCT, "10"),
        coupon("SHOESFIX", FIX, "2", eligible_categories=shoes),
        coupon("ORDER10B", PCT, "10"),
    ]
    ordered = application_order(list(enumerate(entries)))
    assert [c.code for _, c in ordered] == [
        "SHOES10",  # product-specific first: percentages, then fixed
        "SHOESFIX",
        "ORDER10",  # order-wide percentages, highest first, entry order breaks the tie
        "ORDER10B",
        "ORDER5",
        "ORDERFIX",  # then the fixed amount
        "B1G1",  # then BUY_X_GET_Y
        "FREESHIP",  # free shipping last
    ]


def test_a_sale_that_does_not_lower_the_price_is_ignored() -> None:
    assert best_flash_sale("p1", D("10.00"), [sale(PCT, "0")], NOW, "USD") == (None, D("10.00"))

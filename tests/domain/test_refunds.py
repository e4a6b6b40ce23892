"""Refunds: proportional to the cent, the last units take the remainder, never beyond captured."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stormcom_pos.domain.enums import RefundStatus as R
from stormcom_pos.domain.order_states import RefundFact
from stormcom_pos.domain.refunds import (
    InvalidRefund,
    RefundableLine,
    RefundExceedsCaptured,
    RefundQuantityExceeded,
    UnknownOrderLine,
    apply_line_refund,
    check_refund_amount,
    committed_refund_total,
    plan_amount_refund,
    plan_item_refund,
    refund_line,
    refundable_amount,
)

D = Decimal

# 3 mugs at 3.33 with a 1.00 discount: net 8.99, tax 8.25% per line = 0.74.
MUGS = RefundableLine("li_mug", 3, D("8.99"), D("0.74"), label="Mug")


@pytest.mark.parametrize(
    ("k", "net", "tax"),
    [
        (1, D("3.00"), D("0.25")),  # 2.996666 -> 3.00, 0.246666 -> 0.25
        (2, D("5.99"), D("0.49")),  # 5.993333 -> 5.99, 0.493333 -> 0.49
        (3, D("8.99"), D("0.74")),  # everything
    ],
)
def test_partial_refund_is_proportional_to_the_cent(k: int, net: D, tax: D) -> None:
    refund = refund_line(MUGS, k, "USD")
    assert (refund.quantity, refund.net, refund.tax) == (k, net, tax)
    assert refund.total == net + tax


def test_last_units_refund_exactly_what_remains() -> None:
    line = MUGS
    parts = []
    for _ in range(3):
        part = refund_line(line, 1, "USD")
        parts.append((part.net, part.tax))
        line = apply_line_refund(line, part)
    # 3.00 + 3.00 + 2.99 = 8.99 and 0.25 + 0.25 + 0.24 = 0.74
    assert parts == [(D("3.00"), D("0.25")), (D("3.00"), D("0.25")), (D("2.99"), D("0.24"))]
    assert line.remaining_quantity == 0


def test_rounding_ups_never_overrun_the_line() -> None:
    # 0.04 over 6 units rounds each unit up to 0.01; the sixth unit would go negative.
    line = RefundableLine("li", 6, D("0.04"), D("0.00"))
    nets = []
    for _ in range(6):
        part = refund_line(line, 1, "USD")
        nets.append(part.net)
        line = apply_line_refund(line, part)
    assert sum(nets) == D("0.04") and min(nets) >= 0


def test_yen_lines_round_to_whole_yen() -> None:
    line = RefundableLine("li", 3, D("1000"), D("100"))
    refund = refund_line(line, 1, "JPY")
    assert (refund.net, refund.tax) == (D("333"), D("33"))


def test_quantity_beyond_what_remains_names_the_line_and_numbers() -> None:
    line = RefundableLine("li_9", 5, D("50"), D("5"), refunded_quantity=3, label="Tea")
    with pytest.raises(RefundQuantityExceeded) as err:
        refund_line(line, 3, "USD")
    assert err.value.message == (
        "cannot refund 3 of line Tea (li_9): 5 sold, 3 already refunded, 2 remain"
    )


@pytest.mark.parametrize("k", [0, -1, True])
def test_quantity_must_be_a_positive_whole_number(k: int) -> None:
    with pytest.raises(InvalidRefund, match="positive whole number"):
        refund_line(MUGS, k, "USD")


def test_refund_by_item_across_lines() -> None:
    lines = [MUGS, RefundableLine("li_tee", 2, D("40.00"), D("3.30"), label="T-shirt")]
    plan = plan_item_refund(lines, {"li_tee": 1, "li_mug": 2}, D("52.03"), D("0"), "usd")
    assert [(r.order_item_id, r.quantity) for r in plan.lines] == [("li_mug", 2), ("li_tee", 1)]
    assert (plan.net, plan.tax, plan.amount, plan.currency) == (
        D("25.99"),
        D("2.14"),
        D("28.13"),
        "USD",
    )


def test_item_refund_cannot_exceed_captured() -> None:
    with pytest.raises(RefundExceedsCaptured) as err:
        plan_item_refund([MUGS], {"li_mug": 3}, D("9.73"), D("5.00"), "USD")
    assert err.value.message == (
        "refund of 9.73 USD exceeds the 4.73 USD still refundable "
        "(captured 9.73, already refunded 5.00)"
    )


def test_unknown_and_empty_item_refunds() -> None:
    with pytest.raises(UnknownOrderLine, match="li_x"):
        plan_item_refund([MUGS], {"li_x": 1}, D("10"), D("0"), "USD")
    with pytest.raises(InvalidRefund, match="at least one line"):
        plan_item_refund([MUGS], {}, D("10"), D("0"), "USD")


def test_refund_by_amount() -> None:
    plan = plan_amount_refund(D("5.00"), D("20.00"), D("10.00"), "USD")
    assert (plan.lines, plan.amount, plan.net, plan.tax) == ((), D("5.00"), D("5.00"), D("0"))
    with pytest.raises(RefundExceedsCaptured, match="10.00 USD still refundable"):
        plan_amount_refund(D("10.01"), D("20.00"), D("10.00"), "USD")
    with pytest.raises(InvalidRefund, match="more decimals"):
        plan_amount_refund(D("1.005"), D("20.00"), D("0"), "USD")
    with pytest.raises(InvalidRefund, match="positive"):
        check_refund_amount(D("0"), D("20"), D("0"), "USD")


def test_in_flight_refunds_count_against_captured() -> None:
    refunds = [
        RefundFact(D("10"), R.COMPLETED),
        RefundFact(D("5"), R.PENDING),
        RefundFact(D("2"), R.PROCESSING),
        RefundFact(D("50"), R.FAILED),
        RefundFact(D("50"), R.REJECTED),
    ]
    assert committed_refund_total(refunds) == D("17")
    assert refundable_amount(D("20"), D("17"), "USD") == D("3.00")
    assert refundable_amount(D("20"), D("25"), "USD") == D("0.00")


# ---- properties -----------------------------------------------------------------------

cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c).scaleb(-2))


@st.composite
def line_and_splits(draw: st.DrawFn) -> tuple[RefundableLine, list[int]]:
    quantity = draw(st.integers(min_value=1, max_value=40))
    splits: list[int] = []
    left = quantity
    while left:
        k = draw(st.integers(min_value=1, max_value=left))
        splits.append(k)
        left -= k
    return RefundableLine("li", quantity, draw(cents), draw(cents)), splits


@settings(max_examples=300, deadline=None)
@given(line_and_splits())
def test_repeated_partial_refunds_sum_exactly_to_the_line(
    case: tuple[RefundableLine, list[int]],
) -> None:
    line, splits = case
    original = line
    total_net = total_tax = D(0)
    for k in splits:
        part = refund_line(line, k, "USD")
        assert part.net >= 0 and part.tax >= 0
        assert part.net == part.net.quantize(D("0.01")) and part.tax == part.tax.quantize(D("0.01"))
        total_net += part.net
        total_tax += part.tax
        line = apply_line_refund(line, part)
    assert (total_net, total_tax) == (original.net, original.tax)
    with pytest.raises(RefundQuantityExceeded):
        refund_line(line, 1, "USD")


@settings(max_examples=300, deadline=None)
@given(captured=cents, requests=st.lists(cents, max_size=12))
def test_refunds_never_exceed_captured(captured: D, requests: list[D]) -> None:
    refunded = D(0)
    for amount in requests:
        try:
            plan = plan_amount_refund(amount, captured, refunded, "USD")
        except (RefundExceedsCaptured, InvalidRefund):
            assert amount <= 0 or refunded + amount > captured
            continue
        refunded += plan.amount
        assert refunded <= captured

"""The shared tender rule: split payments, cash rounding and change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.tenders import InvalidTender, Tender, settle

CASH, CARD = PaymentMethod.CASH, PaymentMethod.CARD_PRESENT
D = Decimal


def test_cash_is_rounded_to_the_smallest_coin_and_the_change_is_what_is_left() -> None:
    done = settle(D("12.93"), [Tender(CASH, D("20.00"))], currency="CHF",
                  cash_increment=D("0.05"))
    assert done.rounding_adjustment == D("0.02") and done.total == D("12.95")
    assert done.change == D("7.05")
    (paid,) = done.payments
    assert paid.amount == D("12.95") and paid.tendered == D("20.00") and paid.change == D("7.05")


def test_a_split_rounds_only_the_cash_part_and_the_card_pays_exact() -> None:
    done = settle(D("30.02"), [Tender(CARD, D("10.00"), "AUTH1"), Tender(CASH, D("25.00"))],
                  currency="CHF", cash_increment=D("0.05"))
    card, cash = done.payments
    assert card.method is CARD and card.amount == D("10.00") and card.change is None
    assert cash.amount == D("20.00") and done.rounding_adjustment == D("-0.02")
    assert done.change == D("5.00") and done.total == D("30.00")


@pytest.mark.parametrize(("tenders", "message", "field"), [
    ([], "Take a payment first", "tenders"),
    ([Tender(CASH, D("-1"))], "positive amount", "tenders"),
    ([Tender(CASH, D("1.001"))], "more decimals than USD allows", "tenders"),
    ([Tender(CARD, D("5.00"))], "card terminal's reference", "reference"),
    ([Tender(CARD, D("11.00"), "R")], "cannot exceed the total ($10.00)", "tenders"),
    ([Tender(CARD, D("4.00"), "R")], "$6.00 is still due.", "tenders"),
    ([Tender(CARD, D("4.00"), "R"), Tender(CASH, D("5.00"))], "$1.00 is still due in cash",
     "tenders"),
])
def test_tenders_that_do_not_settle_say_why(tenders: list[Tender], message: str,
                                            field: str) -> None:
    with pytest.raises(InvalidTender, match=message.replace("$", r"\$").replace("(", r"\(")
                       .replace(")", r"\)")) as caught:
        settle(D("10.00"), tenders, currency="USD")
    assert caught.value.field == field

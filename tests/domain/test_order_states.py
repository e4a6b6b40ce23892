"""Order, payment and fulfilment transitions; derived statuses; auto-cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import FulfillmentStatus as F
from stormcom_pos.domain.enums import OrderStatus as O
from stormcom_pos.domain.enums import PaymentStatus as P
from stormcom_pos.domain.enums import PaymentTransactionStatus as T
from stormcom_pos.domain.enums import RefundStatus as R
from stormcom_pos.domain.enums import ShipmentStatus as S
from stormcom_pos.domain.order_states import (
    ORDER_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    FulfillmentLine,
    IllegalTransition,
    InvalidOrderSetting,
    PaymentFact,
    RefundFact,
    ShipmentFact,
    auto_cancel_at,
    can_auto_cancel,
    check_fulfillment_transition,
    check_order_transition,
    check_payment_transition,
    derive_fulfillment_status,
    derive_payment_status,
    reinstate_canceled_order,
)

D = Decimal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (O.PENDING, O.CONFIRMED),
        (O.PENDING, O.CANCELED),
        (O.CONFIRMED, O.PROCESSING),
        (O.CONFIRMED, O.DELIVERED),  # POS sale handed over at the till
        (O.PROCESSING, O.SHIPPED),
        (O.SHIPPED, O.DELIVERED),
        (O.DELIVERED, O.REFUNDED),
        (O.DELIVERED, O.DELIVERED),  # idempotent replay
    ],
)
def test_legal_order_moves(a: O, b: O) -> None:
    check_order_transition(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (O.DELIVERED, O.PENDING),
        (O.CANCELED, O.SHIPPED),
        (O.SHIPPED, O.CANCELED),
        (O.REFUNDED, O.CONFIRMED),
        (O.PENDING, O.SHIPPED),
    ],
)
def test_illegal_order_moves_name_both_states(a: O, b: O) -> None:
    with pytest.raises(IllegalTransition, match=f"cannot move order from {a} to {b}") as err:
        check_order_transition(a, b)
    assert err.value.code == "illegal_transition"


def test_final_states_say_so() -> None:
    with pytest.raises(IllegalTransition, match=r"nothing \(it is final\)"):
        check_order_transition(O.CANCELED, O.CONFIRMED)


def test_every_state_has_a_row() -> None:
    assert set(ORDER_TRANSITIONS) == set(O)
    assert set(PAYMENT_TRANSITIONS) == set(P)


def test_payment_and_fulfilment_moves() -> None:
    check_payment_transition(P.PENDING, P.PAID)
    check_payment_transition(P.FAILED, P.PAID)  # late webhook
    check_payment_transition(P.PAID, P.PARTIALLY_REFUNDED)
    with pytest.raises(IllegalTransition, match="cannot move payment from REFUNDED to PAID"):
        check_payment_transition(P.REFUNDED, P.PAID)
    check_fulfillment_transition(F.UNFULFILLED, F.SHIPPED)
    with pytest.raises(IllegalTransition, match="from DELIVERED to SHIPPED"):
        check_fulfillment_transition(F.DELIVERED, F.SHIPPED)


def test_late_payment_reinstates_a_canceled_order() -> None:
    assert reinstate_canceled_order(O.CANCELED, P.PAID) is O.CONFIRMED
    with pytest.raises(IllegalTransition, match="payment is PENDING"):
        reinstate_canceled_order(O.CANCELED, P.PENDING)
    with pytest.raises(IllegalTransition, match="not CANCELED"):
        reinstate_canceled_order(O.PENDING, P.PAID)


def pay(amount: str, status: T = T.CAPTURED) -> PaymentFact:
    return PaymentFact(D(amount), status)


def ref(amount: str, status: R = R.COMPLETED) -> RefundFact:
    return RefundFact(D(amount), status)


@pytest.mark.parametrize(
    ("total", "payments", "refunds", "expected"),
    [
        ("100", [], [], P.PENDING),
        ("100", [pay("100", T.PENDING)], [], P.PENDING),
        ("100", [pay("100", T.AUTHORIZED)], [], P.AUTHORIZED),
        ("100", [pay("100", T.FAILED)], [], P.FAILED),
        ("100", [pay("100", T.FAILED), pay("100", T.PENDING)], [], P.PENDING),
        ("100", [pay("100", T.FAILED), pay("100", T.CANCELED)], [], P.FAILED),
        ("100", [pay("40")], [], P.PARTIALLY_PAID),
        ("100", [pay("40"), pay("60")], [], P.PAID),  # split tender
        ("100", [pay("40"), pay("60", T.FAILED)], [], P.PARTIALLY_PAID),
        ("100", [pay("100")], [ref("30")], P.PARTIALLY_REFUNDED),
        ("100", [pay("100")], [ref("30"), ref("70")], P.REFUNDED),
        ("100", [pay("100")], [ref("30", R.PENDING)], P.PAID),  # not yet completed
        ("100", [pay("100")], [ref("100", R.REJECTED)], P.PAID),
        ("100", [pay("100", T.REFUNDED)], [ref("100")], P.REFUNDED),
        ("0", [], [], P.PAID),  # fully discounted
    ],
)
def test_derive_payment_status(
    total: str, payments: list[PaymentFact], refunds: list[RefundFact], expected: P
) -> None:
    assert derive_payment_status(D(total), payments, refunds) is expected


T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("order", "payment", "minutes_later", "timeout", "expected"),
    [
        (O.PENDING, P.PENDING, 59, 60, False),
        (O.PENDING, P.PENDING, 60, 60, True),
        (O.PENDING, P.FAILED, 61, 60, True),
        (O.PENDING, P.PAID, 600, 60, False),  # paid orders are never canceled
        (O.PENDING, P.PARTIALLY_PAID, 600, 60, False),
        (O.PENDING, P.AUTHORIZED, 600, 60, False),  # money is held
        (O.CONFIRMED, P.PENDING, 600, 60, False),
        (O.PENDING, P.PENDING, 100, 120, False),  # store setting
    ],
)
def test_can_auto_cancel(
    order: O, payment: P, minutes_later: int, timeout: int, expected: bool
) -> None:
    now = T0 + timedelta(minutes=minutes_later)
    assert can_auto_cancel(order, payment, T0, now, timeout) is expected


def test_auto_cancel_timeout_must_be_positive() -> None:
    assert auto_cancel_at(T0) == T0 + timedelta(hours=1)
    with pytest.raises(InvalidOrderSetting):
        auto_cancel_at(T0, 0)


def line(
    item: str, qty: int, fulfilled: int = 0, shipped: int = 0, refunded: int = 0
) -> FulfillmentLine:
    return FulfillmentLine(item, qty, fulfilled, shipped, refunded)


@pytest.mark.parametrize(
    ("lines", "shipments", "expected"),
    [
        ([line("a", 2), line("b", 1)], [], F.UNFULFILLED),
        ([line("a", 2, fulfilled=1), line("b", 1)], [], F.PARTIALLY_FULFILLED),
        ([line("a", 2, fulfilled=2), line("b", 1, fulfilled=1)], [], F.FULFILLED),
        ([line("a", 2, shipped=2), line("b", 1)], [], F.PARTIALLY_SHIPPED),
        ([line("a", 2), line("b", 1)], [ShipmentFact(S.PENDING, (("a", 2), ("b", 1)))],
         F.FULFILLED),
        ([line("a", 2), line("b", 1)], [ShipmentFact(S.IN_TRANSIT, (("a", 1),))],
         F.PARTIALLY_SHIPPED),
        ([line("a", 2), line("b", 1)],
         [ShipmentFact(S.IN_TRANSIT, (("a", 2),)), ShipmentFact(S.PICKED_UP, (("b", 1),))],
         F.SHIPPED),
        ([line("a", 2), line("b", 1)],
         [ShipmentFact(S.DELIVERED, (("a", 2),)), ShipmentFact(S.IN_TRANSIT, (("b", 1),))],
         F.SHIPPED),
        ([line("a", 2), line("b", 1)], [ShipmentFact(S.DELIVERED, (("a", 2), ("b", 1)))],
         F.DELIVERED),
        ([line("a", 2), line("b", 1)], [ShipmentFact(S.RETURNED, (("a", 2), ("b", 1)))],
         F.UNFULFILLED),
        # One of b's units was refunded before shipping, so shipping a x2 and b x0 is complete.
        ([line("a", 2), line("b", 1, refunded=1)], [ShipmentFact(S.IN_TRANSIT, (("a", 2),))],
         F.SHIPPED),
        # Counters and shipments describe the same parcel: no double counting.
        ([line("a", 2, shipped=1)], [ShipmentFact(S.IN_TRANSIT, (("a", 1),))],
         F.PARTIALLY_SHIPPED),
        ([line("a", 1, refunded=1)], [], F.UNFULFILLED),
    ],
)  # fmt: skip
def test_derive_fulfillment_status(
    lines: list[FulfillmentLine], shipments: list[ShipmentFact], expected: F
) -> None:
    assert derive_fulfillment_status(lines, shipments) is expected

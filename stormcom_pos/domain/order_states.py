"""Order, payment and fulfilment state machines, and the statuses derived from facts.

Moving to the state an order is already in is accepted as a no-op, so replayed webhooks and
sync pushes are idempotent. Payment and fulfilment statuses should normally be *derived*
(:func:`derive_payment_status`, :func:`derive_fulfillment_status`) rather than set by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from stormcom_pos.domain.enums import (
    FulfillmentStatus,
    OrderStatus,
    PaymentStatus,
    PaymentTransactionStatus,
    RefundStatus,
    ShipmentStatus,
)
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO

__all__ = [
    "FULFILLMENT_TRANSITIONS",
    "ORDER_TRANSITIONS",
    "PAYMENT_TRANSITIONS",
    "FulfillmentLine",
    "IllegalTransition",
    "InvalidOrderSetting",
    "PaymentFact",
    "RefundFact",
    "ShipmentFact",
    "auto_cancel_at",
    "can_auto_cancel",
    "check_fulfillment_transition",
    "check_order_transition",
    "check_payment_transition",
    "derive_fulfillment_status",
    "derive_payment_status",
    "reinstate_canceled_order",
]

_O = OrderStatus
_P = PaymentStatus
_F = FulfillmentStatus

ORDER_TRANSITIONS: Mapping[OrderStatus, frozenset[OrderStatus]] = {
    _O.PENDING: frozenset({_O.CONFIRMED, _O.CANCELED}),
    # POS sales and in-store pickups go straight from CONFIRMED to DELIVERED.
    _O.CONFIRMED: frozenset({_O.PROCESSING, _O.SHIPPED, _O.DELIVERED, _O.CANCELED, _O.REFUNDED}),
    _O.PROCESSING: frozenset({_O.SHIPPED, _O.DELIVERED, _O.CANCELED, _O.REFUNDED}),
    # Once goods have left, cancelling is no longer possible; only a refund unwinds it.
    _O.SHIPPED: frozenset({_O.DELIVERED, _O.REFUNDED}),
    _O.DELIVERED: frozenset({_O.REFUNDED}),
    _O.CANCELED: frozenset(),
    _O.REFUNDED: frozenset(),
}

PAYMENT_TRANSITIONS: Mapping[PaymentStatus, frozenset[PaymentStatus]] = {
    _P.PENDING: frozenset({_P.AUTHORIZED, _P.PARTIALLY_PAID, _P.PAID, _P.FAILED}),
    _P.AUTHORIZED: frozenset({_P.PARTIALLY_PAID, _P.PAID, _P.FAILED}),
    _P.PARTIALLY_PAID: frozenset({_P.PAID, _P.PARTIALLY_REFUNDED, _P.REFUNDED}),
    _P.PAID: frozenset({_P.PARTIALLY_REFUNDED, _P.REFUNDED}),
    _P.PARTIALLY_REFUNDED: frozenset({_P.REFUNDED}),
    _P.REFUNDED: frozenset(),
    # A failed attempt can be retried, and a late gateway webhook can still report success.
    _P.FAILED: frozenset({_P.PENDING, _P.AUTHORIZED, _P.PARTIALLY_PAID, _P.PAID}),
}

_FULFILLMENT_ORDER = (
    _F.UNFULFILLED,
    _F.PARTIALLY_FULFILLED,
    _F.FULFILLED,
    _F.PARTIALLY_SHIPPED,
    _F.SHIPPED,
    _F.DELIVERED,
)

# Fulfilment only moves forward; a returned parcel is handled as a refund, not a rewind.
FULFILLMENT_TRANSITIONS: Mapping[FulfillmentStatus, frozenset[FulfillmentStatus]] = {
    status: frozenset(_FULFILLMENT_ORDER[i + 1 :]) for i, status in enumerate(_FULFILLMENT_ORDER)
}


class IllegalTransition(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "illegal_transition"


class InvalidOrderSetting(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_order_setting"


_S = TypeVar("_S", bound=StrEnum)


def _check(kind: str, table: Mapping[_S, frozenset[_S]], current: _S, target: _S) -> None:
    if current == target or target in table[current]:
        return
    allowed = ", ".join(sorted(table[current])) or "nothing (it is final)"
    raise IllegalTransition(
        f"cannot move {kind} from {current} to {target}; from {current} it can move to {allowed}"
    )


def check_order_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise :class:`IllegalTransition` unless the order may move from current to target."""
    _check("order", ORDER_TRANSITIONS, current, target)


def check_payment_transition(current: PaymentStatus, target: PaymentStatus) -> None:
    """Raise :class:`IllegalTransition` unless the payment status may move to target."""
    _check("payment", PAYMENT_TRANSITIONS, current, target)


def check_fulfillment_transition(current: FulfillmentStatus, target: FulfillmentStatus) -> None:
    """Raise :class:`IllegalTransition` unless fulfilment may move forward to target."""
    _check("fulfillment", FULFILLMENT_TRANSITIONS, current, target)


def reinstate_canceled_order(current: OrderStatus, payment_status: PaymentStatus) -> OrderStatus:
    """CHK058: a payment that lands after auto-cancel brings the order back as CONFIRMED."""
    if current is not OrderStatus.CANCELED:
        raise IllegalTransition(f"cannot reinstate an order that is {current}, not CANCELED")
    if payment_status not in (PaymentStatus.PAID, PaymentStatus.AUTHORIZED):
        raise IllegalTransition(
            f"cannot reinstate a canceled order whose payment is {payment_status}"
        )
    return OrderStatus.CONFIRMED


# ---- payment status -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """One payment transaction as it stands."""

    amount: Decimal
    status: PaymentTransactionStatus


@dataclass(frozen=True, slots=True)
class RefundFact:
    """One refund as it stands."""

    amount: Decimal
    status: RefundStatus


# REFUNDED / PARTIALLY_REFUNDED payments were captured first; their refunds are counted apart.
_CAPTURED = frozenset(
    {
        PaymentTransactionStatus.CAPTURED,
        PaymentTransactionStatus.REFUNDED,
        PaymentTransactionStatus.PARTIALLY_REFUNDED,
    }
)


def derive_payment_status(
    order_total: Decimal, payments: Iterable[PaymentFact], refunds: Iterable[RefundFact] = ()
) -> PaymentStatus:
    """The order's payment status from its payments and completed refunds."""
    payments = tuple(payments)
    captured = sum((p.amount for p in payments if p.status in _CAPTURED), ZERO)
    authorized = sum(
        (p.amount for p in payments if p.status is PaymentTransactionStatus.AUTHORIZED), ZERO
    )
    refunded = sum((r.amount for r in refunds if r.status is RefundStatus.COMPLETED), ZERO)
    if captured > ZERO:
        if refunded >= captured:
            return PaymentStatus.REFUNDED
        if refunded > ZERO:
            return PaymentStatus.PARTIALLY_REFUNDED
        return PaymentStatus.PAID if captured >= order_total else PaymentStatus.PARTIALLY_PAID
    if order_total <= ZERO:
        return PaymentStatus.PAID  # a fully discounted order owes nothing
    if authorized > ZERO:
        return PaymentStatus.AUTHORIZED
    live = [p for p in payments if p.status is not PaymentTransactionStatus.CANCELED]
    if live and all(p.status is PaymentTransactionStatus.FAILED for p in live):
        return PaymentStatus.FAILED
    return PaymentStatus.PENDING


# ---- auto-cancel ------------------------------------------------------------------------


def auto_cancel_at(created_at: datetime, timeout_minutes: int = 60) -> datetime:
    """When an unpaid online order becomes eligible for auto-cancel (Order.autoCancelAt)."""
    if timeout_minutes <= 0:
        raise InvalidOrderSetting(
            f"auto-cancel timeout must be a positive number of minutes, got {timeout_minutes}"
        )
    return created_at + timedelta(minutes=timeout_minutes)


def can_auto_cancel(
    order_status: OrderStatus,
    payment_status: PaymentStatus,
    created_at: datetime,
    now: datetime,
    timeout_minutes: int = 60,
) -> bool:
    """True for a still-PENDING order with no money taken or held, once the timeout has passed."""
    if order_status is not OrderStatus.PENDING:
        return False
    # AUTHORIZED holds the customer's money (capture-at-shipment), so it counts as paid here.
    if payment_status not in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        return False
    return now >= auto_cancel_at(created_at, timeout_minutes)


# ---- fulfilment status ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FulfillmentLine:
    """One order line's quantities (OrderItem.quantity*)."""

    order_item_id: str
    quantity: int
    quantity_fulfilled: int = 0
    quantity_shipped: int = 0
    quantity_refunded: int = 0


@dataclass(frozen=True, slots=True)
class ShipmentFact:
    """One shipment: its carrier status and ``(order_item_id, quantity)`` items."""

    status: ShipmentStatus
    items: tuple[tuple[str, int], ...]


_IN_CARRIER_HANDS = frozenset(
    {
        ShipmentStatus.PICKED_UP,
        ShipmentStatus.IN_TRANSIT,
        ShipmentStatus.OUT_FOR_DELIVERY,
        ShipmentStatus.DELIVERED,
    }
)


def derive_fulfillment_status(
    lines: Iterable[FulfillmentLine], shipments: Iterable[ShipmentFact] = ()
) -> FulfillmentStatus:
    """The order's fulfilment status from line quantities and shipments.

    A PENDING shipment counts as packed (fulfilled), PICKED_UP to DELIVERED as shipped, and
    FAILED or RETURNED shipments count for nothing. Units refunded before they left need not
    ship. A line's own counters and its shipments describe the same goods, so the larger wins.
    """
    packed: dict[str, int] = {}
    shipped: dict[str, int] = {}
    delivered: dict[str, int] = {}
    for shipment in shipments:
        for item_id, qty in shipment.items:
            if shipment.status is ShipmentStatus.PENDING:
                packed[item_id] = packed.get(item_id, 0) + qty
            elif shipment.status in _IN_CARRIER_HANDS:
                shipped[item_id] = shipped.get(item_id, 0) + qty
                if shipment.status is ShipmentStatus.DELIVERED:
                    delivered[item_id] = delivered.get(item_id, 0) + qty

    rows: list[tuple[int, int, int, int]] = []  # required, fulfilled, shipped, delivered
    for line in lines:
        required = max(line.quantity - line.quantity_refunded, 0)
        n_shipped = max(line.quantity_shipped, shipped.get(line.order_item_id, 0))
        n_fulfilled = max(line.quantity_fulfilled, n_shipped + packed.get(line.order_item_id, 0))
        rows.append((required, n_fulfilled, n_shipped, delivered.get(line.order_item_id, 0)))

    needed = [r for r in rows if r[0] > 0]
    if not needed:
        return FulfillmentStatus.UNFULFILLED
    if all(d >= req for req, _, _, d in needed):
        return FulfillmentStatus.DELIVERED
    if all(s >= req for req, _, s, _ in needed):
        return FulfillmentStatus.SHIPPED
    if any(s > 0 for _, _, s, _ in rows):
        return FulfillmentStatus.PARTIALLY_SHIPPED
    if all(f >= req for req, f, _, _ in needed):
        return FulfillmentStatus.FULFILLED
    if any(f > 0 for _, f, _, _ in rows):
        return FulfillmentStatus.PARTIALLY_FULFILLED
    return FulfillmentStatus.UNFULFILLED

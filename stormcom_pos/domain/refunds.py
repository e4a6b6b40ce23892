"""Refund arithmetic: by item or by amount, never more than was captured or sold.

Product-decisions §3a item 12: refunding k of n units refunds round(k/n x line net) and
round(k/n x line tax), both from the original line, and refunding the last remaining units
refunds exactly what remains, so a line refunded in pieces adds up to the cent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from stormcom_pos.domain.enums import RefundStatus
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, round_money
from stormcom_pos.domain.order_states import RefundFact

__all__ = [
    "InvalidRefund",
    "LineRefund",
    "RefundExceedsCaptured",
    "RefundPlan",
    "RefundQuantityExceeded",
    "RefundableLine",
    "UnknownOrderLine",
    "apply_line_refund",
    "check_refund_amount",
    "committed_refund_total",
    "plan_amount_refund",
    "plan_item_refund",
    "refund_line",
    "refundable_amount",
]


class InvalidRefund(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_refund"


class RefundExceedsCaptured(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "refund_exceeds_captured"


class RefundQuantityExceeded(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "refund_quantity_exceeded"


class UnknownOrderLine(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "unknown_order_line"


@dataclass(frozen=True, slots=True)
class RefundableLine:
    """An order line as sold (rounded net after discounts, rounded tax) and refunded so far."""

    order_item_id: str
    quantity: int
    net: Decimal
    tax: Decimal
    refunded_quantity: int = 0
    refunded_net: Decimal = ZERO
    refunded_tax: Decimal = ZERO
    label: str = ""

    @property
    def name(self) -> str:
        """How error messages refer to the line."""
        return f"{self.label} ({self.order_item_id})" if self.label else self.order_item_id

    @property
    def remaining_quantity(self) -> int:
        """Units sold and not yet refunded."""
        return self.quantity - self.refunded_quantity


@dataclass(frozen=True, slots=True)
class LineRefund:
    """What one line gives back: units to restock and money."""

    order_item_id: str
    quantity: int
    net: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        """Net plus tax."""
        return self.net + self.tax


@dataclass(frozen=True, slots=True)
class RefundPlan:
    """A checked refund: its lines (empty for a refund by amount) and the money."""

    currency: str
    lines: tuple[LineRefund, ...]
    net: Decimal
    tax: Decimal
    amount: Decimal


def _check_quantity(line: RefundableLine, quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise InvalidRefund(
            f"refund quantity for line {line.name} must be a positive whole number, "
            f"got {quantity!r}"
        )
    if line.quantity <= 0 or not 0 <= line.refunded_quantity <= line.quantity:
        raise InvalidRefund(
            f"line {line.name} has inconsistent quantities: {line.quantity} sold, "
            f"{line.refunded_quantity} refunded"
        )
    if quantity > line.remaining_quantity:
        raise RefundQuantityExceeded(
            f"cannot refund {quantity} of line {line.name}: {line.quantity} sold, "
            f"{line.refunded_quantity} already refunded, {line.remaining_quantity} remain"
        )


def refund_line(line: RefundableLine, quantity: int, currency: str) -> LineRefund:
    """The net and tax refunded for ``quantity`` units of a line (§3a item 12)."""
    _check_quantity(line, quantity)
    remaining_net = line.net - line.refunded_net
    remaining_tax = line.tax - line.refunded_tax
    if quantity == line.remaining_quantity:
        return LineRefund(line.order_item_id, quantity, remaining_net, remaining_tax)
    net = round_money(line.net * quantity / line.quantity, currency)
    tax = round_money(line.tax * quantity / line.quantity, currency)
    # Several half-cent round-ups (e.g. 0.04 over 6 units) could otherwise overrun the line
    # before its last unit; capping keeps every later refund non-negative.
    return LineRefund(
        line.order_item_id, quantity, min(net, remaining_net), min(tax, remaining_tax)
    )


def apply_line_refund(line: RefundableLine, refund: LineRefund) -> RefundableLine:
    """The line as it stands after a refund was recorded against it."""
    if refund.order_item_id != line.order_item_id:
        raise InvalidRefund(
            f"refund for line {refund.order_item_id} cannot be applied to line {line.name}"
        )
    return replace(
        line,
        refunded_quantity=line.refunded_quantity + refund.quantity,
        refunded_net=line.refunded_net + refund.net,
        refunded_tax=line.refunded_tax + refund.tax,
    )


_COMMITTED = frozenset({RefundStatus.PENDING, RefundStatus.PROCESSING, RefundStatus.COMPLETED})


def committed_refund_total(refunds: Iterable[RefundFact]) -> Decimal:
    """Refunds that count against the captured amount: completed and still in flight."""
    # In-flight refunds are counted so two concurrent refunds cannot both pass the check.
    return sum((r.amount for r in refunds if r.status in _COMMITTED), ZERO)


def refundable_amount(captured: Decimal, already_refunded: Decimal, currency: str) -> Decimal:
    """Captured minus already refunded, never below zero."""
    if captured < ZERO or already_refunded < ZERO:
        raise InvalidRefund(
            f"captured ({captured}) and refunded ({already_refunded}) amounts cannot be negative"
        )
    return round_money(max(captured - already_refunded, ZERO), currency)


def check_refund_amount(
    amount: Decimal, captured: Decimal, already_refunded: Decimal, currency: str
) -> None:
    """Raise unless ``amount`` is positive, in whole minor units and within what is refundable."""
    cur = currency.upper()
    if amount <= ZERO:
        raise InvalidRefund(f"refund amount must be positive, got {amount} {cur}")
    if round_money(amount, currency) != amount:
        raise InvalidRefund(f"refund amount {amount} has more decimals than {cur} allows")
    available = refundable_amount(captured, already_refunded, currency)
    if amount > available:
        raise RefundExceedsCaptured(
            f"refund of {amount} {cur} exceeds the {available} {cur} still refundable "
            f"(captured {captured}, already refunded {already_refunded})"
        )


def plan_item_refund(
    lines: Sequence[RefundableLine],
    quantities: Mapping[str, int],
    captured: Decimal,
    already_refunded: Decimal,
    currency: str,
) -> RefundPlan:
    """A refund of chosen units, keyed by order item id, checked against lines and payments."""
    if not quantities:
        raise InvalidRefund("an item refund needs at least one line and quantity")
    known = {line.order_item_id for line in lines}
    unknown = sorted(set(quantities) - known)
    if unknown:
        raise UnknownOrderLine(f"these lines are not on the order: {', '.join(unknown)}")
    refunds = tuple(
        refund_line(line, quantities[line.order_item_id], currency)
        for line in lines
        if line.order_item_id in quantities
    )
    net = sum((r.net for r in refunds), ZERO)
    tax = sum((r.tax for r in refunds), ZERO)
    amount = net + tax
    if amount > ZERO:
        check_refund_amount(amount, captured, already_refunded, currency)
    return RefundPlan(currency.upper(), refunds, net, tax, amount)


def plan_amount_refund(
    amount: Decimal, captured: Decimal, already_refunded: Decimal, currency: str
) -> RefundPlan:
    """A goodwill or adjustment refund of a plain amount: no units come back to stock."""
    check_refund_amount(amount, captured, already_refunded, currency)
    # Without lines there is no tax basis, so the whole amount is booked as net.
    return RefundPlan(currency.upper(), (), amount, ZERO, amount)

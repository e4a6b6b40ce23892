"""Settling a sale's tenders: split payments, cash rounding and change (product-decisions §3a.13).

Cash rounding applies to the part paid in cash only; card, store credit and gift card pay exact
amounts and never give change. Change is what the cash handed over exceeds the (rounded) cash
due, and each payment records what the store keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, cash_round, format_money, round_money


class InvalidTender(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "invalid_tender"

    def __init__(self, message: str, field: str = "tenders") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Tender:
    method: PaymentMethod
    amount: Decimal
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Kept:
    """One payment as recorded: what the store keeps, and for cash what was handed over."""

    method: PaymentMethod
    amount: Decimal
    reference: str | None = None
    tendered: Decimal | None = None
    change: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Settlement:
    payments: tuple[Kept, ...]
    rounding_adjustment: Decimal
    change: Decimal
    total: Decimal  # the sale's total after cash rounding


def cash_due(total: Decimal, non_cash: Decimal, increment: Decimal | None,
             currency: str) -> Decimal:
    """The cash left to pay after the other tenders, rounded to the smallest coin."""
    return cash_round(total - non_cash, increment, currency)


def _check(tenders: Sequence[Tender], currency: str) -> None:
    if not tenders:
        raise InvalidTender("Take a payment first.")
    for t in tenders:
        if not isinstance(t.amount, Decimal) or not t.amount.is_finite() or t.amount <= 0:
            raise InvalidTender("Every payment must be a positive amount.")
        if round_money(t.amount, currency) != t.amount:
            raise InvalidTender(f"{t.amount} has more decimals than {currency} allows.")
        if t.method is PaymentMethod.CARD_PRESENT and not (t.reference or "").strip():
            raise InvalidTender("Enter the card terminal's reference.", field="reference")


def settle(total: Decimal, tenders: Sequence[Tender], *, currency: str,
           cash_increment: Decimal | None = None, locale: str = "en_US") -> Settlement:
    """Check the tenders cover the sale and work out change, rounding and what each keeps."""
    _check(tenders, currency)
    cash = [t for t in tenders if t.method is PaymentMethod.CASH]
    others = [t for t in tenders if t.method is not PaymentMethod.CASH]
    non_cash = sum((t.amount for t in others), ZERO)
    if non_cash > total:
        raise InvalidTender("Card and other payments cannot exceed the total "
                            f"({format_money(total, currency, locale)}); give change only in "
                            "cash.")
    if not cash:
        if non_cash < total:
            raise InvalidTender(f"{format_money(total - non_cash, currency, locale)} is still "
                                "due.")
        adjustment, due = ZERO, ZERO
    else:
        due = cash_due(total, non_cash, cash_increment, currency)
        adjustment = due - (total - non_cash)
    handed = sum((t.amount for t in cash), ZERO)
    if handed < due:
        raise InvalidTender(f"{format_money(due - handed, currency, locale)} is still due in "
                            "cash.")
    payments = [Kept(t.method, t.amount, t.reference) for t in others]
    left = due
    for t in cash:
        kept = min(t.amount, left)
        left -= kept
        payments.append(Kept(PaymentMethod.CASH, kept, t.reference, tendered=t.amount,
                             change=t.amount - kept))
    return Settlement(tuple(payments), adjustment, handed - due, total + adjustment)

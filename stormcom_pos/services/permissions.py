"""The permission strings the till checks.

Copied from ``server/identity/permissions.py`` (``POS_BASIC`` and ``POS_APPROVALS``), which the
client may not import; ``tests/terminal/services/test_permissions.py`` fails if they drift.
"""

from __future__ import annotations

SELL = "pos.sell"
OPEN_DRAWER_SESSION = "pos.open_drawer_session"
REFUND_REQUEST = "pos.refund_request"

DISCOUNT_OVERRIDE = "pos.discount_override"
PRICE_OVERRIDE = "pos.price_override"
NO_SALE = "pos.no_sale"
REFUND = "pos.refund"
CASH_MOVEMENT = "pos.cash_movement"
CLOSE_TILL = "pos.close_till"
VOID = "pos.void"

POS_BASIC = (SELL, OPEN_DRAWER_SESSION, REFUND_REQUEST)
POS_APPROVALS = (
    DISCOUNT_OVERRIDE, PRICE_OVERRIDE, NO_SALE, REFUND, CASH_MOVEMENT, CLOSE_TILL, VOID,
)

# What each approval is for, in the words a cashier sees when it is asked for.
DESCRIPTIONS = {
    DISCOUNT_OVERRIDE: "a discount beyond your limit",
    PRICE_OVERRIDE: "a price override",
    NO_SALE: "opening the drawer without a sale",
    REFUND: "a refund",
    CASH_MOVEMENT: "a pay-out or drop",
    CLOSE_TILL: "closing the till",
    VOID: "voiding a line",
}

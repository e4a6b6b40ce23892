"""Errors the till's services raise. Every message is fit to show a cashier as it is."""

from __future__ import annotations


class ServiceError(Exception):
    """The root of every service error; ``message`` is what the cashier reads."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SetupError(ServiceError):
    """Pairing the till or its first sync failed."""


class LoginFailed(ServiceError):
    """Wrong PIN or password, or the staff member may not use this till."""


class NotAllowed(ServiceError):
    """The signed-in cashier lacks a permission and no approval can stand in for it."""

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"You are not allowed to do this ({permission}).")
        self.permission = permission


class ApprovalRequired(ServiceError):
    """The action needs a manager's approval for ``permission``; ask for it in place."""

    def __init__(self, permission: str, reason_needed: bool, message: str) -> None:
        super().__init__(message)
        self.permission = permission
        self.reason_needed = reason_needed


class ApprovalRefused(ServiceError):
    """The approver's PIN was wrong, they lack the permission, or they are locked out."""


class NoOpenDrawer(ServiceError):
    """Selling and cash moves need an open drawer session."""

    def __init__(self, message: str = "Open the drawer first: no drawer session is open.") -> None:
        super().__init__(message)


class DrawerAlreadyOpen(ServiceError):
    """A drawer session is already open on this till."""


class UnknownBarcode(ServiceError):
    """A scanned code matches no product (``code`` is what was scanned)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or f"Unknown barcode {code}")
        self.code = code


class InvalidInput(ServiceError):
    """A value the cashier typed is not acceptable; ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class CouponRefused(ServiceError):
    """A coupon does not apply; the message says why."""


class RefundRefused(ServiceError):
    """A refund cannot be given as asked; the message says why."""

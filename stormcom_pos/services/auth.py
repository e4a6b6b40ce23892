"""Who is at the till: PIN sign-in (offline, against the cached PIN hash), password sign-in
(online), the idle lock, and a manager's approval on the spot.

PINs are checked the way the server checks them (bcrypt, ``server/identity/hashing.py``). Five
wrong PINs for one person within 15 minutes lock that person out of this till for 15 minutes,
as on the server, so a till cannot be used to guess a manager's PIN.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import bcrypt

from stormcom_pos.local_db import catalog_repo
from stormcom_pos.services import permissions
from stormcom_pos.services.errors import ApprovalRefused, ApprovalRequired, LoginFailed
from stormcom_pos.services.runtime import TillRuntime

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
APPROVAL_LIFETIME = timedelta(minutes=5)
PIN_FAILED = "Wrong PIN, or this person may not use the till. Try again."
REFUSED = "Approval refused: the approver or PIN is not right, or the approver is locked out."


@dataclass(frozen=True, slots=True)
class StaffChoice:
    user_id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class Cashier:
    user_id: str
    name: str
    role: str
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class Approval:
    approver_id: str
    approver_name: str
    permission: str
    reason: str
    at: datetime


def _pin_matches(pin: str, pin_hash: str | None) -> bool:
    if not pin_hash or not pin:
        return False
    try:
        return bcrypt.checkpw(pin.encode("utf-8"), pin_hash.encode("ascii"))
    except ValueError:
        return False


class AuthService:
    """Sign-in, lock and approvals for one till."""

    def __init__(
        self,
        runtime: TillRuntime,
        *,
        online_login: Callable[[str, str, str | None], Any] | None = None,
    ) -> None:
        self._runtime = runtime
        self._online_login = online_login
        self._current: Cashier | None = None
        self._locked = False
        self._failures: dict[str, list[datetime]] = {}
        self._locked_until: dict[str, datetime] = {}
        self._guard = threading.Lock()

    # ---- staff ---------------------------------------------------------------------------

    def _members(self) -> list[Any]:
        with self._runtime.db.read() as conn:
            return [m for m in catalog_repo.staff_members(conn) if m.active]

    def _member(self, user_id: str) -> Any | None:
        return next((m for m in self._members() if m.user_id == user_id), None)

    def staff(self) -> list[StaffChoice]:
        """Active staff who can sell at this till, by name."""
        members = [m for m in self._members() if permissions.SELL in m.permissions]
        return sorted(
            (StaffChoice(m.user_id, m.name or m.email, m.role) for m in members),
            key=lambda s: s.name.lower(),
        )

    def name_of(self, user_id: str | None) -> str:
        """A staff member's name for receipts and reports (the id if unknown)."""
        if not user_id:
            return ""
        member = self._member(user_id)
        return (member.name or member.email) if member else user_id

    # ---- lockout -------------------------------------------------------------------------

    def _is_locked_out(self, user_id: str, now: datetime) -> bool:
        until = self._locked_until.get(user_id)
        return until is not None and now < until

    def _fail(self, user_id: str, now: datetime) -> None:
        recent = [t for t in self._failures.get(user_id, []) if now - t < FAILURE_WINDOW]
        recent.append(now)
        self._failures[user_id] = recent
        if len(recent) >= MAX_FAILURES:
            self._locked_until[user_id] = now + LOCKOUT
            self._failures[user_id] = []

    def _check_pin(self, user_id: str, pin: str) -> Any | None:
        """The member if the PIN is theirs and they are not locked out; counts failures."""
        now = self._runtime.now()
        with self._guard:
            if self._is_locked_out(user_id, now):
                return None
        member = self._member(user_id)
        ok = member is not None and _pin_matches(pin, member.pos_pin_hash)
        with self._guard:
            if not ok:
                self._fail(user_id, now)
                return None
            self._failures.pop(user_id, None)
        return member

    # ---- sign-in -------------------------------------------------------------------------

    @property
    def current(self) -> Cashier | None:
        """The signed-in cashier (also while the till is locked)."""
        return self._current

    @property
    def locked(self) -> bool:
        return self._locked

    @property
    def idle_timeout_s(self) -> int:
        return self._runtime.config.idle_timeout_s

    def pin_login(self, user_id: str, pin: str) -> Cashier:
        """Sign in (or unlock, or switch cashier) with a PIN; works offline."""
        member = self._check_pin(user_id, pin)
        if member is None or permissions.SELL not in member.permissions:
            raise LoginFailed(PIN_FAILED)
        cashier = Cashier(member.user_id, member.name or member.email, member.role,
                          frozenset(member.permissions))
        self._current, self._locked = cashier, False
        return cashier

    def password_login(self, email: str, password: str, totp: str | None = None) -> Cashier:
        """Sign in with email, password and (if the account has one) TOTP; needs the server."""
        if self._online_login is None:
            raise LoginFailed("Password sign-in needs the server; use your PIN while offline.")
        try:
            self._online_login(email, password, totp)
        except Exception as exc:  # the sync client's errors carry a readable message
            raise LoginFailed(getattr(exc, "message", None) or str(exc)) from exc
        wanted = email.strip().lower()
        member = next((m for m in self._members() if (m.email or "").lower() == wanted), None)
        if member is None or permissions.SELL not in member.permissions:
            raise LoginFailed(f"{email} may not sell at this till (not staff of this store, "
                              "or the till has not synced them yet).")
        cashier = Cashier(member.user_id, member.name or member.email, member.role,
                          frozenset(member.permissions))
        self._current, self._locked = cashier, False
        return cashier

    def lock(self) -> None:
        """Lock the till (idle timeout or the cashier stepping away); a PIN unlocks it."""
        if self._current is not None:
            self._locked = True

    def logout(self) -> None:
        self._current, self._locked = None, False

    def can(self, permission: str) -> bool:
        return self._current is not None and not self._locked and self._current.can(permission)

    def require_cashier(self) -> Cashier:
        """The signed-in, unlocked cashier, or LoginFailed."""
        if self._current is None or self._locked:
            raise LoginFailed("Sign in first.")
        return self._current

    # ---- approvals -----------------------------------------------------------------------

    def approve(self, permission: str, approver_user_id: str, secret: str, reason: str) -> Approval:
        """A manager approves one action on the spot with their PIN (offline)."""
        cashier = self.require_cashier()
        if not reason.strip():
            raise ApprovalRefused("Give a reason for the approval.")
        member = self._check_pin(approver_user_id, secret)
        if member is None:
            raise ApprovalRefused(REFUSED)
        if member.user_id == cashier.user_id:
            raise ApprovalRefused("Another staff member must approve this.")
        if permission not in member.permissions:
            raise ApprovalRefused(
                f"{member.name or member.email} may not approve this: their role lacks "
                f"'{permission}'."
            )
        return Approval(member.user_id, member.name or member.email, permission, reason.strip(),
                        self._runtime.now())

    def authorize(self, permission: str, approval: Approval | None, *, what: str = "",
                  reason_needed: bool = True) -> str | None:
        """Check the cashier may do an action: None if they hold ``permission`` themselves, the
        approver's id if a fresh approval for it is given; else raise ApprovalRequired."""
        cashier = self.require_cashier()
        if cashier.can(permission):
            return None
        if (approval is not None and approval.permission == permission
                and self._runtime.now() - approval.at <= APPROVAL_LIFETIME):
            return approval.approver_id
        label = what or permissions.DESCRIPTIONS.get(permission, permission)
        raise ApprovalRequired(permission, reason_needed,
                               f"A manager must approve {label}.")

"""Manager approval at the till, POS PINs and PIN sign-in (issue 4 §5, product-decisions §3).

**Approval.** A cashier's action that needs a permission they lack (``pos.price_override``,
``pos.discount_override``, ``pos.refund``, ``pos.no_sale``, ... see
``permissions.POS_APPROVALS``) is approved on the spot by another active member of the store
whose role holds that permission, entering their POS PIN (4-8 digits) or their password.

- A grant writes an audit row (action ``approval.grant``; approver as actor; the permission,
  action, reason, requester and context in ``after_snapshot``). The row's id is the approval id.
- It returns a single-use approval token (``sap_...``, 5 minutes) that the requester attaches to
  the action; the action's service calls :func:`consume` with the permission it needs. The token
  is stored hashed in ``VerificationToken`` under ``approval:<approval id>``.
- A wrong PIN or password counts toward the approver's lockout exactly like a failed sign-in
  (5 in 15 minutes locks for 15 minutes), so a till cannot be used to guess a manager's PIN.
  :class:`ApprovalRefused` is raised *after* counting: the view returns it as a response
  instead of raising it, so the count and the audit row commit.

**PIN.** Staff set their own PIN with their password. Trivial PINs (one repeated digit, a run
such as 1234 or 9876) are refused. PIN sign-in works only from a paired terminal (the device's
token is the second factor) and only for staff of that terminal's store; it opens a staff
session that ends after :data:`PIN_SESSION_HOURS` at most.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from server.audit import service as audit_service
from server.audit.models import AuditLog
from server.clock import as_utc
from server.config import Settings
from server.db.base import new_id
from server.errors import Forbidden, Invalid, ServiceError
from server.identity import auth_service, sessions_service
from server.identity.hashing import hash_password, hash_token, new_token, verify_password
from server.identity.models import Role, User, UserStatus, UserStore, VerificationToken
from server.identity.models import Session as AuthSession
from server.identity.permissions import POS_APPROVALS
from server.identity.principal import Principal, RequestMeta

APPROVABLE = frozenset(POS_APPROVALS)
APPROVAL_LIFETIME = timedelta(minutes=5)
APPROVAL_PREFIX = "sap_"
IDENTIFIER_PREFIX = "approval:"
PIN_SESSION_HOURS = 12
PIN = re.compile(r"\d{4,8}")
REFUSED = "Approval refused: the approver, PIN or password is not right, or the approver is " \
          "locked out for a while."
PIN_LOGIN_FAILED = "PIN sign-in failed: check the name and PIN, or sign in with the password."


class ApprovalRefused(Forbidden):
    default_code = "approval_refused"
    default_title = "Approval refused"


class ApprovalInvalid(ServiceError):
    status = 403
    default_code = "approval_invalid"
    default_title = "Approval not valid"


def _register_failure(user: User, *, now: datetime, settings: Settings) -> bool:
    """Count a failed attempt exactly as a failed password sign-in does (shared lockout).
    Looked up at call time: auth_service may import this module."""
    return auth_service.register_failure(user, now=now, settings=settings)


@dataclass(frozen=True, slots=True)
class Approval:
    id: str
    token: str
    expires_at: datetime
    permission: str
    approver_id: str
    approver_name: str | None


@dataclass(frozen=True, slots=True)
class Grant:
    """A spent approval, for the approved action's own audit row."""

    id: str
    permission: str
    action: str
    approver_id: str
    requester_id: str | None
    reason: str
    context: dict[str, Any]


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and now < as_utc(user.locked_until)


def _check_secret(user: User, secret: str) -> bool:
    """A PIN if ``secret`` is 4-8 digits (passwords always have letters), else the password."""
    if PIN.fullmatch(secret or ""):
        return bool(user.pos_pin_hash) and verify_password(secret, user.pos_pin_hash or "")
    return verify_password(secret or "", user.password)


def _find_staff(session: Session, *, store_id: str, ref: str) -> tuple[User, Role] | None:
    ref = (ref or "").strip()
    row = session.execute(
        select(User, Role)
        .join(UserStore, UserStore.user_id == User.id)
        .join(Role, Role.id == UserStore.role_id)
        .where(or_(User.id == ref, User.email == ref.lower()), UserStore.store_id == store_id,
               UserStore.is_active.is_(True), User.deleted_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


# ---- approvals ------------------------------------------------------------------------------


def approve(
    session: Session, *, requester: Principal, store_id: str, permission: str, action: str,
    reason: str, approver_ref: str, secret: str, now: datetime, settings: Settings,
    dummy_hash: str, context: dict[str, Any] | None = None, meta: RequestMeta | None = None,
) -> Approval:
    """Grant ``permission`` for one ``action`` on the approver's PIN or password."""
    if permission not in APPROVABLE:
        raise Invalid(f"'{permission}' is not an action a manager approves at the till.",
                      code="permission_not_approvable")
    if not reason.strip():
        raise Invalid("Give a reason for the approval.", code="reason_required")
    found = _find_staff(session, store_id=store_id, ref=approver_ref)
    if found is None:
        verify_password(secret or "x", dummy_hash)  # same timing as a known approver
        raise ApprovalRefused(REFUSED)
    approver, role = found
    approver_actor = Principal(kind="user", user_id=approver.id, email=approver.email,
                               store_id=store_id, device_id=requester.device_id)
    details = {"permission": permission, "action": action, "reason": reason.strip(),
               "requester_id": requester.user_id, "requester": requester.label,
               "approver_id": approver.id, "context": context or {}}
    secret_ok = _check_secret(approver, secret)
    if is_locked(approver, now) or not secret_ok:
        if not is_locked(approver, now):
            _register_failure(approver, now=now, settings=settings)
        audit_service.record(session, actor=approver_actor, action="approval.failed",
                             entity_type="approval", entity_id=None, after=details,
                             request_meta=meta, store_id=store_id)
        raise ApprovalRefused(REFUSED)
    if approver.status is not UserStatus.ACTIVE or approver.id == requester.user_id:
        raise ApprovalRefused("Another active staff member must approve this.",
                              code="approver_not_allowed")
    if permission not in (role.permissions or []):
        raise ApprovalRefused(f"{approver.name or approver.email} may not approve this: their "
                              f"role lacks '{permission}'.", code="approver_lacks_permission",
                              permission=permission)
    approver.failed_login_count = 0
    approver.failed_login_window_start = None
    expires = now + APPROVAL_LIFETIME
    approval_id = new_id()
    token = APPROVAL_PREFIX + new_token(32)
    audit_service.record(session, actor=approver_actor, action="approval.grant",
                         entity_type="approval", entity_id=approval_id,
                         after={**details, "expires_at": expires}, request_meta=meta,
                         store_id=store_id)
    session.add(VerificationToken(identifier=f"{IDENTIFIER_PREFIX}{approval_id}",
                                  token=hash_token(token), expires=expires))
    session.flush()
    return Approval(id=approval_id, token=token, expires_at=expires, permission=permission,
                    approver_id=approver.id, approver_name=approver.name)


def consume(
    session: Session, *, token: str, store_id: str, permission: str, now: datetime,
    requester_id: str | None = None,
) -> Grant:
    """Spend an approval token for ``permission`` in ``store_id`` (by ``requester_id`` when
    given). Raises :class:`ApprovalInvalid` if it is unknown, used, expired or for another
    permission, store or requester."""
    row = session.scalar(select(VerificationToken).where(
        VerificationToken.token == hash_token(token or ""),
        VerificationToken.identifier.startswith(IDENTIFIER_PREFIX)))
    if row is None:
        raise ApprovalInvalid("This approval is not valid or was already used.")
    approval_id = row.identifier[len(IDENTIFIER_PREFIX):]
    expires = as_utc(row.expires)
    spent = session.execute(delete(VerificationToken).where(VerificationToken.id == row.id))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise ApprovalInvalid("This approval was already used.")
    grant_row = session.scalar(select(AuditLog).where(
        AuditLog.entity_type == "approval", AuditLog.entity_id == approval_id,
        AuditLog.action == "approval.grant", AuditLog.store_id == store_id))
    info = (grant_row.after_snapshot or {}) if grant_row else {}
    if (grant_row is None or now >= expires or info.get("permission") != permission
            or (requester_id is not None and info.get("requester_id") != requester_id)):
        raise ApprovalInvalid("This approval is not valid for this action.")
    return Grant(id=approval_id, permission=permission, action=str(info.get("action", "")),
                 approver_id=str(info.get("approver_id")), requester_id=info.get("requester_id"),
                 reason=str(info.get("reason", "")), context=dict(info.get("context") or {}))


# ---- POS PIN --------------------------------------------------------------------------------


def _trivial(pin: str) -> bool:
    if len(set(pin)) == 1:
        return True
    steps = {int(b) - int(a) for a, b in zip(pin, pin[1:], strict=False)}
    return steps in ({1}, {-1})


def set_pin(
    session: Session, *, actor: Principal, pin: str, current_password: str, now: datetime,
    settings: Settings, meta: RequestMeta | None = None,
) -> None:
    """Set or change the caller's POS PIN (needs their password)."""
    user = session.get(User, actor.user_id)
    if user is None or not verify_password(current_password, user.password):
        raise Forbidden("The current password is wrong.", code="wrong_password",
                        title="Wrong password")
    if not PIN.fullmatch(pin or ""):
        raise Invalid("A POS PIN is 4 to 8 digits.", code="pin_invalid")
    if _trivial(pin):
        raise Invalid("Choose a PIN that is not one digit repeated or a run like 1234.",
                      code="pin_too_simple")
    had = user.pos_pin_hash is not None
    user.pos_pin_hash = hash_password(pin, cost=settings.bcrypt_cost)
    audit_service.record(session, actor=actor, action="pos_pin.change" if had else "pos_pin.set",
                         entity_type="user", entity_id=user.id, request_meta=meta, store_id=None)
    session.flush()


def clear_pin(session: Session, *, actor: Principal, meta: RequestMeta | None = None) -> None:
    user = session.get(User, actor.user_id)
    if user is None or user.pos_pin_hash is None:
        return
    user.pos_pin_hash = None
    audit_service.record(session, actor=actor, action="pos_pin.clear", entity_type="user",
                         entity_id=user.id, request_meta=meta, store_id=None)
    session.flush()


@dataclass(frozen=True, slots=True)
class PinLogin:
    ok: bool
    user: User | None = None
    session: AuthSession | None = None
    token: str | None = None


def pin_login(
    session: Session, *, device: Principal, user_ref: str, pin: str, now: datetime,
    settings: Settings, meta: RequestMeta, dummy_hash: str,
) -> PinLogin:
    """Sign a staff member of the terminal's store in with their PIN (fast cashier switch).
    A failure counts toward the user's lockout; the caller commits it and answers 401."""
    assert device.kind == "device" and device.store_id
    found = _find_staff(session, store_id=device.store_id, ref=user_ref)
    if found is None:
        verify_password(pin or "0000", dummy_hash)
        return PinLogin(ok=False)
    user, _role = found
    actor = Principal(kind="user", user_id=user.id, email=user.email, store_id=device.store_id,
                      device_id=device.device_id)
    ok = bool(user.pos_pin_hash) and PIN.fullmatch(pin or "") is not None \
        and verify_password(pin, user.pos_pin_hash or "")
    if is_locked(user, now) or not ok or user.status is not UserStatus.ACTIVE:
        if not ok and not is_locked(user, now):
            _register_failure(user, now=now, settings=settings)
        audit_service.record(session, actor=actor, action="login.pin_failed", entity_type="user",
                             entity_id=user.id, request_meta=meta, store_id=device.store_id)
        return PinLogin(ok=False)
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.last_login_at = now
    user.last_login_ip = meta.ip
    row, token = sessions_service.create(
        session, user=user, now=now, settings=settings,
        meta=RequestMeta(ip=meta.ip, user_agent=f"POS terminal {device.device_id}"),
    )
    row.expires = min(as_utc(row.expires), now + timedelta(hours=PIN_SESSION_HOURS))
    audit_service.record(session, actor=actor, action="login.pin", entity_type="session",
                         entity_id=row.id, request_meta=meta, store_id=device.store_id)
    session.flush()
    return PinLogin(ok=True, user=user, session=row, token=token)

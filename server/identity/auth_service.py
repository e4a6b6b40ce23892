"""Sign-in, lockout and password changes (product-decisions §4).

- The answer to a failed sign-in is the same whether the email is unknown, the password wrong,
  the account inactive or locked: one message, one status, and a bcrypt check every time
  (against a dummy hash of the configured cost when the email is unknown), so neither the body
  nor the timing tells an attacker which emails exist.
- Lockout: 5 failures within 15 minutes lock the account for 15 minutes (the ``User`` lockout
  fields). While locked even the right password fails, and those attempts do not extend it.
- bcrypt is slow on purpose; callers run these functions off the event loop (the views are sync
  endpoints, which FastAPI runs in its thread pool).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.clock import as_utc
from server.config import Settings
from server.errors import Forbidden, Invalid
from server.identity import sessions_service
from server.identity.hashing import hash_password, verify_password
from server.identity.models import PasswordHistory, User, UserStatus
from server.identity.models import Session as AuthSession
from server.identity.principal import Principal, RequestMeta
from stormcom_pos.domain.passwords import (
    PasswordHistoryEntry,
    PasswordReused,
    WeakPassword,
    check_password_policy,
    check_password_reuse,
    history_to_purge,
)

LOGIN_FAILED = (
    "Sign-in failed: the email or password is wrong, or the account is locked after too many "
    "failed attempts. Check them and try again later."
)


@dataclass(frozen=True, slots=True)
class LoginResult:
    ok: bool
    user: User | None = None
    session: AuthSession | None = None
    token: str | None = None
    mfa_token: str | None = None  # set when the password was right and a second factor is due


def normalise_email(email: str) -> str:
    return email.strip().lower()


def make_dummy_hash(settings: Settings) -> str:
    """A hash to verify against when the email is unknown, so the timing matches."""
    return hash_password("not a real password: timing only", cost=settings.bcrypt_cost)


def _actor(user: User) -> Principal:
    return Principal(kind="user", user_id=user.id, email=user.email,
                     is_super_admin=user.is_super_admin)


def register_failure(user: User, *, now: datetime, settings: Settings) -> bool:
    """Count a failure; True if it locks the account."""
    window = timedelta(minutes=settings.lockout_window_minutes)
    start = as_utc(user.failed_login_window_start) if user.failed_login_window_start else None
    if start is None or now - start > window:
        user.failed_login_window_start = now
        user.failed_login_count = 1
    else:
        user.failed_login_count += 1
    if user.failed_login_count >= settings.lockout_threshold:
        user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
        user.failed_login_count = 0
        user.failed_login_window_start = None
        return True
    return False


def login(
    db: Session,
    *,
    email: str,
    password: str,
    now: datetime,
    meta: RequestMeta,
    settings: Settings,
    dummy_hash: str,
) -> LoginResult:
    """Check the credentials; on success open a session. Failures are audited (the caller
    commits them: a failed sign-in still counts towards the lockout)."""
    user = db.scalar(select(User).where(User.email == normalise_email(email),
                                        User.deleted_at.is_(None)))
    if user is None:
        verify_password(password, dummy_hash)
        return LoginResult(ok=False)
    password_ok = verify_password(password, user.password)
    actor = _actor(user)
    if user.locked_until is not None and now < as_utc(user.locked_until):
        audit.record(db, actor=actor, action="login.refused_locked", entity_type="user",
                     entity_id=user.id, request_meta=meta, store_id=None)
        return LoginResult(ok=False)
    if not password_ok:
        locked = register_failure(user, now=now, settings=settings)
        audit.record(db, actor=actor, action="login.failed", entity_type="user",
                     entity_id=user.id, request_meta=meta, store_id=None)
        if locked:
            audit.record(db, actor=actor, action="user.locked", entity_type="user",
                         entity_id=user.id, after={"locked_until": user.locked_until},
                         request_meta=meta, store_id=None)
        return LoginResult(ok=False)
    if user.status != UserStatus.ACTIVE:
        audit.record(db, actor=actor, action="login.refused_inactive", entity_type="user",
                     entity_id=user.id, request_meta=meta, store_id=None)
        return LoginResult(ok=False)
    if user.mfa_enabled:
        # The password alone opens nothing: the second step (mfa_login) opens the session.
        from server.identity import mfa_login  # mfa_login imports this module

        challenge = mfa_login.start_challenge(db, user=user, now=now)
        audit.record(db, actor=actor, action="login.mfa_required", entity_type="user",
                     entity_id=user.id, request_meta=meta, store_id=None)
        return LoginResult(ok=False, user=user, mfa_token=challenge)
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.locked_until = None
    user.last_login_at = now
    user.last_login_ip = meta.ip
    sessions_service.purge_expired(db, user_id=user.id, now=now, settings=settings)
    row, token = sessions_service.create(db, user=user, now=now, meta=meta, settings=settings)
    audit.record(db, actor=actor, action="login", entity_type="session", entity_id=row.id,
                 after={"ip_address": meta.ip, "user_agent": meta.user_agent},
                 request_meta=meta, store_id=None)
    return LoginResult(ok=True, user=user, session=row, token=token)


def password_history(user: User) -> list[PasswordHistoryEntry]:
    entries = [PasswordHistoryEntry(h.id, h.password_hash, as_utc(h.created_at))
               for h in user.password_history]
    if not any(e.password_hash == user.password for e in entries):
        # The first password (set at creation) is not in the history table yet.
        newest = max((e.created_at for e in entries), default=None)
        stamp = (newest + timedelta(microseconds=1)) if newest else as_utc(user.created_at)
        entries.append(PasswordHistoryEntry("current", user.password, stamp))
    return entries


def set_password(
    session: Session, *, user: User, new_password: str, now: datetime, settings: Settings
) -> None:
    """Apply the policy and the last-5 history (the same rules and errors as a password
    change), store the hash and its history row, purge history older than 2 years."""
    try:
        check_password_policy(new_password)
    except WeakPassword as exc:
        raise Invalid(f"The new password {'; '.join(exc.failures)}.", code=exc.code,
                      title="Password too weak", failures=list(exc.failures)) from exc
    history = password_history(user)
    try:
        check_password_reuse(new_password, history, verify_password)
    except PasswordReused as exc:
        raise Invalid(f"The new password {exc.message.removeprefix('the new password ')}.",
                      code=exc.code, title="Password used before") from exc
    new_hash = hash_password(new_password, cost=settings.bcrypt_cost)
    if not any(e.id != "current" for e in history if e.password_hash == user.password):
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password,
                                    created_at=history[-1].created_at))
    user.password = new_hash
    session.add(PasswordHistory(user_id=user.id, password_hash=new_hash, created_at=now))
    stale = set(history_to_purge([e for e in history if e.id != "current"], now))
    for row in list(user.password_history):
        if row.id in stale:
            session.delete(row)
    session.flush()


def change_password(
    db: Session,
    *,
    principal: Principal,
    current_password: str,
    new_password: str,
    now: datetime,
    meta: RequestMeta,
    settings: Settings,
) -> int:
    """Change the caller's password: policy, no reuse of the last 5, history kept 2 years.
    Every other session of the user is signed out; returns how many."""
    user = db.get(User, principal.user_id)
    if user is None or not verify_password(current_password, user.password):
        raise Forbidden("The current password is wrong.", code="wrong_password",
                        title="Wrong password")
    set_password(db, user=user, new_password=new_password, now=now, settings=settings)
    assert user.id is not None
    revoked = sessions_service.revoke_all(db, user_id=user.id, keep=principal.session_id)
    audit.record(db, actor=principal, action="password.change", entity_type="user",
                 entity_id=user.id, after={"other_sessions_revoked": revoked},
                 request_meta=meta, store_id=None)
    return revoked

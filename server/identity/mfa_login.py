"""The second step of sign-in for users with MFA on.

When the password is right and ``user.mfa_enabled`` is set, sign-in must not open a session:
it calls :func:`start_challenge` and answers with the challenge token (``smf_...``, 5 minutes,
stored hashed in ``VerificationToken`` under ``mfa-login:<user id>``). The client then sends the
challenge token with a TOTP, backup or SMS code to :func:`complete_challenge`, which opens the
session. It can also ask for an SMS code with :func:`send_challenge_sms`.

A wrong code counts toward the account lockout like a wrong password (the challenge was only
issued after the right password); when the account locks, the challenge is deleted. Failures are
returned, not raised, so the caller commits the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.audit import service as audit_service
from server.clock import as_utc
from server.config import Settings
from server.identity import auth_service, mfa_service, sessions_service
from server.identity.hashing import hash_token, new_token
from server.identity.models import Session as AuthSession
from server.identity.models import User, UserStatus, VerificationToken
from server.identity.principal import Principal, RequestMeta
from server.identity.sms import SmsProvider

CHALLENGE_PREFIX = "smf_"
IDENTIFIER_PREFIX = "mfa-login:"
CHALLENGE_LIFETIME = timedelta(minutes=5)
CHALLENGE_FAILED = "The code is not valid, or this sign-in has expired. Sign in again."


def _register_failure(user: User, *, now: datetime, settings: Settings) -> bool:
    """Count a failed attempt exactly as a failed password sign-in does (shared lockout).
    Looked up at call time: auth_service may import this module."""
    return auth_service.register_failure(user, now=now, settings=settings)


@dataclass(frozen=True, slots=True)
class ChallengeResult:
    ok: bool
    user: User | None = None
    session: AuthSession | None = None
    token: str | None = None


def start_challenge(db: Session, *, user: User, now: datetime) -> str:
    """A fresh challenge token for ``user`` (older ones stop working)."""
    ident = f"{IDENTIFIER_PREFIX}{user.id}"
    db.execute(delete(VerificationToken).where(VerificationToken.identifier == ident))
    token = CHALLENGE_PREFIX + new_token(32)
    db.add(VerificationToken(identifier=ident, token=hash_token(token),
                             expires=now + CHALLENGE_LIFETIME))
    db.flush()
    return token


def _pending(db: Session, token: str, now: datetime) -> tuple[VerificationToken, User] | None:
    if not (token or "").startswith(CHALLENGE_PREFIX):
        return None
    row = db.scalar(select(VerificationToken).where(
        VerificationToken.token == hash_token(token),
        VerificationToken.identifier.startswith(IDENTIFIER_PREFIX)))
    if row is None or now >= as_utc(row.expires):
        return None
    user = db.get(User, row.identifier[len(IDENTIFIER_PREFIX):])
    if (user is None or user.deleted_at is not None or user.status is not UserStatus.ACTIVE
            or not user.mfa_enabled):
        return None
    if user.locked_until is not None and now < as_utc(user.locked_until):
        return None
    return row, user


def send_challenge_sms(
    db: Session, *, token: str, provider: SmsProvider, now: datetime, settings: Settings
) -> bool:
    """Text a code to the challenged user's phone; False (say nothing more) if not possible."""
    found = _pending(db, token, now)
    if found is None:
        return False
    sent = mfa_service.send_sms_code(db, user=found[1], provider=provider, now=now,
                                     bcrypt_cost=settings.bcrypt_cost)
    if sent:  # a one-time code is bookkeeping; the sign-in it leads to is audited
        audit_service.mark_housekeeping(db, VerificationToken)
    return sent


def complete_challenge(
    db: Session, *, token: str, code: str, now: datetime, meta: RequestMeta, settings: Settings
) -> ChallengeResult:
    """Check the second factor; on success spend the challenge and open the session."""
    found = _pending(db, token, now)
    if found is None:
        return ChallengeResult(ok=False)
    row, user = found
    actor = Principal(kind="user", user_id=user.id, email=user.email,
                      is_super_admin=user.is_super_admin)
    if not mfa_service.verify_second_factor(db, user, code, now):
        locked = _register_failure(user, now=now, settings=settings)
        audit_service.record(db, actor=actor, action="login.mfa_failed", entity_type="user",
                             entity_id=user.id, request_meta=meta, store_id=None)
        if locked:
            db.execute(delete(VerificationToken).where(VerificationToken.id == row.id))
            audit_service.record(db, actor=actor, action="user.locked", entity_type="user",
                                 entity_id=user.id, after={"locked_until": user.locked_until},
                                 request_meta=meta, store_id=None)
        return ChallengeResult(ok=False)
    spent = db.execute(delete(VerificationToken).where(VerificationToken.id == row.id))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return ChallengeResult(ok=False)
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.last_login_at = now
    user.last_login_ip = meta.ip
    sessions_service.purge_expired(db, user_id=user.id, now=now, settings=settings)
    session_row, session_token = sessions_service.create(db, user=user, now=now, meta=meta,
                                                         settings=settings)
    audit_service.record(db, actor=actor, action="login", entity_type="session",
                         entity_id=session_row.id,
                         after={"ip_address": meta.ip, "user_agent": meta.user_agent,
                                "mfa": True},
                         request_meta=meta, store_id=None)
    return ChallengeResult(ok=True, user=user, session=session_row, token=session_token)

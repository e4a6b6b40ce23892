"""Email verification and password reset: single-use tokens stored hashed in VerificationToken.

- A token is 32 random bytes (URL-safe); only its SHA-256 is stored, under the identifier
  ``<purpose>:<user id>``. Issuing a new token of a purpose deletes the user's older ones.
- Email verification tokens live 24 hours, password reset tokens 1 hour.
- Using a token deletes it (a conditional DELETE, so two concurrent uses cannot both win).
- Requesting a reset never reveals whether the email exists: the caller answers the same
  either way and only sends mail when a token was issued.
- A reset applies the password policy and the last-5 history (product-decisions §4), stores the
  new hash in the history, purges history older than 2 years, clears the lockout and revokes
  every session of the user.

Nothing here sends mail or commits: the view sends the :class:`~server.identity.mail.OutgoingMail`
built here, and the request's unit of work commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.audit import service as audit_service
from server.clock import as_utc
from server.config import Settings
from server.errors import ServiceError
from server.identity import auth_service, sessions_service
from server.identity.hashing import hash_token, new_token
from server.identity.mail import OutgoingMail
from server.identity.models import User, UserStatus, VerificationToken
from server.identity.principal import Principal, RequestMeta


class Purpose(StrEnum):
    VERIFY_EMAIL = "email-verify"
    RESET_PASSWORD = "password-reset"


LIFETIMES = {
    Purpose.VERIFY_EMAIL: timedelta(hours=24),
    Purpose.RESET_PASSWORD: timedelta(hours=1),
}


class TokenInvalid(ServiceError):
    status = 400
    default_code = "token_invalid"
    default_title = "Link not valid"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    user: User
    token: str
    expires: datetime


def _identifier(purpose: Purpose, user_id: str) -> str:
    return f"{purpose.value}:{user_id}"


def _user_actor(user: User) -> Principal:
    return Principal(kind="user", user_id=user.id, email=user.email)


def issue(session: Session, *, user: User, purpose: Purpose, now: datetime) -> IssuedToken:
    """A fresh single-use token for ``user``; older tokens of the same purpose stop working."""
    ident = _identifier(purpose, user.id)
    session.execute(delete(VerificationToken).where(VerificationToken.identifier == ident))
    raw = new_token(32)
    expires = now + LIFETIMES[purpose]
    session.add(VerificationToken(identifier=ident, token=hash_token(raw), expires=expires))
    session.flush()
    return IssuedToken(user=user, token=raw, expires=expires)


def consume(session: Session, *, token: str, purpose: Purpose, now: datetime) -> User:
    """Spend a token: return its user, or raise :class:`TokenInvalid` (unknown, used, expired)."""
    row = session.scalar(
        select(VerificationToken).where(VerificationToken.token == hash_token(token or ""))
    )
    prefix = f"{purpose.value}:"
    if row is None or not row.identifier.startswith(prefix):
        raise TokenInvalid("This link is not valid or has already been used.")
    deleted = session.execute(delete(VerificationToken).where(VerificationToken.id == row.id))
    if deleted.rowcount != 1:  # type: ignore[attr-defined]
        raise TokenInvalid("This link has already been used.")
    session.expunge(row)
    if as_utc(row.expires) <= now:
        raise TokenInvalid("This link has expired. Ask for a new one.", code="token_expired")
    user = session.get(User, row.identifier[len(prefix):])
    if user is None or user.deleted_at is not None or user.status is not UserStatus.ACTIVE:
        raise TokenInvalid("This link is not valid or has already been used.")
    return user


# ---- email verification ---------------------------------------------------------------------


def request_email_verification(
    session: Session, *, user: User, now: datetime, meta: RequestMeta | None = None
) -> IssuedToken | None:
    """A verification token for the user's email, or None if it is already verified."""
    if user.email_verified is not None:
        return None
    issued = issue(session, user=user, purpose=Purpose.VERIFY_EMAIL, now=now)
    audit_service.record(session, actor=_user_actor(user), action="email.verification.request",
                         entity_type="user", entity_id=user.id, request_meta=meta, store_id=None)
    return issued


def verify_email(
    session: Session, *, token: str, now: datetime, meta: RequestMeta | None = None
) -> User:
    user = consume(session, token=token, purpose=Purpose.VERIFY_EMAIL, now=now)
    if user.email_verified is None:
        user.email_verified = now
    audit_service.record(session, actor=_user_actor(user), action="email.verify",
                         entity_type="user", entity_id=user.id, request_meta=meta, store_id=None)
    session.flush()
    return user


def verification_mail(issued: IssuedToken, *, app_url: str) -> OutgoingMail:
    link = f"{app_url.rstrip('/')}/verify-email?token={issued.token}"
    return OutgoingMail(
        to=issued.user.email,
        subject="Confirm your email address",
        text=(
            f"Hello {issued.user.name or issued.user.email},\n\n"
            f"Confirm your StormCom email address with this link (valid for 24 hours):\n\n"
            f"{link}\n\nOr enter this code: {issued.token}\n\n"
            "If you did not ask for this, ignore this message.\n"
        ),
    )


# ---- password reset -------------------------------------------------------------------------


def request_password_reset(
    session: Session, *, email: str, now: datetime, meta: RequestMeta | None = None
) -> IssuedToken | None:
    """A reset token when ``email`` belongs to an active user, else None. The caller must
    answer identically in both cases."""
    user = session.scalar(
        select(User).where(User.email == (email or "").strip().lower(), User.deleted_at.is_(None))
    )
    if user is None or user.status is not UserStatus.ACTIVE:
        return None
    issued = issue(session, user=user, purpose=Purpose.RESET_PASSWORD, now=now)
    audit_service.record(session, actor=_user_actor(user), action="password.reset.request",
                         entity_type="user", entity_id=user.id, request_meta=meta, store_id=None)
    return issued


def reset_mail(issued: IssuedToken, *, app_url: str) -> OutgoingMail:
    link = f"{app_url.rstrip('/')}/reset-password?token={issued.token}"
    return OutgoingMail(
        to=issued.user.email,
        subject="Reset your StormCom password",
        text=(
            f"Hello {issued.user.name or issued.user.email},\n\n"
            f"Choose a new password with this link (valid for 1 hour, once):\n\n{link}\n\n"
            f"Or enter this code: {issued.token}\n\n"
            "If you did not ask for this, ignore this message: your password is unchanged.\n"
        ),
    )


def reset_password(
    session: Session, *, token: str, new_password: str, now: datetime, settings: Settings,
    meta: RequestMeta | None = None,
) -> User:
    """Set a new password with a reset token, clear the lockout, sign out everywhere."""
    user = consume(session, token=token, purpose=Purpose.RESET_PASSWORD, now=now)
    auth_service.set_password(session, user=user, new_password=new_password, now=now,
                              settings=settings)
    user.failed_login_count = 0
    user.failed_login_window_start = None
    user.locked_until = None
    revoked = sessions_service.revoke_all(session, user_id=user.id)
    audit_service.record(session, actor=_user_actor(user), action="password.reset",
                         entity_type="user", entity_id=user.id,
                         after={"sessions_revoked": revoked}, request_meta=meta, store_id=None)
    session.flush()
    return user

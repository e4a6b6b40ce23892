"""Multi-factor authentication: TOTP, backup codes and the SMS fallback (product-decisions §4).

- **TOTP** (pyotp, RFC 6238, 30 s steps, 6 digits). Enrolment stores a fresh secret and returns
  its provisioning URI and a QR image; MFA is on only once the first code confirms it. A code is
  accepted for the current step or one step either side (clock drift), and **never twice**: the
  accepted step is stored in ``mfa_last_totp_step`` by a conditional ``UPDATE ... WHERE step <
  :step``, so two concurrent requests with the same code cannot both pass.
- **Backup codes**: 10 codes of 8 characters, bcrypt-hashed, single use, valid for a year from
  ``mfa_backup_codes_generated_at``. Regenerating replaces them all.
- **SMS fallback**: once TOTP is on, a verified phone number can receive a 6-digit code
  (``server.identity.sms``). The code is bcrypt-hashed in ``VerificationToken`` under
  ``mfa-sms:<user id>``, lives 5 minutes and is deleted when used or replaced.
- Disabling MFA needs the password and a second-factor code.

:func:`verify_second_factor` is the one entry point login calls for its second step. Nothing here
commits; the caller's unit of work does.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import qrcode
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from server.audit import service as audit_service
from server.clock import as_utc
from server.errors import Conflict, Forbidden, Invalid
from server.identity.hashing import BCRYPT_COST, hash_password, verify_password
from server.identity.models import User, VerificationToken
from server.identity.principal import Principal, RequestMeta
from server.identity.sms import SmsProvider

ISSUER = "StormCom POS"
TOTP_INTERVAL = 30
TOTP_DIGITS = 6
TOTP_DRIFT_STEPS = 1
BACKUP_CODE_COUNT = 10
BACKUP_CODE_LENGTH = 8
BACKUP_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
BACKUP_CODE_LIFETIME = timedelta(days=365)
SMS_CODE_LIFETIME = timedelta(minutes=5)
SMS_PREFIX = "mfa-sms:"
E164 = re.compile(r"\+[1-9]\d{6,14}")


class SecondFactorFailed(Forbidden):
    default_code = "mfa_code_invalid"
    default_title = "Code not accepted"


class PasswordIncorrect(Forbidden):
    default_code = "password_incorrect"
    default_title = "Password incorrect"


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    provisioning_uri: str
    qr_png: bytes

    @property
    def qr_png_base64(self) -> str:
        return base64.b64encode(self.qr_png).decode("ascii")


@dataclass(frozen=True, slots=True)
class MfaStatus:
    enabled: bool
    enrolment_pending: bool
    backup_codes_remaining: int
    backup_codes_expire_at: datetime | None
    sms_enabled: bool
    sms_phone_hint: str | None


def _code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "").lower()


def _mask(phone: str | None) -> str | None:
    return f"{phone[:3]}•••{phone[-2:]}" if phone else None


def _audit(session: Session, actor: Principal | None, user: User, action: str,
           meta: RequestMeta | None) -> None:
    actor = actor or Principal(kind="user", user_id=user.id, email=user.email)
    audit_service.record(session, actor=actor, action=action, entity_type="user",
                         entity_id=user.id, request_meta=meta, store_id=None)


def status(user: User, *, now: datetime) -> MfaStatus:
    codes = user.mfa_backup_codes or []
    expires = backup_codes_expire_at(user)
    live = expires is not None and now < expires
    return MfaStatus(
        enabled=user.mfa_enabled,
        enrolment_pending=not user.mfa_enabled and bool(user.mfa_secret),
        backup_codes_remaining=sum(1 for c in codes if not c.get("used")) if live else 0,
        backup_codes_expire_at=expires,
        sms_enabled=user.sms_enabled,
        sms_phone_hint=_mask(user.sms_phone_number),
    )


# ---- TOTP -----------------------------------------------------------------------------------


def qr_png(uri: str) -> bytes:
    """A PNG QR code of ``uri`` (qrcode + Pillow)."""
    img = qrcode.make(uri, box_size=6, border=2)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def provisioning_uri(user: User, *, issuer: str = ISSUER) -> str:
    if not user.mfa_secret:
        raise Conflict("Start TOTP enrolment first.", code="mfa_not_enrolling")
    return pyotp.TOTP(user.mfa_secret).provisioning_uri(name=user.email, issuer_name=issuer)


def begin_totp_enrolment(
    session: Session, *, user: User, issuer: str = ISSUER, actor: Principal | None = None,
    meta: RequestMeta | None = None,
) -> TotpEnrolment:
    """A fresh secret for an authenticator app; MFA stays off until :func:`confirm_totp`."""
    if user.mfa_enabled:
        raise Conflict("Two-step sign-in is already on; turn it off first to re-enrol.",
                       code="mfa_already_enabled")
    user.mfa_secret = pyotp.random_base32()
    user.mfa_last_totp_step = None
    _audit(session, actor, user, "mfa.enrol.start", meta)
    session.flush()
    uri = provisioning_uri(user, issuer=issuer)
    return TotpEnrolment(secret=user.mfa_secret, provisioning_uri=uri, qr_png=qr_png(uri))


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_INTERVAL)
    step = totp.timecode(now)
    for candidate in range(step - TOTP_DRIFT_STEPS, step + TOTP_DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def _accept_totp(session: Session, user: User, code: str, now: datetime) -> bool:
    """Accept a TOTP code once: atomically move ``mfa_last_totp_step`` forward to its step."""
    if not user.mfa_secret:
        return False
    step = _matching_step(user.mfa_secret, code, now)
    if step is None:
        return False
    result = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.mfa_last_totp_step.is_(None), User.mfa_last_totp_step < step),
        )
        .values(mfa_last_totp_step=step)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False  # replay: this step (or a later one) was already used
    set_committed_value(user, "mfa_last_totp_step", step)
    return True


def confirm_totp(
    session: Session, *, user: User, code: str, now: datetime,
    bcrypt_cost: int = BCRYPT_COST, actor: Principal | None = None,
    meta: RequestMeta | None = None,
) -> list[str]:
    """Turn MFA on with the first code from the app; returns the 10 new backup codes."""
    if user.mfa_enabled:
        raise Conflict("Two-step sign-in is already on.", code="mfa_already_enabled")
    if not user.mfa_secret:
        raise Conflict("Start TOTP enrolment first.", code="mfa_not_enrolling")
    if not _accept_totp(session, user, _code(code), now):
        raise SecondFactorFailed("That code is not valid. Enter the current code from the app.")
    user.mfa_enabled = True
    codes = _new_backup_codes(user, now=now, bcrypt_cost=bcrypt_cost)
    _audit(session, actor, user, "mfa.enable", meta)
    session.flush()
    return codes


# ---- backup codes ---------------------------------------------------------------------------


def backup_codes_expire_at(user: User) -> datetime | None:
    generated = user.mfa_backup_codes_generated_at
    return as_utc(generated) + BACKUP_CODE_LIFETIME if generated else None


def _new_backup_codes(user: User, *, now: datetime, bcrypt_cost: int) -> list[str]:
    codes = [
        "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        for _ in range(BACKUP_CODE_COUNT)
    ]
    user.mfa_backup_codes = [
        {"code": hash_password(c, cost=bcrypt_cost), "used": False, "usedAt": None}
        for c in codes
    ]
    user.mfa_backup_codes_generated_at = now
    return codes


def _lock_user(session: Session, user: User) -> None:
    """Re-read the user row with a row lock (PostgreSQL), so two requests cannot both spend one
    backup code."""
    session.execute(
        select(User).where(User.id == user.id).with_for_update()
        .execution_options(populate_existing=True)
    )


def _accept_backup_code(session: Session, user: User, code: str, now: datetime) -> bool:
    if len(code) != BACKUP_CODE_LENGTH or not user.mfa_backup_codes:
        return False
    _lock_user(session, user)
    generated = user.mfa_backup_codes_generated_at
    if generated is None or now >= as_utc(generated) + BACKUP_CODE_LIFETIME:
        return False
    entries = [dict(e) for e in user.mfa_backup_codes or []]
    for entry in entries:
        if not entry.get("used") and verify_password(code, entry["code"]):
            entry["used"], entry["usedAt"] = True, now.isoformat()
            user.mfa_backup_codes = entries
            flag_modified(user, "mfa_backup_codes")
            session.flush()
            return True
    return False


def regenerate_backup_codes(
    session: Session, *, user: User, code: str, now: datetime,
    bcrypt_cost: int = BCRYPT_COST, actor: Principal | None = None,
    meta: RequestMeta | None = None,
) -> list[str]:
    """Replace every backup code (needs a current second-factor code)."""
    if not user.mfa_enabled:
        raise Conflict("Two-step sign-in is off.", code="mfa_not_enabled")
    if not verify_second_factor(session, user, code, now):
        raise SecondFactorFailed("That code is not valid.")
    codes = _new_backup_codes(user, now=now, bcrypt_cost=bcrypt_cost)
    _audit(session, actor, user, "mfa.backup_codes.regenerate", meta)
    session.flush()
    return codes


# ---- SMS fallback ---------------------------------------------------------------------------


def _sms_identifier(user: User) -> str:
    return f"{SMS_PREFIX}{user.id}"


def _issue_sms_code(
    session: Session, *, user: User, phone: str, provider: SmsProvider, now: datetime,
    bcrypt_cost: int,
) -> None:
    code = f"{secrets.randbelow(10**6):06d}"
    ident = _sms_identifier(user)
    session.execute(delete(VerificationToken).where(VerificationToken.identifier == ident))
    session.add(VerificationToken(identifier=ident, token=hash_password(code, cost=bcrypt_cost),
                                  expires=now + SMS_CODE_LIFETIME))
    session.flush()
    minutes = int(SMS_CODE_LIFETIME.total_seconds() // 60)
    provider.send(phone, f"Your StormCom code is {code}. It expires in {minutes} minutes.")


def _accept_sms_code(session: Session, user: User, code: str, now: datetime) -> bool:
    if not re.fullmatch(r"\d{6}", code):
        return False
    ident = _sms_identifier(user)
    rows = session.scalars(
        select(VerificationToken).where(
            VerificationToken.identifier == ident, VerificationToken.expires > now
        )
    ).all()
    if not any(verify_password(code, row.token) for row in rows):
        return False
    deleted = session.execute(
        delete(VerificationToken).where(VerificationToken.identifier == ident)
    )
    return bool(deleted.rowcount)  # type: ignore[attr-defined]


def start_sms(
    session: Session, *, user: User, phone: str, provider: SmsProvider, now: datetime,
    bcrypt_cost: int = BCRYPT_COST, actor: Principal | None = None,
    meta: RequestMeta | None = None,
) -> None:
    """Register a phone for the SMS fallback and text it a code to confirm it."""
    if not user.mfa_enabled:
        raise Conflict("Turn on two-step sign-in with an authenticator app first; SMS is its "
                       "fallback.", code="mfa_not_enabled")
    phone = re.sub(r"[\s()-]", "", phone or "")
    if not E164.fullmatch(phone):
        raise Invalid("Give the phone number in international form, e.g. +8801712345678.",
                      code="phone_invalid")
    user.sms_phone_number = phone
    user.sms_enabled = False
    _audit(session, actor, user, "mfa.sms.start", meta)
    _issue_sms_code(session, user=user, phone=phone, provider=provider, now=now,
                    bcrypt_cost=bcrypt_cost)


def confirm_sms(
    session: Session, *, user: User, code: str, now: datetime,
    actor: Principal | None = None, meta: RequestMeta | None = None,
) -> None:
    if not user.sms_phone_number:
        raise Conflict("Add a phone number first.", code="sms_not_enrolling")
    if not _accept_sms_code(session, user, _code(code), now):
        raise SecondFactorFailed("That code is not valid or has expired.")
    user.sms_enabled = True
    _audit(session, actor, user, "mfa.sms.enable", meta)
    session.flush()


def send_sms_code(
    session: Session, *, user: User, provider: SmsProvider, now: datetime,
    bcrypt_cost: int = BCRYPT_COST,
) -> bool:
    """Text a sign-in code to the user's verified phone; False if SMS is not set up."""
    if not (user.mfa_enabled and user.sms_enabled and user.sms_phone_number):
        return False
    _issue_sms_code(session, user=user, phone=user.sms_phone_number, provider=provider, now=now,
                    bcrypt_cost=bcrypt_cost)
    return True


# ---- second factor and disabling ------------------------------------------------------------


def verify_second_factor(session: Session, user: User, code: str, now: datetime) -> bool:
    """True if ``code`` is a fresh TOTP code, an unused unexpired backup code or the pending
    SMS code of ``user`` (which is then spent). False when MFA is off or nothing matches."""
    if not user.mfa_enabled:
        return False
    code = _code(code)
    if len(code) == TOTP_DIGITS and code.isdigit():
        if _accept_totp(session, user, code, now):
            return True
        return user.sms_enabled and _accept_sms_code(session, user, code, now)
    return _accept_backup_code(session, user, code, now)


def disable(
    session: Session, *, user: User, password: str, code: str, now: datetime,
    actor: Principal | None = None, meta: RequestMeta | None = None,
) -> None:
    """Turn MFA off: needs the account password and a second-factor code."""
    if not user.mfa_enabled:
        raise Conflict("Two-step sign-in is already off.", code="mfa_not_enabled")
    if not verify_password(password, user.password):
        raise PasswordIncorrect("The password is not correct.")
    if not verify_second_factor(session, user, code, now):
        raise SecondFactorFailed("That code is not valid.")
    user.mfa_enabled = False
    user.mfa_secret = None
    user.mfa_backup_codes = None
    user.mfa_backup_codes_generated_at = None
    user.mfa_last_totp_step = None
    user.sms_enabled = False
    session.execute(
        delete(VerificationToken).where(VerificationToken.identifier == _sms_identifier(user))
    )
    _audit(session, actor, user, "mfa.disable", meta)
    session.flush()

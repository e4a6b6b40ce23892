"""Two-step sign-in: TOTP enrolment, backup codes, SMS fallback, and the sign-in second step."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import (
    SELF,
    IpLimited,
    MetaDep,
    NowDep,
    SessionDep,
    SettingsDep,
    require_permission,
)
from server.api.errors import problem_response, problem_responses
from server.identity import mfa_login, mfa_service, sessions_service
from server.identity.models import User
from server.identity.principal import Principal
from server.identity.schemas import LoginRead, StoreAccess, UserRead
from server.identity.sms import SmsProvider, provider_from_settings

router = APIRouter(prefix="/auth/mfa", tags=["mfa"])
Me = Annotated[Principal, require_permission(SELF)]

Code = Annotated[str, Field(min_length=6, max_length=20, description="TOTP, SMS or backup code")]


class MfaStatusRead(BaseModel):
    enabled: bool
    enrolment_pending: bool
    backup_codes_remaining: int
    backup_codes_expire_at: datetime | None
    sms_enabled: bool
    sms_phone_hint: str | None


class TotpEnrolmentRead(BaseModel):
    secret: str = Field(description="Base32 secret, for typing into an app by hand")
    provisioning_uri: str = Field(description="otpauth:// URI (what the QR code holds)")
    qr_png_base64: str = Field(description="The QR code as a base64 PNG")
    qr_png_url: str = Field(description="The same QR code as image/png")


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code


class BackupCodesRead(BaseModel):
    backup_codes: list[str] = Field(description="Shown once: 10 single-use codes")
    expires_at: datetime


class DisableBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: Annotated[str, Field(min_length=1, max_length=200)]
    code: Code


class PhoneBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone_number: Annotated[str, Field(min_length=7, max_length=24, description="E.164")]


class ChallengeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: Annotated[str, Field(min_length=10, max_length=200)]
    code: Code


class ChallengeSmsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mfa_token: Annotated[str, Field(min_length=10, max_length=200)]


def get_sms_provider(request: Request) -> SmsProvider:
    """The app's SMS provider (``app.state.sms_provider``; made from settings on first use)."""
    provider: SmsProvider | None = getattr(request.app.state, "sms_provider", None)
    if provider is None:
        provider = provider_from_settings()
        request.app.state.sms_provider = provider
    return provider


def _me(db: SessionDep, principal: Principal) -> User:
    user = db.get(User, principal.user_id)
    assert user is not None
    return user


def _status(user: User, now: datetime) -> MfaStatusRead:
    s = mfa_service.status(user, now=now)
    return MfaStatusRead(enabled=s.enabled, enrolment_pending=s.enrolment_pending,
                         backup_codes_remaining=s.backup_codes_remaining,
                         backup_codes_expire_at=s.backup_codes_expire_at,
                         sms_enabled=s.sms_enabled, sms_phone_hint=s.sms_phone_hint)


def _codes(codes: list[str], user: User) -> BackupCodesRead:
    expires = mfa_service.backup_codes_expire_at(user)
    assert expires is not None
    return BackupCodesRead(backup_codes=codes, expires_at=expires)


@router.get("", response_model=MfaStatusRead, responses=problem_responses(401, 403))
def get_status(db: SessionDep, principal: Me, now: NowDep) -> MfaStatusRead:
    """Whether two-step sign-in is on, and what is left of the backup codes."""
    return _status(_me(db, principal), now)


@router.post("/totp", response_model=TotpEnrolmentRead, status_code=201,
             responses=problem_responses(401, 403, 409))
def start_totp(request: Request, db: SessionDep, principal: Me, meta: MetaDep) -> TotpEnrolmentRead:
    """Start enrolling an authenticator app: scan the QR code, then confirm with a code."""
    enrolment = mfa_service.begin_totp_enrolment(db, user=_me(db, principal), actor=principal,
                                                 meta=meta)
    return TotpEnrolmentRead(
        secret=enrolment.secret, provisioning_uri=enrolment.provisioning_uri,
        qr_png_base64=enrolment.qr_png_base64,
        qr_png_url=str(request.url_for("totp_qr_png").path),
    )


@router.get("/totp/qr.png", name="totp_qr_png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}, **problem_responses(401, 403, 409)})
def totp_qr_png(db: SessionDep, principal: Me) -> Response:
    """The pending enrolment's QR code as a PNG image."""
    user = _me(db, principal)
    if user.mfa_enabled:
        return problem_response(409, "mfa_already_enabled", "Conflict",
                                "Two-step sign-in is already on.")
    uri = mfa_service.provisioning_uri(user)
    return Response(content=mfa_service.qr_png(uri), media_type="image/png",
                    headers={"Cache-Control": "no-store"})


@router.post("/totp/confirm", response_model=BackupCodesRead,
             responses=problem_responses(401, 403, 409, 422))
def confirm_totp(body: CodeBody, db: SessionDep, principal: Me, now: NowDep, meta: MetaDep,
                 settings: SettingsDep) -> BackupCodesRead:
    """Turn two-step sign-in on with the app's current code; returns the backup codes."""
    user = _me(db, principal)
    codes = mfa_service.confirm_totp(db, user=user, code=body.code, now=now,
                                     bcrypt_cost=settings.bcrypt_cost, actor=principal, meta=meta)
    return _codes(codes, user)


@router.post("/backup-codes", response_model=BackupCodesRead,
             responses=problem_responses(401, 403, 409, 422))
def regenerate_backup_codes(body: CodeBody, db: SessionDep, principal: Me, now: NowDep,
                            meta: MetaDep, settings: SettingsDep) -> BackupCodesRead:
    """Replace all backup codes (needs a current code)."""
    user = _me(db, principal)
    codes = mfa_service.regenerate_backup_codes(db, user=user, code=body.code, now=now,
                                                bcrypt_cost=settings.bcrypt_cost,
                                                actor=principal, meta=meta)
    return _codes(codes, user)


@router.post("/disable", status_code=204, responses=problem_responses(401, 403, 409, 422))
def disable(body: DisableBody, db: SessionDep, principal: Me, now: NowDep,
            meta: MetaDep) -> Response:
    """Turn two-step sign-in off: needs the password and a code."""
    mfa_service.disable(db, user=_me(db, principal), password=body.password, code=body.code,
                        now=now, actor=principal, meta=meta)
    return Response(status_code=204)


@router.post("/sms", status_code=202, responses=problem_responses(401, 403, 409, 422))
def start_sms(body: PhoneBody, request: Request, db: SessionDep, principal: Me, now: NowDep,
              meta: MetaDep, settings: SettingsDep) -> Response:
    """Add a phone for the SMS fallback; a code is texted to it to confirm."""
    mfa_service.start_sms(db, user=_me(db, principal), phone=body.phone_number,
                          provider=get_sms_provider(request), now=now,
                          bcrypt_cost=settings.bcrypt_cost, actor=principal, meta=meta)
    return Response(status_code=202)


@router.post("/sms/confirm", status_code=204, responses=problem_responses(401, 403, 409, 422))
def confirm_sms(body: CodeBody, db: SessionDep, principal: Me, now: NowDep,
                meta: MetaDep) -> Response:
    """Confirm the phone with the texted code; SMS then works as a fallback."""
    mfa_service.confirm_sms(db, user=_me(db, principal), code=body.code, now=now,
                            actor=principal, meta=meta)
    return Response(status_code=204)


# ---- sign-in, second step (no session yet: the challenge token from /auth/login) ------------


@router.post("/challenge/sms", status_code=202, dependencies=[IpLimited],
             responses=problem_responses(422, 429))
def challenge_sms(body: ChallengeSmsBody, request: Request, db: SessionDep, now: NowDep,
                  settings: SettingsDep) -> Response:
    """Text a sign-in code to the user's phone (answers 202 whether or not one was sent)."""
    mfa_login.send_challenge_sms(db, token=body.mfa_token, provider=get_sms_provider(request),
                                 now=now, settings=settings)
    return Response(status_code=202)


@router.post("/challenge", response_model=LoginRead, dependencies=[IpLimited],
             responses=problem_responses(401, 422, 429))
def complete_challenge(body: ChallengeBody, request: Request, db: SessionDep, now: NowDep,
                       meta: MetaDep, settings: SettingsDep) -> LoginRead | JSONResponse:
    """Finish signing in with a TOTP, backup or SMS code and the challenge token."""
    result = mfa_login.complete_challenge(db, token=body.mfa_token, code=body.code, now=now,
                                          meta=meta, settings=settings)
    if not result.ok:
        # Returned, not raised: the failure counts toward the lockout and must commit.
        return problem_response(401, "mfa_failed", "Sign-in failed", mfa_login.CHALLENGE_FAILED,
                                instance=request.url.path)
    assert result.user and result.session and result.token
    user, row = result.user, result.session
    return LoginRead(
        token=result.token, session_id=row.id, expires_at=row.expires,
        idle_expires_at=sessions_service.idle_expiry(row, settings),
        user=UserRead(id=user.id, email=user.email, name=user.name,
                      is_super_admin=user.is_super_admin),
        stores=[StoreAccess(id=m.store_id, name=m.store_name, slug=m.store_slug, role=m.role,
                            permissions=sorted(m.permissions))
                for m in sessions_service.memberships(db, user.id)],
    )

"""Email verification and password reset by emailed single-use tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from server.api.deps import (
    SELF,
    IpLimited,
    MetaDep,
    NowDep,
    SessionDep,
    SettingsDep,
    enforce_rate,
    require_permission,
)
from server.api.errors import problem_responses
from server.identity import tokens_service
from server.identity.mail import (
    MailSender,
    MailSettings,
    OutgoingMail,
    deliver,
    sender_from_settings,
)
from server.identity.models import User
from server.identity.principal import Principal
from server.identity.schemas import Email, Password

router = APIRouter(prefix="/auth", tags=["auth"])
Me = Annotated[Principal, require_permission(SELF)]
Token = Annotated[str, Field(min_length=10, max_length=200)]
RESET_REQUESTS_PER_HOUR = 5  # per IP, on top of the anonymous limit


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Token


class ForgotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Email


class ResetBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Token
    new_password: Password


class EmailVerifiedRead(BaseModel):
    email: str
    email_verified: datetime


def get_mail_settings(request: Request) -> MailSettings:
    settings: MailSettings | None = getattr(request.app.state, "mail_settings", None)
    if settings is None:
        settings = MailSettings()
        request.app.state.mail_settings = settings
    return settings


def get_mail_sender(request: Request) -> MailSender:
    """The app's mail sender (``app.state.mail_sender``; made from settings on first use)."""
    sender: MailSender | None = getattr(request.app.state, "mail_sender", None)
    if sender is None:
        sender = sender_from_settings(get_mail_settings(request))
        request.app.state.mail_sender = sender
    return sender


def _send_later(tasks: BackgroundTasks, request: Request, mail: OutgoingMail) -> None:
    """Send after the response (and after the commit): no timing difference, no SMTP wait."""
    tasks.add_task(deliver, get_mail_sender(request), mail,
                   from_address=get_mail_settings(request).from_address)


@router.post("/email/verification", status_code=202,
             responses={204: {"description": "The address is already confirmed"},
                        **problem_responses(401, 403)})
def request_verification(request: Request, tasks: BackgroundTasks, db: SessionDep,
                         principal: Me, now: NowDep, meta: MetaDep) -> Response:
    """Email me a link (valid 24 hours) that confirms my address. 204 if already confirmed."""
    user = db.get(User, principal.user_id)
    assert user is not None
    issued = tokens_service.request_email_verification(db, user=user, now=now, meta=meta)
    if issued is None:
        return Response(status_code=204)
    _send_later(tasks, request, tokens_service.verification_mail(
        issued, app_url=get_mail_settings(request).app_url))
    return Response(status_code=202)


@router.post("/email/verify", response_model=EmailVerifiedRead, dependencies=[IpLimited],
             responses=problem_responses(400, 422, 429))
def verify_email(body: TokenBody, db: SessionDep, now: NowDep, meta: MetaDep) -> EmailVerifiedRead:
    """Confirm an email address with the token from the mail (single use)."""
    user = tokens_service.verify_email(db, token=body.token, now=now, meta=meta)
    assert user.email_verified is not None
    return EmailVerifiedRead(email=user.email, email_verified=user.email_verified)


@router.post("/password/forgot", status_code=202, dependencies=[IpLimited],
             responses=problem_responses(422, 429))
def forgot_password(body: ForgotBody, request: Request, tasks: BackgroundTasks, db: SessionDep,
                    now: NowDep, meta: MetaDep) -> Response:
    """Email a password-reset link (valid 1 hour). The answer is the same whether or not the
    email belongs to an account."""
    enforce_rate(request, f"password-forgot:{meta.ip or 'unknown'}", RESET_REQUESTS_PER_HOUR,
                 3600)
    issued = tokens_service.request_password_reset(db, email=body.email, now=now, meta=meta)
    if issued is not None:
        _send_later(tasks, request, tokens_service.reset_mail(
            issued, app_url=get_mail_settings(request).app_url))
    return Response(status_code=202)


@router.post("/password/reset", status_code=204, dependencies=[IpLimited],
             responses=problem_responses(400, 422, 429))
def reset_password(body: ResetBody, db: SessionDep, now: NowDep, meta: MetaDep,
                   settings: SettingsDep) -> Response:
    """Choose a new password with the emailed token. Every session of the account ends."""
    tokens_service.reset_password(db, token=body.token, new_password=body.new_password,
                                  now=now, settings=settings, meta=meta)
    return Response(status_code=204)

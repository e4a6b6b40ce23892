"""Manager approval at the till, my POS PIN, and PIN sign-in at a paired terminal."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from server.api.deps import (
    SELF,
    CurrentTenant,
    MetaDep,
    NowDep,
    SessionDep,
    SettingsDep,
    enforce_rate,
    require_permission,
)
from server.api.errors import from_service_error, problem_response, problem_responses
from server.identity import approvals_service, sessions_service
from server.identity.principal import Principal
from server.identity.schemas import Password, TokenRead, UserRead

router = APIRouter(prefix="/pos", tags=["pos"])
pin_router = APIRouter(prefix="/auth", tags=["auth"])
Me = Annotated[Principal, require_permission(SELF)]
Seller = Annotated[Principal, require_permission("pos.sell")]
Terminal = Annotated[Principal, require_permission("pos.pin_login")]

Pin = Annotated[str, StringConstraints(pattern=r"^\d{4,8}$")]
Secret = Annotated[str, Field(min_length=4, max_length=200, description="PIN or password")]
UserRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
PIN_ATTEMPTS_PER_5_MIN = 20  # per terminal


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permission: Annotated[str, Field(examples=["pos.price_override"],
                                     description="One of the POS approval permissions")]
    action: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=100)] = Field(
        description="What is approved, e.g. 'price_override' or 'refund'")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)]
    approver: UserRef = Field(description="The approver's email or user id")
    secret: Secret
    context: dict[str, Any] = Field(default_factory=dict,
                                    description="e.g. {'line': ..., 'old_price': '9.99'}")


class ApprovalRead(BaseModel):
    approval_id: str
    approval_token: str = Field(description="Single use; attach it to the approved action")
    expires_at: datetime
    permission: str
    approver_id: str
    approver_name: str | None


class PinSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pin: Pin
    current_password: Password


class PinLoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: UserRef = Field(description="The staff member's email or user id")
    pin: Pin


class PinLoginRead(TokenRead):
    user: UserRead


@router.post("/approvals", response_model=ApprovalRead, status_code=201,
             responses=problem_responses(401, 403, 422, 429))
def approve(body: ApprovalCreate, request: Request, db: SessionDep, principal: Seller,
            store_id: CurrentTenant, now: NowDep, meta: MetaDep,
            settings: SettingsDep) -> ApprovalRead | JSONResponse:
    """A manager approves a cashier's action on the spot with their PIN or password."""
    enforce_rate(request, f"approval:{principal.user_id or principal.device_id}",
                 PIN_ATTEMPTS_PER_5_MIN, 300)
    try:
        approval = approvals_service.approve(
            db, requester=principal, store_id=store_id, permission=body.permission,
            action=body.action, reason=body.reason, approver_ref=body.approver,
            secret=body.secret, now=now, settings=settings,
            dummy_hash=request.app.state.dummy_hash, context=body.context, meta=meta,
        )
    except approvals_service.ApprovalRefused as exc:
        # Returned, not raised: the failed attempt counts toward the lockout and must commit.
        return from_service_error(exc, request.url.path)
    return ApprovalRead(approval_id=approval.id, approval_token=approval.token,
                        expires_at=approval.expires_at, permission=approval.permission,
                        approver_id=approval.approver_id, approver_name=approval.approver_name)


@pin_router.put("/pin", status_code=204, responses=problem_responses(401, 403, 422))
def set_pin(body: PinSet, db: SessionDep, principal: Me, now: NowDep, meta: MetaDep,
            settings: SettingsDep) -> Response:
    """Set or change my POS PIN (4-8 digits) with my password."""
    approvals_service.set_pin(db, actor=principal, pin=body.pin,
                              current_password=body.current_password, now=now,
                              settings=settings, meta=meta)
    return Response(status_code=204)


@pin_router.delete("/pin", status_code=204, responses=problem_responses(401, 403))
def clear_pin(db: SessionDep, principal: Me, meta: MetaDep) -> Response:
    """Remove my POS PIN (PIN sign-in and PIN approvals stop working for me)."""
    approvals_service.clear_pin(db, actor=principal, meta=meta)
    return Response(status_code=204)


@router.post("/pin-login", response_model=PinLoginRead,
             responses=problem_responses(401, 403, 422, 429))
def pin_login(body: PinLoginBody, request: Request, db: SessionDep, terminal: Terminal,
              now: NowDep, meta: MetaDep, settings: SettingsDep) -> PinLoginRead | JSONResponse:
    """Sign a cashier in at this terminal with their PIN (the terminal's token authenticates
    the request). Returns a staff session token that lasts at most 12 hours."""
    enforce_rate(request, f"pin-login:{terminal.device_id}", PIN_ATTEMPTS_PER_5_MIN, 300)
    result = approvals_service.pin_login(
        db, device=terminal, user_ref=body.user, pin=body.pin, now=now, settings=settings,
        meta=meta, dummy_hash=request.app.state.dummy_hash,
    )
    if not result.ok:
        return problem_response(401, "invalid_credentials", "Sign-in failed",
                                approvals_service.PIN_LOGIN_FAILED, instance=request.url.path)
    assert result.user and result.session and result.token
    user, row = result.user, result.session
    return PinLoginRead(
        token=result.token, session_id=row.id, expires_at=row.expires,
        idle_expires_at=sessions_service.idle_expiry(row, settings),
        user=UserRead(id=user.id, email=user.email, name=user.name,
                      is_super_admin=user.is_super_admin),
    )

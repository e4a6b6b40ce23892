"""Sign-in, sign-out, token refresh, password change and the caller's sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

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
from server.api.errors import problem_response, problem_responses
from server.identity import auth_service, sessions_service
from server.identity.models import User
from server.identity.principal import Principal
from server.identity.schemas import (
    LoginRead,
    LoginRequest,
    MeRead,
    PasswordChange,
    RevokedRead,
    SessionRead,
    StoreAccess,
    TokenRead,
    UserRead,
)
from server.identity.sessions_service import Membership

router = APIRouter(prefix="/auth", tags=["auth"])
Me = Annotated[Principal, require_permission(SELF)]


def _stores(rows: list[Membership]) -> list[StoreAccess]:
    return [StoreAccess(id=m.store_id, name=m.store_name, slug=m.store_slug, role=m.role,
                        permissions=sorted(m.permissions)) for m in rows]


def _user(user: User) -> UserRead:
    return UserRead(id=user.id, email=user.email, name=user.name,
                    is_super_admin=user.is_super_admin)


@router.post("/login", response_model=LoginRead, dependencies=[IpLimited],
             responses=problem_responses(401, 422, 429))
def login(
    body: LoginRequest, request: Request, db: SessionDep, settings: SettingsDep, now: NowDep,
    meta: MetaDep,
) -> LoginRead | JSONResponse:
    """Sign in with email and password. The answer never says whether the email exists."""
    enforce_rate(request, f"login-ip:{meta.ip or 'unknown'}", settings.login_ip_limit,
                 settings.login_ip_period_seconds)
    result = auth_service.login(
        db, email=body.email, password=body.password, now=now, meta=meta, settings=settings,
        dummy_hash=request.app.state.dummy_hash,
    )
    if result.mfa_token is not None:
        # Returned, not raised: the challenge row must commit.
        return problem_response(
            401, "mfa_required", "Second factor required",
            "Send a code from the authenticator app, a backup code or an SMS code to "
            "/api/v1/auth/mfa/challenge with this mfa_token.",
            instance=request.url.path, mfa_token=result.mfa_token)
    if not result.ok:
        # Returned, not raised: the failure (lockout counter, audit row) must commit.
        return problem_response(401, "invalid_credentials", "Sign-in failed",
                                auth_service.LOGIN_FAILED, instance=request.url.path)
    assert result.user and result.session and result.token
    row = result.session
    return LoginRead(
        token=result.token, session_id=row.id, expires_at=row.expires,
        idle_expires_at=sessions_service.idle_expiry(row, settings),
        user=_user(result.user),
        stores=_stores(sessions_service.memberships(db, result.user.id)),
    )


@router.post("/logout", status_code=204, responses=problem_responses(401))
def logout(db: SessionDep, principal: Me, meta: MetaDep) -> Response:
    """Sign out: this session's token stops working at once."""
    sessions_service.logout(db, principal=principal, meta=meta)
    return Response(status_code=204)


@router.post("/refresh", response_model=TokenRead, responses=problem_responses(401))
def refresh(
    db: SessionDep, principal: Me, now: NowDep, meta: MetaDep, settings: SettingsDep
) -> TokenRead:
    """Swap the current token for a new one (same session; the old token stops working)."""
    row, token = sessions_service.refresh(db, principal=principal, now=now, meta=meta)
    return TokenRead(token=token, session_id=row.id, expires_at=row.expires,
                     idle_expires_at=sessions_service.idle_expiry(row, settings))


@router.get("/me", response_model=MeRead, responses=problem_responses(401, 403))
def me(db: SessionDep, principal: Me) -> MeRead:
    """Who I am, my stores, and what I may do in the current one."""
    user = db.get(User, principal.user_id)
    assert user is not None
    return MeRead(
        user=_user(user), stores=_stores(sessions_service.memberships(db, user.id)),
        current_store_id=principal.store_id, role=principal.role,
        permissions=sorted(principal.permissions), read_only=principal.cross_store,
    )


@router.post("/password", status_code=204, responses=problem_responses(401, 403, 422))
def change_password(
    body: PasswordChange, db: SessionDep, principal: Me, now: NowDep, meta: MetaDep,
    settings: SettingsDep,
) -> Response:
    """Change my password (policy and last-5 history apply); my other sessions are signed out."""
    auth_service.change_password(
        db, principal=principal, current_password=body.current_password,
        new_password=body.new_password, now=now, meta=meta, settings=settings,
    )
    return Response(status_code=204)


@router.get("/sessions", response_model=list[SessionRead], responses=problem_responses(401))
def list_sessions(
    db: SessionDep, principal: Me, now: NowDep, settings: SettingsDep
) -> list[SessionRead]:
    """My signed-in sessions: device (user agent), IP and last activity."""
    assert principal.user_id is not None
    return [
        SessionRead(id=r.id, user_agent=r.user_agent, ip_address=r.ip_address,
                    created_at=r.created_at, last_active_at=r.last_active_at,
                    expires_at=sessions_service.idle_expiry(r, settings),
                    current=r.id == principal.session_id)
        for r in sessions_service.list_active(db, user_id=principal.user_id, now=now,
                                              settings=settings)
    ]


@router.delete("/sessions/{session_id}", status_code=204, responses=problem_responses(401, 404))
def revoke_session(session_id: str, db: SessionDep, principal: Me, meta: MetaDep) -> Response:
    """Sign out one of my sessions."""
    sessions_service.revoke(db, principal=principal, session_id=session_id, meta=meta)
    return Response(status_code=204)


@router.post("/sessions/revoke-others", response_model=RevokedRead,
             responses=problem_responses(401))
def revoke_other_sessions(db: SessionDep, principal: Me, meta: MetaDep) -> RevokedRead:
    """Sign out all my sessions except this one."""
    return RevokedRead(revoked=sessions_service.revoke_others(db, principal=principal, meta=meta))



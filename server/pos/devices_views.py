"""POS terminals: pairing codes and revocation (back office), enrolment and tokens (terminal).

Importing this module registers the ``std_`` bearer-token authenticator, so a terminal's access
token authenticates as ``Principal(kind="device")`` of its store on every route.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.orm import Session

from server.api.deps import (
    CurrentStore,
    CurrentTenant,
    IpLimited,
    MetaDep,
    NowDep,
    SessionDep,
    register_authenticator,
    require_permission,
)
from server.api.errors import problem_responses
from server.config import Settings
from server.identity.principal import Principal, RequestMeta
from server.pos import devices_service
from server.pos.models import Device

router = APIRouter(prefix="/devices", tags=["devices"])
Manager = Annotated[Principal, require_permission("devices.manage")]
ThisDevice = Annotated[Principal, require_permission(devices_service.DEVICE_SELF)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
AppVersion = Annotated[str | None, Field(default=None, max_length=64)]


def _authenticate(db: Session, token: str, *, store_id: str | None, now: datetime,
                  meta: RequestMeta, settings: Settings) -> Principal | None:
    return devices_service.authenticate_device_token(db, token, now)


register_authenticator(devices_service.TOKEN_PREFIX, _authenticate)


def get_device_settings(request: Request) -> devices_service.DeviceSettings:
    settings: devices_service.DeviceSettings | None = getattr(
        request.app.state, "device_settings", None)
    if settings is None:
        settings = devices_service.DeviceSettings()
        request.app.state.device_settings = settings
    return settings


class PairingCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name = Field(description="What staff call the till, e.g. 'Till 2'")
    expires_in_minutes: int | None = Field(
        default=None, ge=15, le=24 * 60,
        description="15 minutes to 24 hours; STORMCOM_DEVICES_PAIRING_MINUTES by default")
    device_id: str | None = Field(default=None, max_length=32,
                                  description="Re-pair this existing terminal instead")


class PairingRead(BaseModel):
    device_id: str
    terminal_number: int
    pairing_code: str = Field(description="Single use; type it on the terminal")
    expires_at: datetime


class DeviceRead(BaseModel):
    id: str
    name: str
    terminal_number: int
    state: str = Field(description="PENDING, EXPIRED, ACTIVE or REVOKED")
    paired_at: datetime | None
    revoked_at: datetime | None
    last_seen_at: datetime | None
    app_version: str | None
    last_pushed_seq: int
    last_pulled_cursor: int


class RevokeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str | None, Field(default=None, max_length=500)] = None


class EnrolBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pairing_code: Annotated[str, Field(min_length=8, max_length=40)]
    app_version: AppVersion = None


class EnrolmentRead(BaseModel):
    device_id: str
    store_id: str
    terminal_number: int
    name: str
    credential: str = Field(description="Shown once: keep it in the terminal's secure storage")


class TokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    credential: Annotated[str, Field(min_length=10, max_length=200)]
    app_version: AppVersion = None


class DeviceTokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    expires_in: int = Field(description="Seconds")
    device_id: str
    store_id: str


def _read(device: Device, now: datetime) -> DeviceRead:
    return DeviceRead(
        id=device.id, name=device.name, terminal_number=device.terminal_number,
        state=devices_service.state(device, now), paired_at=device.paired_at,
        revoked_at=device.revoked_at, last_seen_at=device.last_seen_at,
        app_version=device.app_version, last_pushed_seq=device.last_pushed_seq,
        last_pulled_cursor=device.last_pulled_cursor,
    )


@router.post("/pairing-codes", response_model=PairingRead, status_code=201,
             responses=problem_responses(401, 403, 404, 422))
def create_pairing_code(body: PairingCreate, request: Request, db: SessionDep,
                        principal: Manager, store: CurrentStore, now: NowDep,
                        meta: MetaDep) -> PairingRead:
    """A single-use code that pairs a new terminal (or re-pairs ``device_id``)."""
    minutes = body.expires_in_minutes or get_device_settings(request).pairing_minutes
    pairing = devices_service.create_pairing(
        db, actor=principal, store=store, name=body.name, now=now,
        lifetime=timedelta(minutes=minutes), device_id=body.device_id, meta=meta)
    return PairingRead(device_id=pairing.device.id,
                       terminal_number=pairing.device.terminal_number,
                       pairing_code=pairing.code, expires_at=pairing.expires_at)


@router.get("", response_model=list[DeviceRead], responses=problem_responses(401, 403))
def list_devices(db: SessionDep, principal: Manager, store_id: CurrentTenant,
                 now: NowDep) -> list[DeviceRead]:
    """The store's terminals."""
    return [_read(d, now) for d in devices_service.list_(db, store_id=store_id)]


@router.get("/me", response_model=DeviceRead, responses=problem_responses(401, 403))
def this_device(db: SessionDep, device: ThisDevice, now: NowDep) -> DeviceRead:
    """The calling terminal (device token only)."""
    assert device.store_id and device.device_id
    return _read(devices_service.get(db, store_id=device.store_id, device_id=device.device_id),
                 now)


@router.get("/{device_id}", response_model=DeviceRead, responses=problem_responses(401, 403, 404))
def get_device(device_id: str, db: SessionDep, principal: Manager, store_id: CurrentTenant,
               now: NowDep) -> DeviceRead:
    return _read(devices_service.get(db, store_id=store_id, device_id=device_id), now)


@router.post("/{device_id}/revoke", response_model=DeviceRead,
             responses=problem_responses(401, 403, 404, 409))
def revoke_device(device_id: str, db: SessionDep, principal: Manager, store_id: CurrentTenant,
                  now: NowDep, meta: MetaDep, body: RevokeBody | None = None) -> DeviceRead:
    """Revoke a terminal: its credential and access tokens stop working at once."""
    device = devices_service.revoke(db, actor=principal, store_id=store_id, device_id=device_id,
                                    now=now, reason=body.reason if body else None, meta=meta)
    return _read(device, now)


@router.post("/enrol", response_model=EnrolmentRead, status_code=201, dependencies=[IpLimited],
             responses=problem_responses(400, 403, 422, 429))
def enrol(body: EnrolBody, db: SessionDep, now: NowDep, meta: MetaDep) -> EnrolmentRead:
    """A terminal pairs itself with a code (no sign-in) and receives its credential, once."""
    result = devices_service.enrol(db, code=body.pairing_code, now=now,
                                   app_version=body.app_version, meta=meta)
    d = result.device
    return EnrolmentRead(device_id=d.id, store_id=d.store_id, terminal_number=d.terminal_number,
                         name=d.name, credential=result.credential)


@router.post("/token", response_model=DeviceTokenRead, dependencies=[IpLimited],
             responses=problem_responses(401, 422, 429))
def device_token(body: TokenBody, request: Request, db: SessionDep,
                 now: NowDep) -> DeviceTokenRead:
    """Trade the device credential for a short-lived access token (Bearer ``std_...``)."""
    minutes = get_device_settings(request).access_token_minutes
    issued = devices_service.issue_access_token(
        db, credential=body.credential, now=now, lifetime=timedelta(minutes=minutes),
        app_version=body.app_version)
    return DeviceTokenRead(access_token=issued.token, expires_at=issued.expires_at,
                           expires_in=minutes * 60, device_id=issued.device.id,
                           store_id=issued.device.store_id)

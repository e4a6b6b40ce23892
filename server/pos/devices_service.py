"""POS terminals: pairing, enrolment, device credentials, access tokens and revocation.

The life of a terminal:

1. A manager (``devices.manage``) creates a pairing code for a new or an existing terminal. The
   code is single use and lives 15 minutes to 24 hours (``STORMCOM_DEVICES_PAIRING_MINUTES``,
   60 by default). It is shown as ``<STORE CODE>-XXXX-XXXX``: the store code lets the server
   find the store before it knows the device, so the lookup stays inside one store (tenancy
   filter and row-level security). The bare ``XXXX-XXXX`` is accepted too; that lookup
   crosses stores (see :func:`_find_pending`).
2. The terminal enrols with the code (no user sign-in) and receives its **credential**
   ``sdc_<store id>.<secret>``, shown once; only its SHA-256 is stored (``Device.credential_hash``).
3. The terminal trades the credential for an **access token** ``std_<store id>.<secret>``
   (15 minutes by default, ``STORMCOM_DEVICES_ACCESS_TOKEN_MINUTES``), stored hashed in
   ``DeviceToken``, and sends it as ``Authorization: Bearer``. :func:`authenticate_device_token`
   turns it into a ``Principal(kind="device")`` of the device's store.
4. Revoking a device clears its credential and deletes its tokens in the same transaction, so
   both stop working at once.

Tokens carry their store id so each lookup runs with that store already current; a forged
prefix finds nothing. Nothing here commits.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from server.audit import service as audit_service
from server.clock import as_utc
from server.db.tenancy import current_store, set_current_store
from server.errors import Conflict, Invalid, NotFound, ServiceError
from server.identity.hashing import hash_token, new_token
from server.identity.principal import Principal, RequestMeta
from server.pos.models import Device, DeviceStatus, DeviceToken
from server.seed.operators import create_pairing_code, reissue_pairing_code
from server.stores import plan_service
from server.stores.models import Store

CREDENTIAL_PREFIX = "sdc_"
TOKEN_PREFIX = "std_"
MIN_PAIRING = timedelta(minutes=15)
MAX_PAIRING = timedelta(hours=24)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most once a minute
DEVICE_SELF = "device.self"
# What a terminal itself may do (staff actions at the till go through a staff session).
DEVICE_PERMISSIONS = frozenset({DEVICE_SELF, "sync.pull", "sync.push", "pos.pin_login"})
_STORE_ID = re.compile(r"[a-z0-9]{1,32}")


class DeviceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORMCOM_DEVICES_", extra="ignore")

    pairing_minutes: int = Field(default=60, ge=15, le=24 * 60)
    access_token_minutes: int = Field(default=15, ge=1, le=60)


class PairingInvalid(ServiceError):
    status = 400
    default_code = "pairing_code_invalid"
    default_title = "Pairing code not valid"


class CredentialInvalid(ServiceError):
    status = 401
    default_code = "device_credential_invalid"
    default_title = "Device credential not valid"


@dataclass(frozen=True, slots=True)
class Pairing:
    device: Device
    code: str  # as shown: <STORE CODE>-XXXX-XXXX
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Enrolment:
    device: Device
    credential: str


@dataclass(frozen=True, slots=True)
class AccessToken:
    device: Device
    token: str
    expires_at: datetime


def device_actor(device: Device) -> Principal:
    return Principal(kind="device", device_id=device.id, store_id=device.store_id,
                     permissions=DEVICE_PERMISSIONS, store_ids=(device.store_id,))


def _split(token: str, prefix: str) -> tuple[str, str] | None:
    """``<prefix><store id>.<secret>`` -> (store id, secret), or None if malformed."""
    if not token.startswith(prefix):
        return None
    store_id, dot, secret = token[len(prefix):].partition(".")
    if not dot or not secret or not _STORE_ID.fullmatch(store_id):
        return None
    return store_id, secret


# ---- pairing --------------------------------------------------------------------------------


def create_pairing(
    session: Session, *, actor: Principal, store: Store, name: str, now: datetime,
    lifetime: timedelta, device_id: str | None = None, meta: RequestMeta | None = None,
) -> Pairing:
    """A single-use pairing code for a new terminal, or to re-pair ``device_id`` (a replaced
    till keeps its terminal number; its old credential and tokens stop working)."""
    if not MIN_PAIRING <= lifetime <= MAX_PAIRING:
        raise Invalid("A pairing code lives between 15 minutes and 24 hours.",
                      code="pairing_lifetime_invalid")
    plan_service.require_pos_access(session, store_id=store.id, now=now)
    if device_id is None:
        device, code = create_pairing_code(session, store=store, name=name, now=now,
                                           lifetime=lifetime)
        action = "device.create"
    else:
        device = get(session, store_id=store.id, device_id=device_id)
        _disable_credentials(session, device)
        device.name = name or device.name
        device.status = DeviceStatus.ACTIVE
        device.revoked_at = None
        code = reissue_pairing_code(session, device=device, now=now, lifetime=lifetime)
        action = "device.repair"
    audit_service.record(session, actor=actor, action=action, entity_type="device",
                         entity_id=device.id, after=_view(device), request_meta=meta)
    session.flush()
    return Pairing(device=device, code=f"{store.code}-{code}",
                   expires_at=now + lifetime)


def _find_pending(session: Session, code: str) -> Device | None:
    raw = re.sub(r"[^A-Za-z0-9]", "", code or "").upper()
    if len(raw) < 8:
        return None
    secret, store_code = raw[-8:], raw[:-8]
    stmt = select(Device).where(Device.pairing_code_hash == hash_token(secret))
    if store_code:
        store = session.scalar(select(Store).where(Store.code == store_code,
                                                   Store.deleted_at.is_(None)))
        if store is None:
            return None
        set_current_store(session, store.id)
        return session.scalar(stmt)
    # A bare code: find its store first. This crosses stores by design (named bypass); under
    # row-level security as the application role it finds nothing, so terminals should be
    # given the full code with its store prefix, as the API shows it.
    device = session.scalar(stmt.execution_options(all_stores=True))
    if device is not None:
        set_current_store(session, device.store_id)
    return device


def enrol(
    session: Session, *, code: str, now: datetime, app_version: str | None = None,
    meta: RequestMeta | None = None,
) -> Enrolment:
    """Pair a terminal with its code; returns the device and its credential (shown once)."""
    device = _find_pending(session, code)
    expires = device.pairing_code_expires_at if device else None
    if (device is None or device.status is not DeviceStatus.ACTIVE or expires is None
            or now >= as_utc(expires)):
        set_current_store(session, None)
        raise PairingInvalid("This pairing code is not valid or has expired. Ask a manager for "
                             "a new one.")
    plan_service.require_pos_access(session, store_id=device.store_id, now=now)
    credential = f"{CREDENTIAL_PREFIX}{device.store_id}.{new_token(32)}"
    device.credential_hash = hash_token(credential)
    device.pairing_code_hash = None
    device.pairing_code_expires_at = None
    device.paired_at = now
    device.last_seen_at = now
    if app_version:
        device.app_version = app_version[:64]
    audit_service.record(session, actor=device_actor(device), action="device.enrol",
                         entity_type="device", entity_id=device.id, after=_view(device),
                         request_meta=meta)
    session.flush()
    return Enrolment(device=device, credential=credential)


# ---- credential -> access token -> principal ------------------------------------------------


def issue_access_token(
    session: Session, *, credential: str, now: datetime, lifetime: timedelta,
    app_version: str | None = None,
) -> AccessToken:
    """Trade a device credential for a short-lived access token."""
    parts = _split(credential or "", CREDENTIAL_PREFIX)
    if parts is None:
        raise CredentialInvalid("This device credential is not valid. Pair the terminal again.")
    set_current_store(session, parts[0])
    device = session.scalar(select(Device).where(Device.credential_hash == hash_token(credential)))
    if device is None or device.status is not DeviceStatus.ACTIVE:
        set_current_store(session, None)
        raise CredentialInvalid("This device credential is not valid or the terminal was "
                                "revoked. Pair the terminal again.")
    session.execute(delete(DeviceToken).where(DeviceToken.device_id == device.id,
                                              DeviceToken.expires_at <= now))
    token = f"{TOKEN_PREFIX}{device.store_id}.{new_token(32)}"
    expires = now + lifetime
    session.add(DeviceToken(store_id=device.store_id, device_id=device.id,
                            token_hash=hash_token(token), expires_at=expires))
    device.last_seen_at = now
    if app_version:
        device.app_version = app_version[:64]
    audit_service.mark_housekeeping(session, Device, DeviceToken)
    session.flush()
    return AccessToken(device=device, token=token, expires_at=expires)


def authenticate_device_token(session: Session, token: str, now: datetime) -> Principal | None:
    """The ``std_`` authenticator: a live token of an active device -> its Principal, else None.
    Leaves the device's store current on the session."""
    parts = _split(token or "", TOKEN_PREFIX)
    if parts is None:
        return None
    before = current_store(session)
    set_current_store(session, parts[0])
    # Columns, not entities: every terminal request passes here, and loading two ORM rows
    # cost a tenth of a one-sale push.
    row = session.execute(
        select(DeviceToken.expires_at, Device.id, Device.store_id, Device.status,
               Device.last_seen_at, plan_service.plan_slug_of(Device.store_id))
        .join(Device, Device.id == DeviceToken.device_id)
        .where(DeviceToken.token_hash == hash_token(token))
    ).first()
    if row is None:
        set_current_store(session, before)
        return None
    expires_at, device_id, store_id, status, last_seen_at, plan_slug = row
    if now >= as_utc(expires_at) or status is not DeviceStatus.ACTIVE:
        set_current_store(session, before)
        return None
    if last_seen_at is None or now - as_utc(last_seen_at) >= TOUCH_EVERY:
        session.execute(update(Device).where(Device.id == device_id).values(last_seen_at=now)
                        .execution_options(synchronize_session=False))
        audit_service.mark_housekeeping(session, Device)
    plan = plan_service.plan_named(plan_slug)
    return Principal(kind="device", device_id=device_id, store_id=store_id,
                     permissions=DEVICE_PERMISSIONS, store_ids=(store_id,),
                     rate_limit=plan.api_rate_limit)


# ---- back office ----------------------------------------------------------------------------


def list_(session: Session, *, store_id: str) -> Sequence[Device]:
    return session.scalars(
        select(Device).where(Device.store_id == store_id).order_by(Device.terminal_number)
    ).all()


def get(session: Session, *, store_id: str, device_id: str) -> Device:
    """The device of the current store (another store's id: NotFound, never a hint)."""
    device = session.scalar(
        select(Device).where(Device.id == device_id, Device.store_id == store_id)
    )
    if device is None:
        raise NotFound("There is no terminal with that id in this store.")
    return device


def _disable_credentials(session: Session, device: Device) -> None:
    device.credential_hash = None
    session.execute(delete(DeviceToken).where(DeviceToken.device_id == device.id))


def revoke(
    session: Session, *, actor: Principal, store_id: str, device_id: str, now: datetime,
    reason: str | None = None, meta: RequestMeta | None = None,
) -> Device:
    """Revoke a terminal: its credential, pairing code and access tokens stop working now."""
    device = get(session, store_id=store_id, device_id=device_id)
    if device.status is DeviceStatus.REVOKED:
        raise Conflict("This terminal is already revoked.", code="device_already_revoked")
    before = _view(device)
    device.status = DeviceStatus.REVOKED
    device.revoked_at = now
    device.pairing_code_hash = None
    device.pairing_code_expires_at = None
    _disable_credentials(session, device)
    audit_service.record(session, actor=actor, action="device.revoke", entity_type="device",
                         entity_id=device.id, before=before,
                         after={**_view(device), "reason": reason}, request_meta=meta)
    session.flush()
    return device


def state(device: Device, now: datetime) -> str:
    """PENDING (waiting for its code), EXPIRED (code lapsed), ACTIVE or REVOKED."""
    if device.status is DeviceStatus.REVOKED:
        return "REVOKED"
    if device.credential_hash:
        return "ACTIVE"
    expires = device.pairing_code_expires_at
    return "PENDING" if expires and now < as_utc(expires) else "EXPIRED"


def _view(device: Device) -> dict[str, object]:
    return audit_service.snapshot(device)

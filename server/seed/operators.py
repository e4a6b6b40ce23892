"""Operator commands' building blocks: plans, system roles, stores and users.

These add to the session and flush; the caller (the CLI command) owns the transaction.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.identity.hashing import hash_password, hash_token
from server.identity.models import Role, User, UserStore
from server.identity.permissions import (
    SYSTEM_ROLE_DESCRIPTIONS,
    SYSTEM_ROLE_PERMISSIONS,
    SystemRole,
)
from server.pos.models import Device, DeviceStatus
from server.stores.models import Store, StoreSubscription, SubscriptionPlan
from stormcom_pos.domain.enums import SubscriptionStatus
from stormcom_pos.domain.money import minor_units
from stormcom_pos.domain.passwords import WeakPassword, check_password_policy
from stormcom_pos.domain.plans import PLANS

PAIRING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a till
PAIRING_LIFETIME = timedelta(hours=24)


class OperatorError(Exception):
    """An operator request that cannot be done; the message says why."""


def ensure_plans(session: Session) -> dict[str, SubscriptionPlan]:
    """Create or update the four plans with the numbers of product-decisions §4."""
    existing = {p.slug: p for p in session.scalars(select(SubscriptionPlan))}
    for plan in PLANS.values():
        row = existing.get(plan.slug) or SubscriptionPlan(slug=plan.slug)
        row.name, row.tier, row.trial_days = plan.name, plan.tier, plan.trial_days
        row.price = plan.price_usd if plan.price_usd is not None else Decimal(0)
        row.description = "Price on request" if plan.price_usd is None else None
        row.billing_cycle = plan.billing_cycle
        row.max_products, row.max_orders = plan.max_products, plan.max_orders
        row.max_staff, row.max_storage = plan.max_staff, plan.max_storage_mb
        row.api_rate_limit = plan.api_rate_limit
        row.has_pos_access = plan.has_pos_access
        row.has_advanced_reports = plan.has_advanced_reports
        row.has_abandoned_cart = plan.has_abandoned_cart
        row.has_api_access = plan.has_api_access
        row.has_priority_support = plan.has_priority_support
        session.add(row)
        existing[plan.slug] = row
    session.flush()
    return existing


def ensure_system_roles(session: Session) -> dict[SystemRole, Role]:
    """Create or refresh the global system roles and their permission lists."""
    existing = {r.name: r for r in session.scalars(select(Role).where(Role.is_system.is_(True)))}
    roles: dict[SystemRole, Role] = {}
    for role in SystemRole:
        row = existing.get(role.value) or Role(
            name=role.value, slug=role.value.lower(), is_system=True
        )
        row.description = SYSTEM_ROLE_DESCRIPTIONS[role]
        row.permissions = list(SYSTEM_ROLE_PERMISSIONS[role])
        session.add(row)
        roles[role] = row
    session.flush()
    return roles


def create_store(
    session: Session,
    *,
    name: str,
    slug: str,
    email: str,
    currency: str = "USD",
    plan: str = "FREE",
    code: str | None = None,
    now: datetime | None = None,
) -> Store:
    """Create a store on a plan (trial for paid plans), with the system roles in place."""
    now = now or utcnow()
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,62}", slug):
        raise OperatorError(f"store slug {slug!r} must be 2-63 of a-z, 0-9 and '-'")
    if session.scalar(select(Store).where(Store.slug == slug)):
        raise OperatorError(f"a store with slug {slug!r} already exists")
    minor_units(currency)  # raises for an unknown ISO 4217 code
    plans = ensure_plans(session)
    ensure_system_roles(session)
    chosen = plans.get(plan.lower())
    if chosen is None:
        raise OperatorError(
            f"unknown plan {plan!r}; choose one of {', '.join(p.upper() for p in plans)}"
        )
    store_code = (code or re.sub(r"[^A-Z0-9]", "", slug.upper())[:6] or "S").upper()
    if session.scalar(select(Store).where(Store.code == store_code)):
        store_code = f"{store_code[:4]}{secrets.randbelow(100):02d}"
    store = Store(name=name, slug=slug, email=email, currency=currency.upper(), code=store_code)
    session.add(store)
    session.flush()
    trial = chosen.tier > 0
    session.add(
        StoreSubscription(
            store_id=store.id,
            plan_id=chosen.id,
            status=SubscriptionStatus.TRIAL if trial else SubscriptionStatus.ACTIVE,
            start_date=now,
            trial_end_date=now + timedelta(days=chosen.trial_days) if trial else None,
            usage_reset_at=now,
        )
    )
    session.flush()
    return store


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    store_slug: str,
    role: str = "CASHIER",
    pin: str | None = None,
) -> User:
    """Create a staff user (or add an existing one) to a store with a system role."""
    store = session.scalar(
        select(Store).where(Store.slug == store_slug, Store.deleted_at.is_(None))
    )
    if store is None:
        raise OperatorError(f"no store with slug {store_slug!r}")
    roles = ensure_system_roles(session)
    try:
        system_role = SystemRole(role.upper())
    except ValueError as exc:
        raise OperatorError(f"unknown role {role!r}") from exc
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        try:
            check_password_policy(password)
        except WeakPassword as exc:
            raise OperatorError(str(exc)) from exc
        user = User(email=email, name=name, password=hash_password(password))
        session.add(user)
        session.flush()
    elif session.scalar(
        select(UserStore).where(UserStore.user_id == user.id, UserStore.store_id == store.id)
    ):
        raise OperatorError(f"{email} is already staff of {store_slug}")
    if pin is not None:
        if not re.fullmatch(r"\d{4,8}", pin):
            raise OperatorError("a POS PIN is 4 to 8 digits")
        user.pos_pin_hash = hash_password(pin)
    session.add(UserStore(user_id=user.id, store_id=store.id, role_id=roles[system_role].id))
    session.flush()
    return user


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(PAIRING_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def create_pairing_code(
    session: Session,
    *,
    store: Store,
    name: str,
    now: datetime | None = None,
    lifetime: timedelta = PAIRING_LIFETIME,
) -> tuple[Device, str]:
    """A pending terminal with a single-use pairing code valid for ``lifetime``; returns the
    device and the code."""
    now = now or utcnow()
    number = 1 + max(
        (
            d.terminal_number
            for d in session.scalars(select(Device).where(Device.store_id == store.id))
        ),
        default=0,
    )
    device = Device(store_id=store.id, name=name, terminal_number=number)
    code = reissue_pairing_code(session, device=device, now=now, lifetime=lifetime)
    return device, code


def pending_terminal(session: Session, *, store: Store, name: str) -> Device | None:
    """The store's terminal of this name still waiting for its pairing code (not enrolled,
    not revoked), if any."""
    return session.scalar(
        select(Device).where(Device.store_id == store.id, Device.name == name,
                             Device.credential_hash.is_(None),
                             Device.status != DeviceStatus.REVOKED)
        .order_by(Device.terminal_number))


def reissue_pairing_code(session: Session, *, device: Device, now: datetime | None = None,
                         lifetime: timedelta = PAIRING_LIFETIME) -> str:
    """A fresh single-use code for a terminal (new, waiting, or being re-paired); any code it
    had stops working."""
    now = now or utcnow()
    code = new_pairing_code()
    device.pairing_code_hash = hash_token(code.replace("-", ""))
    device.pairing_code_expires_at = now + lifetime
    session.add(device)
    session.flush()
    return code

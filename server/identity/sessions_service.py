"""Staff sessions: opaque bearer tokens stored hashed, 7 days idle and 30 days absolute.

A token is ``stc_`` + 43 url-safe characters (32 random bytes). Only its SHA-256 is stored
(``Session.session_token``), so a database leak yields no usable token. ``refresh`` rotates the
token inside the same session (the old one dies at once); it never extends the absolute
lifetime. Each request authenticates here and resolves its store and permissions afresh.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.clock import as_utc
from server.config import Settings
from server.db.tenancy import set_current_store, set_current_user
from server.errors import Forbidden, NotFound
from server.identity.hashing import hash_token, new_token
from server.identity.models import Role, User, UserStatus, UserStore
from server.identity.models import Session as AuthSession
from server.identity.permissions import READ
from server.identity.principal import Principal, RequestMeta
from server.stores.models import Store, StoreSubscription, SubscriptionPlan
from stormcom_pos.domain.plans import PLANS

TOKEN_PREFIX = "stc_"
TOUCH_EVERY = timedelta(minutes=1)  # last_active_at is written at most once a minute
SELF = "account.self"


@dataclass(frozen=True, slots=True)
class Membership:
    store_id: str
    store_name: str
    store_slug: str
    role: str
    permissions: tuple[str, ...]
    plan_slug: str | None


def new_session_token() -> str:
    return TOKEN_PREFIX + new_token(32)


def create(
    db: Session, *, user: User, now: datetime, meta: RequestMeta, settings: Settings
) -> tuple[AuthSession, str]:
    """A new session for ``user``; returns the row and the clear token (shown once)."""
    token = new_session_token()
    row = AuthSession(
        session_token=hash_token(token),
        user_id=user.id,
        expires=now + timedelta(days=settings.session_absolute_days),
        last_active_at=now,
        ip_address=meta.ip,
        user_agent=meta.user_agent,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    return row, token


def is_live(row: AuthSession, now: datetime, settings: Settings) -> bool:
    if now >= as_utc(row.expires):
        return False
    last = as_utc(row.last_active_at or row.created_at)
    return now < last + timedelta(days=settings.session_idle_days)


def idle_expiry(row: AuthSession, settings: Settings) -> datetime:
    last = as_utc(row.last_active_at or row.created_at)
    return min(as_utc(row.expires), last + timedelta(days=settings.session_idle_days))


# Built once: this runs on every authenticated request.
_MEMBERSHIPS = (
    select(UserStore.store_id, Store.name, Store.slug, Role.name, Role.permissions,
           SubscriptionPlan.slug)
    .join(Role, Role.id == UserStore.role_id)
    .join(Store, Store.id == UserStore.store_id)
    .outerjoin(StoreSubscription, StoreSubscription.store_id == UserStore.store_id)
    .outerjoin(SubscriptionPlan, SubscriptionPlan.id == StoreSubscription.plan_id)
    .where(UserStore.user_id == bindparam("user_id"), UserStore.is_active.is_(True),
           Store.deleted_at.is_(None))
    .order_by(Store.name)
    .execution_options(all_stores=True)
)
_BY_TOKEN = select(AuthSession).where(AuthSession.session_token == bindparam("token_hash"))


def _membership_in(db: Session, user_id: str, store_id: str) -> Membership | None:
    row = db.execute(_MEMBERSHIPS.where(UserStore.store_id == bindparam("store_id")),
                     {"user_id": user_id, "store_id": store_id}).first()
    return Membership(row[0], row[1], row[2], row[3], tuple(row[4] or ()), row[5]) if row else None


def memberships(db: Session, user_id: str) -> list[Membership]:
    """The user's active memberships in live stores, with role and plan (all stores: the user
    may work in several, and this runs before a store is chosen)."""
    set_current_user(db, user_id)  # under RLS, the own-memberships policy admits these rows
    rows = db.execute(_MEMBERSHIPS, {"user_id": user_id}).all()
    return [Membership(r[0], r[1], r[2], r[3], tuple(r[4] or ()), r[5]) for r in rows]


def _plan_rate(plan_slug: str | None) -> int:
    plan = PLANS.get((plan_slug or "free").lower(), PLANS["free"])
    return plan.api_rate_limit


def _store_plan_slug(db: Session, store_id: str) -> str | None:
    return db.scalar(
        select(SubscriptionPlan.slug)
        .join(StoreSubscription, StoreSubscription.plan_id == SubscriptionPlan.id)
        .where(StoreSubscription.store_id == store_id)
        .execution_options(all_stores=True)
    )


def principal_for(
    db: Session, user: User, *, store_id: str | None, session_id: str | None = None
) -> Principal:
    """Resolve the store a user works in for this request and their permissions there.

    Under PostgreSQL row-level security (the server connected as the application role) the
    cross-store membership list needs the ``user_store`` policy to admit the rows of
    ``app.current_user_id``; the store named by ``X-Store-Id`` is checked with that store's
    setting in place, so it works either way.
    """
    set_current_user(db, user.id)
    mine = memberships(db, user.id)
    by_store = {m.store_id: m for m in mine}
    chosen: Membership | None = None
    cross = False
    if store_id:
        chosen = by_store.get(store_id)
        if chosen is None:
            set_current_store(db, store_id)
            chosen = _membership_in(db, user.id, store_id)
        if chosen is None:
            store = db.get(Store, store_id) if user.is_super_admin else None
            if store is None or store.deleted_at is not None:
                raise Forbidden("You are not staff of that store.", code="store_access_denied",
                                title="No access to this store")
            cross = True
    elif len(mine) == 1:
        chosen = mine[0]
    if chosen is not None and chosen.plan_slug is None:
        set_current_store(db, chosen.store_id)  # the plan row is the store's own
        chosen = dataclasses.replace(chosen, plan_slug=_store_plan_slug(db, chosen.store_id))
    common = {
        "kind": "user", "user_id": user.id, "is_super_admin": user.is_super_admin,
        "email": user.email, "session_id": session_id,
        "store_ids": tuple(by_store),
    }
    if cross:
        assert store_id is not None
        return Principal(
            **common, store_id=store_id, cross_store=True, role="SUPER_ADMIN",
            permissions=frozenset([*READ, SELF]),
            rate_limit=_plan_rate(_store_plan_slug(db, store_id)),
        )
    if chosen is None:
        best = max((_plan_rate(m.plan_slug) for m in mine), default=_plan_rate(None))
        return Principal(**common, permissions=frozenset([SELF]), rate_limit=best)
    return Principal(
        **common, store_id=chosen.store_id, role=chosen.role,
        permissions=frozenset([*chosen.permissions, SELF]),
        rate_limit=_plan_rate(chosen.plan_slug),
    )


def _lookup(db: Session, token: str) -> AuthSession | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return db.scalar(_BY_TOKEN, {"token_hash": hash_token(token)})


def authenticate(
    db: Session,
    token: str,
    *,
    store_id: str | None,
    now: datetime,
    meta: RequestMeta,
    settings: Settings,
) -> Principal | None:
    """The ``stc_`` authenticator: a live session of an active user, or None."""
    row = _lookup(db, token)
    if row is None or not is_live(row, now, settings):
        return None
    user = db.get(User, row.user_id)
    if user is None or user.deleted_at is not None or user.status != UserStatus.ACTIVE:
        return None
    last = as_utc(row.last_active_at or row.created_at)
    if now - last >= TOUCH_EVERY or (meta.ip and meta.ip != row.ip_address):
        row.last_active_at = now
        row.ip_address = meta.ip or row.ip_address
        audit.mark_housekeeping(db, AuthSession)
    return principal_for(db, user, store_id=store_id, session_id=row.id)


def current(db: Session, principal: Principal) -> AuthSession:
    row = db.get(AuthSession, principal.session_id) if principal.session_id else None
    if row is None:
        raise NotFound("This session no longer exists.")
    return row


def refresh(
    db: Session, *, principal: Principal, now: datetime, meta: RequestMeta
) -> tuple[AuthSession, str]:
    """Rotate the caller's token: a new token for the same session, the old one dies now."""
    row = current(db, principal)
    token = new_session_token()
    row.session_token = hash_token(token)
    row.last_active_at = now
    audit.record(db, actor=principal, action="session.refresh", entity_type="session",
                 entity_id=row.id, request_meta=meta, store_id=None)
    return row, token


def list_active(
    db: Session, *, user_id: str, now: datetime, settings: Settings
) -> Sequence[AuthSession]:
    rows = db.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id)
        .order_by(AuthSession.last_active_at.desc(), AuthSession.id)
    ).all()
    return [r for r in rows if is_live(r, now, settings)]


def _session_view(row: AuthSession) -> dict[str, object]:
    return {"id": row.id, "ip_address": row.ip_address, "user_agent": row.user_agent}


def logout(db: Session, *, principal: Principal, meta: RequestMeta) -> None:
    row = current(db, principal)
    audit.record(db, actor=principal, action="logout", entity_type="session", entity_id=row.id,
                 before=_session_view(row), request_meta=meta, store_id=None)
    db.delete(row)


def revoke(db: Session, *, principal: Principal, session_id: str, meta: RequestMeta) -> None:
    """Revoke one of the caller's own sessions (someone else's: 404)."""
    row = db.get(AuthSession, session_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound("You have no session with that id.")
    audit.record(db, actor=principal, action="session.revoke", entity_type="session",
                 entity_id=row.id, before=_session_view(row), request_meta=meta, store_id=None)
    db.delete(row)


def revoke_others(db: Session, *, principal: Principal, meta: RequestMeta) -> int:
    """Revoke every session of the caller but the current one; returns how many."""
    assert principal.user_id is not None
    count = revoke_all(db, user_id=principal.user_id, keep=principal.session_id)
    audit.record(db, actor=principal, action="session.revoke_others", entity_type="user",
                 entity_id=principal.user_id, after={"revoked": count}, request_meta=meta,
                 store_id=None)
    return count


def revoke_all(db: Session, *, user_id: str, keep: str | None = None) -> int:
    """Delete a user's sessions (but ``keep``); the caller records the audit row."""
    stmt = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep:
        stmt = stmt.where(AuthSession.id != keep)
    result = db.execute(stmt, execution_options={"synchronize_session": "fetch"})
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_expired(db: Session, *, user_id: str, now: datetime, settings: Settings) -> None:
    """Drop a user's dead sessions (at login): the table only holds live ones for long."""
    idle_cutoff = now - timedelta(days=settings.session_idle_days)
    db.execute(
        delete(AuthSession).where(
            AuthSession.user_id == user_id,
            (AuthSession.expires <= now)
            | (func.coalesce(AuthSession.last_active_at, AuthSession.created_at) < idle_cutoff),
        ),
        execution_options={"synchronize_session": False},
    )

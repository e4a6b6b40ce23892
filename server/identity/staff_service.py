"""Staff of the current store: list, add, change role, deactivate.

Guards: nobody grants a role with permissions they do not hold themselves, or changes someone
whose role holds permissions they lack (a manager cannot demote the owner); nobody changes
their own membership; the last active owner stays. Adding or reactivating staff checks the
plan's staff limit (all active memberships count, the owner included).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.identity.auth_service import normalise_email
from server.identity.hashing import hash_password
from server.identity.models import Role, User, UserStore
from server.identity.permissions import SystemRole
from server.identity.principal import Principal, RequestMeta
from server.stores import plan_service
from stormcom_pos.domain.passwords import WeakPassword, check_password_policy
from stormcom_pos.domain.plans import LimitResource, LimitState


@dataclass(frozen=True, slots=True)
class StaffMember:
    membership: UserStore
    user: User
    role: Role
    warning: str | None = None


def _view(m: UserStore) -> dict[str, object]:
    return {"user_id": m.user_id, "role": m.role.name, "is_active": m.is_active}


def list_(db: Session, *, store_id: str) -> Sequence[StaffMember]:
    rows = db.execute(
        select(UserStore, User, Role)
        .join(User, User.id == UserStore.user_id)
        .join(Role, Role.id == UserStore.role_id)
        .where(UserStore.store_id == store_id, User.deleted_at.is_(None))
        .order_by(User.email)
    ).all()
    return [StaffMember(m, u, r) for m, u, r in rows]


def list_roles(db: Session) -> Sequence[Role]:
    return db.scalars(select(Role).where(Role.is_system.is_(True)).order_by(Role.name)).all()


def _role(db: Session, name: str) -> Role:
    role = db.scalar(select(Role).where(Role.name == SystemRole(name).value))
    if role is None:
        raise Invalid(f"There is no role {name}.", code="unknown_role")
    return role


def _may_grant(actor: Principal, role: Role) -> None:
    missing = set(role.permissions) - set(actor.permissions)
    if missing:
        raise Forbidden(f"You cannot grant the {role.name} role: it has permissions you lack.",
                        code="role_above_yours", title="Role above yours")


def _member(db: Session, *, store_id: str, user_id: str) -> UserStore:
    m = db.scalar(select(UserStore).where(UserStore.store_id == store_id,
                                          UserStore.user_id == user_id))
    if m is None:
        raise NotFound("No staff member with that id in this store.")
    return m


def _stores_of(db: Session, user_id: str) -> set[str]:
    return set(db.scalars(select(UserStore.store_id).where(UserStore.user_id == user_id)
                          .execution_options(all_stores=True)))


def _active_owners(db: Session, store_id: str) -> int:
    return int(db.scalar(
        select(func.count()).select_from(UserStore).join(Role, Role.id == UserStore.role_id)
        .where(UserStore.store_id == store_id, UserStore.is_active.is_(True),
               Role.name == SystemRole.OWNER.value)
    ) or 0)


def _check_limit(db: Session, store_id: str, now: datetime) -> str | None:
    result = plan_service.check(db, store_id=store_id, resource=LimitResource.STAFF, now=now)
    return result.message if result.state is LimitState.WARN else None


def add(
    db: Session, *, actor: Principal, store_id: str, email: str, name: str, role: str,
    password: str | None, now: datetime, meta: RequestMeta, bcrypt_cost: int,
) -> StaffMember:
    """Add a person to the store: a new user with a password, or by email an existing user who
    is staff of another of the actor's stores."""
    role_row = _role(db, role)
    _may_grant(actor, role_row)
    email = normalise_email(email)
    user = db.scalar(select(User).where(User.email == email, User.deleted_at.is_(None)))
    if user is not None:
        existing = db.scalar(select(UserStore).where(UserStore.store_id == store_id,
                                                     UserStore.user_id == user.id))
        if existing is not None:
            raise Conflict(f"{email} is already staff of this store (reactivate them instead).",
                           code="already_staff")
        if not set(actor.store_ids) & _stores_of(db, user.id):
            # Linking a stranger's account would show this store their name and id.
            raise Conflict("That email belongs to an existing account that is not staff of any "
                           "of your stores; it cannot be added here.", code="email_in_use")
    warning = _check_limit(db, store_id, now)
    if user is None:
        if not password:
            raise Invalid("A new staff member needs an initial password.",
                          code="password_required")
        try:
            check_password_policy(password)
        except WeakPassword as exc:
            raise Invalid(f"The password {'; '.join(exc.failures)}.", code=exc.code,
                          title="Password too weak", failures=list(exc.failures)) from exc
        user = User(email=email, name=name, password=hash_password(password, cost=bcrypt_cost))
        db.add(user)
        db.flush()
        audit.record(db, actor=actor, action="user.create", entity_type="user",
                     entity_id=user.id, after=audit.snapshot(user), request_meta=meta)
    membership = UserStore(user_id=user.id, role_id=role_row.id)
    db.add(membership)
    db.flush()
    db.refresh(membership)
    audit.record(db, actor=actor, action="staff.add", entity_type="staff", entity_id=user.id,
                 after=_view(membership), request_meta=meta)
    return StaffMember(membership, user, role_row, warning)


def update(
    db: Session, *, actor: Principal, store_id: str, user_id: str, role: str | None,
    is_active: bool | None, now: datetime, meta: RequestMeta,
) -> StaffMember:
    """Change a staff member's role or active flag."""
    m = _member(db, store_id=store_id, user_id=user_id)
    if user_id == actor.user_id:
        raise Forbidden("You cannot change your own role or deactivate yourself.",
                        code="own_membership")
    _may_grant(actor, m.role)
    before = _view(m)
    losing_owner = m.role.name == SystemRole.OWNER.value and m.is_active and (
        (role is not None and role != SystemRole.OWNER.value) or is_active is False)
    if losing_owner and _active_owners(db, store_id) <= 1:
        raise Conflict("A store keeps at least one active owner.", code="last_owner")
    warning = None
    if is_active is True and not m.is_active:
        warning = _check_limit(db, store_id, now)
    if role is not None:
        new_role = _role(db, role)
        _may_grant(actor, new_role)
        m.role_id = new_role.id
    if is_active is not None:
        m.is_active = is_active
    db.flush()
    db.refresh(m)
    audit.record(db, actor=actor, action="staff.update", entity_type="staff", entity_id=user_id,
                 before=before, after=_view(m), request_meta=meta)
    user = db.get(User, user_id)
    assert user is not None
    return StaffMember(m, user, m.role, warning)

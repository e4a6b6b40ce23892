"""Staff of the current store, and the roles they can hold."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response

from server.api.deps import (
    CurrentTenant,
    MetaDep,
    NowDep,
    SessionDep,
    SettingsDep,
    require_permission,
)
from server.api.errors import problem_responses
from server.identity import staff_service
from server.identity.principal import Principal
from server.identity.schemas import RoleRead, StaffCreate, StaffCreated, StaffRead, StaffUpdate
from server.identity.staff_service import StaffMember

router = APIRouter(tags=["staff"])
Reader = Annotated[Principal, require_permission("staff.read")]
Writer = Annotated[Principal, require_permission("staff.write")]


def _read(s: StaffMember) -> StaffRead:
    return StaffRead(user_id=s.user.id, email=s.user.email, name=s.user.name, role=s.role.name,
                     is_active=s.membership.is_active, joined_at=s.membership.created_at)


@router.get("/staff", response_model=list[StaffRead], responses=problem_responses(400, 401, 403))
def list_staff(_: Reader, store_id: CurrentTenant, db: SessionDep) -> list[StaffRead]:
    """Everyone who works in the current store, active or not."""
    return [_read(s) for s in staff_service.list_(db, store_id=store_id)]


@router.post("/staff", status_code=201, response_model=StaffCreated,
             responses=problem_responses(400, 401, 403, 409, 422))
def add_staff(
    body: StaffCreate, actor: Writer, store_id: CurrentTenant, db: SessionDep, now: NowDep,
    meta: MetaDep, settings: SettingsDep,
) -> StaffCreated:
    """Add a staff member (a new user, or an existing one by email); the plan's staff limit
    applies, with a warning from 80%."""
    s = staff_service.add(
        db, actor=actor, store_id=store_id, email=body.email, name=body.name, role=body.role,
        password=body.password, now=now, meta=meta, bcrypt_cost=settings.bcrypt_cost,
    )
    return StaffCreated(**_read(s).model_dump(), plan_warning=s.warning)


@router.patch("/staff/{user_id}", response_model=StaffCreated,
              responses=problem_responses(400, 401, 403, 404, 409, 422))
def update_staff(
    user_id: str, body: StaffUpdate, actor: Writer, store_id: CurrentTenant, db: SessionDep,
    now: NowDep, meta: MetaDep,
) -> StaffCreated:
    """Change a staff member's role or reactivate/deactivate them (applies on their next
    request)."""
    s = staff_service.update(db, actor=actor, store_id=store_id, user_id=user_id,
                             role=body.role, is_active=body.is_active, now=now, meta=meta)
    return StaffCreated(**_read(s).model_dump(), plan_warning=s.warning)


@router.delete("/staff/{user_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404, 409))
def deactivate_staff(
    user_id: str, actor: Writer, store_id: CurrentTenant, db: SessionDep, now: NowDep,
    meta: MetaDep,
) -> Response:
    """Deactivate a staff member in this store (their account and history stay)."""
    staff_service.update(db, actor=actor, store_id=store_id, user_id=user_id, role=None,
                         is_active=False, now=now, meta=meta)
    return Response(status_code=204)


@router.get("/roles", response_model=list[RoleRead], responses=problem_responses(400, 401, 403))
def list_roles(_: Reader, db: SessionDep) -> list[RoleRead]:
    """The roles staff can hold, with their permissions."""
    return [RoleRead(name=r.name, description=r.description, permissions=sorted(r.permissions))
            for r in staff_service.list_roles(db)]

"""The current store: its settings and its plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from server.api.deps import CurrentStore, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.identity.principal import Principal
from server.stores import plan_service
from server.stores import service as store_service
from server.stores.models import Store
from server.stores.schemas import LimitRead, PlanRead, StoreRead, StoreUpdate

router = APIRouter(prefix="/store", tags=["store"])


def _read(store: Store) -> StoreRead:
    return StoreRead.model_validate(store, from_attributes=True)


@router.get("", response_model=StoreRead, responses=problem_responses(400, 401, 403))
def get_store(
    _: Annotated[Principal, require_permission("settings.read")], store: CurrentStore
) -> StoreRead:
    """The current store's settings."""
    return _read(store)


@router.patch("", response_model=StoreRead, responses=problem_responses(400, 401, 403, 422))
def update_store(
    body: StoreUpdate,
    actor: Annotated[Principal, require_permission("settings.write")],
    store: CurrentStore,
    db: SessionDep,
    meta: MetaDep,
) -> StoreRead:
    """Change the current store's settings (only the fields sent)."""
    changes = body.model_dump(exclude_unset=True)
    return _read(store_service.update(db, actor=actor, store=store, changes=changes, meta=meta))


@router.get("/plan", response_model=PlanRead, responses=problem_responses(400, 401, 403))
def get_plan(
    _: Annotated[Principal, require_permission("settings.read")],
    store: CurrentStore,
    db: SessionDep,
    now: NowDep,
) -> PlanRead:
    """The store's plan, its rate limit, and usage against each limit (warning from 80%)."""
    plan = plan_service.plan_of(db, store_id=store.id)
    access = plan_service.access(db, store_id=store.id, now=now)
    return PlanRead(
        plan=plan.slug, name=plan.name, api_rate_limit=plan.api_rate_limit,
        has_pos_access=plan.has_pos_access, access=access.state.value,
        access_message=access.message,
        limits=[LimitRead(resource=c.resource.value, state=c.state.value, used=c.used,
                          limit=c.limit, message=c.message)
                for c in plan_service.report(db, store_id=store.id, now=now)],
    )

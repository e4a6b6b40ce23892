"""The terminal sync endpoints: push, pull and snapshot (device tokens only).

Every answer of these routes, errors included, carries the server's time: the
``X-Server-Time`` header (ISO 8601, the app's clock) and ``server_time`` in the body. A till
measures its clock offset from it; its own clock decides nothing. (The HTTP server adds the
usual ``Date`` header too.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response

from server.api.deps import MetaDep, NowDep, SessionDep, commit, require_permission
from server.api.errors import problem_responses
from server.errors import ServiceError
from server.identity.principal import Principal
from server.pos.devices_service import DEVICE_SELF
from server.sync import feed_service, push_service
from stormcom_pos.domain import sync_protocol as proto

router = APIRouter(prefix="/sync", tags=["sync"])
# Terminals only: the device permission every paired terminal holds. (Devices also carry
# "sync.pull"/"sync.push"; tests/server/test_rbac.py accepts only known or device./pos. ones.)
Puller = Annotated[Principal, require_permission(DEVICE_SELF)]
Pusher = Annotated[Principal, require_permission(DEVICE_SELF)]
TIME_HEADER = "X-Server-Time"
T = TypeVar("T")


def _documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(*statuses)
    responses[200] = {"headers": {TIME_HEADER: {
        "description": "The server's time (ISO 8601); device clocks decide nothing",
        "schema": {"type": "string"}}}}
    return responses


@contextmanager
def _timed(response: Response, now: datetime) -> Iterator[None]:
    stamp = now.isoformat()
    response.headers[TIME_HEADER] = stamp
    try:
        yield
    except ServiceError as exc:
        exc.headers = {**exc.headers, TIME_HEADER: stamp}
        exc.extra.setdefault("server_time", stamp)
        raise


def _device(principal: Principal) -> tuple[str, str]:
    if principal.kind != "device" or not principal.device_id or not principal.store_id:
        raise ServiceError("Only a paired terminal uses the sync feed.", code="device_only",
                           title="Terminals only")
    return principal.store_id, principal.device_id


def _call(response: Response, now: datetime, fn: Callable[[], T]) -> T:
    with _timed(response, now):
        return fn()


@router.post("/push", response_model=proto.PushResponse,
             responses=_documented(400, 401, 403, 422))
def push(body: proto.PushRequest, db: SessionDep, principal: Pusher, now: NowDep,
         meta: MetaDep, request: Request, response: Response) -> proto.PushResponse:
    """Apply a batch of outbox operations exactly once; every per-op outcome answers 200."""
    result = _call(response, now, lambda: push_service.push(
        db, actor=principal, request=body, now=now, meta=meta))
    commit(db, request)  # the store's change sequence is locked until then
    return result


@router.get("/pull", response_model=proto.PullResponse,
            responses=_documented(400, 401, 403, 410, 422))
def pull(db: SessionDep, principal: Puller, now: NowDep, response: Response,
         cursor: Annotated[str | None, Query(max_length=200,
                                             description="next_cursor of the last page")] = None,
         limit: Annotated[int, Query(ge=1, le=proto.MAX_PULL_LIMIT)] = proto.DEFAULT_PULL_LIMIT,
         ) -> proto.PullResponse:
    """The store's changes after ``cursor``, in commit order; 410 when it must resync."""
    def run() -> proto.PullResponse:
        store_id, device_id = _device(principal)
        return feed_service.pull(db, store_id=store_id, cursor=cursor, limit=limit, now=now,
                                 device_id=device_id)

    return _call(response, now, run)


@router.get("/snapshot", response_model=proto.SnapshotPage,
            responses=_documented(400, 401, 403, 410, 422))
def snapshot(request: Request, principal: Puller, now: NowDep, response: Response,
             entity_type: Annotated[feed_service.SnapshotType, Query()],
             after: Annotated[str | None, Query(max_length=64,
                                                description="next_after of the last page")] = None,
             as_of: Annotated[int | None, Query(ge=0, description="as_of_seq of page one")] = None,
             limit: Annotated[int, Query(ge=1, le=proto.MAX_SNAPSHOT_LIMIT)] =
             proto.DEFAULT_SNAPSHOT_LIMIT) -> proto.SnapshotPage:
    """One keyset page of a mirrored entity type, for a terminal's first start."""
    def run() -> proto.SnapshotPage:
        store_id, _ = _device(principal)
        return feed_service.snapshot(request.app.state.engine, store_id=store_id,
                                     entity_type=entity_type.value, after=after, as_of=as_of,
                                     limit=limit, now=now)

    return _call(response, now, run)

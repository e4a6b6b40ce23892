"""Request dependencies: the unit of work, who is calling, which store, what they may do.

- ``SessionDep``: one ORM session per request, tenancy-filtered (``server.db.tenancy``). It
  commits when the endpoint returns and rolls back when it raises, *before* the response is
  sent (``scope="function"``), so a failed commit is a 500, never a silent loss. Services never
  commit; a view whose transaction holds a store-wide lock commits itself with ``commit``
  (the sync push), by the same rules. On PostgreSQL every transaction runs
  ``SELECT set_config('app.current_store_id', :store_id, true)`` once the store is known.
  At commit, a request that wrote data without an audit row fails (``audit_enforce``).
- ``CurrentPrincipal`` (alias ``CurrentUser`` for staff-only routes): the authenticated actor,
  from ``Authorization: Bearer <token>``. Token kinds are dispatched on their prefix through
  :data:`AUTHENTICATORS`: ``stc_`` staff sessions here; terminals register their own
  (``register_authenticator("std_", ...)``) and return a ``Principal(kind="device")``.
- The store of a request is chosen by the caller with ``X-Store-Id`` and checked against the
  user's active ``UserStore`` memberships on every request (never trusted); without the header
  a user with exactly one membership works in that store. A super-admin may name any store and
  then reads it with ``*.read`` permissions only. A device's store is its own.
- ``require_permission("orders.read")``: the one dependency every non-public route has. It
  re-reads nothing: the role was loaded for this request, so a role change applies on the next.
- Rate limits: per principal from the store's plan, per IP when unauthenticated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from server.audit.service import AUDITED_KEY, HOUSEKEEPING_KEY, WRITES_KEY
from server.clock import Clock
from server.config import Settings
from server.db.tenancy import set_current_store
from server.errors import Forbidden, NotFound, RateLimited, ServiceError, Unauthenticated
from server.identity.principal import Actor, Principal, RequestMeta
from server.ratelimit.limiter import RateDecision, SlidingWindowLimiter
from server.stores.models import Store

__all__ = [
    "AUTHENTICATORS",
    "Actor",
    "Authenticator",
    "CurrentPrincipal",
    "CurrentStore",
    "CurrentTenant",
    "CurrentUser",
    "MetaDep",
    "NowDep",
    "Principal",
    "SELF",
    "SessionDep",
    "SettingsDep",
    "register_authenticator",
    "require_permission",
]

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SELF = "account.self"  # granted to every signed-in user: their own profile, sessions, password
STORE_HEADER = "X-Store-Id"


class AuditMissing(RuntimeError):
    """A request changed data but recorded no audit row."""


class Authenticator(Protocol):
    def __call__(
        self,
        db: Session,
        token: str,
        *,
        store_id: str | None,
        now: datetime,
        meta: RequestMeta,
        settings: Settings,
    ) -> Principal | None: ...


AUTHENTICATORS: dict[str, Authenticator] = {}


def register_authenticator(prefix: str, fn: Authenticator) -> None:
    """Route bearer tokens starting with ``prefix`` to ``fn`` (returns None when invalid)."""
    AUTHENTICATORS[prefix] = fn


# ---- plumbing -------------------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock()


# Dependencies that do no I/O are ``async``: FastAPI runs sync ones in its thread pool.
async def get_settings(request: Request) -> Settings:
    return _settings(request)


async def get_now(request: Request) -> datetime:
    return _now(request)


def client_ip(request: Request, settings: Settings) -> str | None:
    if settings.trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()[:64]
    return request.client.host if request.client else None


async def get_meta(request: Request) -> RequestMeta:
    ua = request.headers.get("user-agent")
    ip = client_ip(request, _settings(request))
    return RequestMeta(ip=ip, user_agent=ua[:500] if ua else None)


SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]
MetaDep = Annotated[RequestMeta, Depends(get_meta)]


def _track_writes(session: Session, _ctx: Any, _instances: Any) -> None:
    written: set[type] = session.info.setdefault(WRITES_KEY, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        written.add(type(obj))


def _track_statements(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper:
        state.session.info.setdefault(WRITES_KEY, set()).add(state.bind_mapper.class_)


def track_writes(factory: sessionmaker[Session]) -> None:
    """Remember which models each session writes (flushes and bulk statements alike), for the
    audit check at commit."""
    event.listen(factory, "before_flush", _track_writes)
    event.listen(factory, "do_orm_execute", _track_statements)


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: commit on success, roll back on error."""
    db: Session = request.app.state.session_factory()
    try:
        yield db
        commit(db, request)
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()


def commit(db: Session, request: Request) -> None:
    """Flush, check the audit rule, commit: at the end of every request (``get_db``). A view
    whose transaction holds a lock every other request of its store waits for (a push holds
    its store's change sequence) calls it itself, as soon as its work is done: the
    dependency's exit would wait for the event loop and a free thread first."""
    db.flush()
    _check_audited(db, _settings(request))
    db.commit()


def _check_audited(db: Session, settings: Settings) -> None:
    if not settings.audit_enforce or db.info.get(AUDITED_KEY):
        return
    written = db.info.get(WRITES_KEY, set()) - db.info.get(HOUSEKEEPING_KEY, set())
    if written:
        names = ", ".join(sorted(m.__name__ for m in written))
        raise AuditMissing(f"the request changed {names} without an audit-log row")


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


# ---- rate limits ----------------------------------------------------------------------------


def _limiter(request: Request) -> SlidingWindowLimiter:
    return request.app.state.limiter  # type: ignore[no-any-return]


def enforce_rate(request: Request, key: str, limit: int, period: int = 60) -> RateDecision | None:
    """Count one hit; raise 429 with the four headers when over the limit."""
    if not _settings(request).rate_limit_enabled:
        return None
    now = _now(request).timestamp()
    decision = _limiter(request).hit(key, limit, period, now)
    request.state.rate_decision = decision  # the middleware adds the headers to the response
    if not decision.allowed:
        raise RateLimited(
            f"Too many requests: the limit is {limit} per {period} seconds. "
            f"Try again in {decision.retry_after} seconds.",
            headers=decision.headers(),
            retry_after=decision.retry_after,
        )
    return decision


def limit_by_ip(request: Request) -> None:
    """The per-IP limit for unauthenticated requests."""
    settings = _settings(request)
    ip = client_ip(request, settings) or "unknown"
    enforce_rate(request, f"ip:{ip}", settings.anonymous_rate_limit)


limit_by_ip.public_route = True  # type: ignore[attr-defined]
IpLimited = Depends(limit_by_ip)  # the marker of a public route: limited per IP, no token


def route_access(dependant: Any) -> tuple[set[str], bool]:
    """The permissions a route's dependencies check, and whether it is public (IpLimited)."""
    perms: set[str] = set()
    public = False
    stack = list(getattr(dependant, "dependencies", []))
    while stack:
        sub = stack.pop()
        perm = getattr(sub.call, "required_permission", None)
        if perm is not None:
            perms.add(perm)
        public = public or bool(getattr(sub.call, "public_route", False))
        stack.extend(sub.dependencies)
    return perms, public


# ---- who is calling -------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def get_principal(
    request: Request, db: SessionDep, settings: SettingsDep, now: NowDep, meta: MetaDep
) -> Principal:
    """Authenticate the bearer token and settle the request's store (see the module doc)."""
    token = _bearer(request)
    principal: Principal | None = None
    if token:
        requested = request.headers.get(STORE_HEADER) or None
        for prefix, authenticate in AUTHENTICATORS.items():
            if token.startswith(prefix):
                principal = authenticate(
                    db, token, store_id=requested, now=now, meta=meta, settings=settings
                )
                break
    if principal is None:
        limit_by_ip(request)
        raise Unauthenticated(
            "Sign in first: send 'Authorization: Bearer <token>' with a valid, unexpired token.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    set_current_store(db, principal.store_id, read_only=principal.cross_store)
    request.state.principal = principal
    enforce_rate(request, principal.rate_key, principal.rate_limit or settings.anonymous_rate_limit)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_permission(permission: str) -> Any:
    """A dependency that lets the request through only if the caller holds ``permission`` in
    the current store (``SELF`` needs only a signed-in user). It returns the ``Principal``."""

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        if permission == SELF:
            if principal.kind != "user":
                raise Forbidden("Only a signed-in staff member can do this.",
                                code="permission_denied")
            return principal
        if principal.store_id is None:
            raise ServiceError(
                f"Choose a store: send the {STORE_HEADER} header with one of your stores.",
                code="store_required", title="Store required",
            )
        if principal.cross_store and (request.method in MUTATING or not principal.has(permission)):
            raise Forbidden("A platform administrator may read this store, not change it.",
                            code="super_admin_read_only", title="Read-only access")
        if not principal.has(permission):
            raise Forbidden(f"This needs the '{permission}' permission.",
                            code="permission_denied", permission=permission)
        return principal

    check.required_permission = permission  # type: ignore[attr-defined]
    check.__name__ = f"require_{permission.replace('.', '_')}"
    return Depends(check)


async def _get_user(principal: Annotated[Principal, require_permission(SELF)]) -> Principal:
    return principal


CurrentUser = Annotated[Principal, Depends(_get_user)]


async def get_tenant(principal: CurrentPrincipal) -> str:
    if principal.store_id is None:
        raise ServiceError(
            f"Choose a store: send the {STORE_HEADER} header with one of your stores.",
            code="store_required", title="Store required",
        )
    return principal.store_id


CurrentTenant = Annotated[str, Depends(get_tenant)]


def get_store(db: SessionDep, store_id: CurrentTenant) -> Store:
    store = db.get(Store, store_id)
    if store is None or store.deleted_at is not None:
        raise NotFound("The store no longer exists.")
    return store


CurrentStore = Annotated[Store, Depends(get_store)]

PermissionCheck = Callable[..., Principal]

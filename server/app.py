"""The FastAPI application factory: routers under /api/v1, problem+json errors, rate limits."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import FastAPI, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts

from server import __doc__ as server_doc
from server.api import deps
from server.api.errors import PROBLEM_SCHEMA, install_error_handlers, problem_responses
from server.api.middleware import RateLimitHeaders
from server.api.router import build_api_router
from server.clock import Clock, system_clock
from server.config import ConfigError, Settings
from server.db import encrypted
from server.db.engine import check_connection, make_engine
from server.db.tenancy import make_tenant_session_factory
from server.identity import auth_service, sessions_service
from server.ratelimit.limiter import CounterStore, SlidingWindowLimiter
from server.ratelimit.stores import DatabaseCounterStore, MemoryCounterStore
from stormcom_pos import __version__

deps.register_authenticator(sessions_service.TOKEN_PREFIX, sessions_service.authenticate)


def _counter_store(settings: Settings, engine: Any) -> CounterStore:
    if settings.rate_limit_store == "database":
        return DatabaseCounterStore(engine)
    return MemoryCounterStore()


COMMON_ERRORS = (401, 403, 429, 500)


def _operations(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    return {
        (m.lower(), str(ctx.path)): ctx.original_route
        for ctx in iter_route_contexts(app.routes)
        if isinstance(ctx.original_route, APIRoute)
        for m in ctx.methods or ()
    }


def _public_operations(app: FastAPI) -> set[tuple[str, str]]:
    """Operations that take no token: those marked IpLimited, and /health and /ready."""
    public = {("get", "/health"), ("get", "/ready")}
    for key, route in _operations(app).items():
        perms, is_public = deps.route_access(route.dependant)
        if is_public or not perms:
            public.add(key)
    return public


def _drop_empty_bodies(schema: dict[str, Any], app: FastAPI) -> None:
    """An endpoint that returns a bare ``Response`` has no JSON body: do not document one
    (FastAPI documents ``application/json`` for a 202 even then)."""
    for (method, path), route in _operations(app).items():
        returns = inspect.signature(route.endpoint).return_annotation
        if route.response_model is not None or returns not in (Response, "Response"):
            continue
        op = schema.get("paths", {}).get(path, {}).get(method, {})
        for status, entry in op.get("responses", {}).items():
            if status.startswith("2") and entry.get("content", {}).get(
                    "application/json", {}).get("schema") in ({}, None):
                entry.pop("content", None)


def _document_errors(schema: dict[str, Any], public_operations: set[tuple[str, str]]) -> None:
    """Declare bearer auth and the problem+json errors every operation can answer with
    (FastAPI's own 422 schema is replaced: ours is a problem with ``errors``)."""
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            public = (method, path) in public_operations
            statuses = {500, 429} if public else {400, *COMMON_ERRORS}
            if "{" in path:
                statuses.add(404)
            if "422" in responses or op.get("parameters") or op.get("requestBody"):
                statuses.add(422)
            for status, entry in problem_responses(*sorted(statuses)).items():
                if str(status) == "422" or str(status) not in responses:
                    responses[str(status)] = entry
            if not public:
                op["security"] = [{"bearer": []}]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    encrypted.configure_from_settings(settings)
    engine = make_engine(settings.database_url, echo=settings.sql_echo)
    app = FastAPI(title="StormCom server", version=__version__, description=server_doc or "")
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock or system_clock
    app.state.session_factory = make_tenant_session_factory(engine)
    deps.track_writes(app.state.session_factory)
    app.state.limiter = SlidingWindowLimiter(_counter_store(settings, engine))
    app.state.dummy_hash = auth_service.make_dummy_hash(settings)

    install_error_handlers(app)
    app.add_middleware(RateLimitHeaders)
    app.include_router(build_api_router())

    @app.get("/health", tags=["ops"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["ops"], responses={503: {"description": "database unreachable"}})
    def ready() -> JSONResponse:
        """Readiness: the database answers."""
        try:
            check_connection(engine)
        except ConfigError:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version,
                                 description=app.description, routes=app.routes)
            components = schema.setdefault("components", {})
            components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
            components.setdefault("securitySchemes", {})["bearer"] = {
                "type": "http", "scheme": "bearer",
                "description": "A session token from POST /api/v1/auth/login",
            }
            _document_errors(schema, _public_operations(app))
            _drop_empty_bodies(schema, app)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app

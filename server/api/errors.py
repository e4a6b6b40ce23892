"""RFC 9457 problem+json for every error the API returns.

Body: ``{"type", "title", "status", "detail", "code", "instance", ...extra}``. ``code`` is
stable (clients switch on it); ``title`` and ``detail`` are for people. Validation errors add
``errors``: one entry per bad field with its ``location`` (e.g. ``["body", "email"]``), ``field``
(dotted), ``message`` and ``type``. A 500 never carries internals: the traceback goes to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.db.tenancy import ReadOnlySession, TenancyError
from server.errors import ServiceError
from stormcom_pos.domain.errors import DomainError

log = logging.getLogger("stormcom.api")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://stormcom.dev/problems/"

# Stable codes for errors that come from the framework rather than a service.
HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    422: ("validation_failed", "Validation failed"),
    429: ("rate_limited", "Too many requests"),
    500: ("internal_error", "Internal server error"),
}


class ProblemError(ServiceError):
    """Raise from a view for an explicit problem: ``ProblemError(409, "x", "X", "why")``."""

    def __init__(self, status: int, code: str, title: str, detail: str, **extra: Any) -> None:
        headers = extra.pop("headers", None)
        super().__init__(detail, code=code, title=title, headers=headers, **extra)
        self.status = status  # type: ignore[misc]


def problem_body(
    status: int, code: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; views may return it instead of raising (the request commits)."""
    return JSONResponse(
        problem_body(status, code, title, detail, instance, **extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_JSON,
    )


def from_service_error(exc: ServiceError, instance: str | None = None) -> JSONResponse:
    return problem_response(
        exc.status, exc.code, exc.title, exc.detail, instance=instance, headers=exc.headers,
        **exc.extra,
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append({
            "location": loc,
            "field": ".".join(loc[1:]) if len(loc) > 1 else ".".join(loc),
            "message": str(err.get("msg", "invalid value")),
            "type": str(err.get("type", "value_error")),
        })
    return out


async def _on_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return from_service_error(exc, request.url.path)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = _field_errors(exc)
    fields = ", ".join(e["field"] or "request" for e in errors) or "request"
    return problem_response(
        422, "validation_failed", "Validation failed", f"Invalid value for: {fields}.",
        instance=request.url.path, errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, title = HTTP_CODES.get(exc.status_code, (f"http_{exc.status_code}", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = "There is nothing at this address."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here."
    return problem_response(exc.status_code, code, title, detail, instance=request.url.path,
                            headers=dict(exc.headers or {}))


async def _on_domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem_response(422, exc.code, "Business rule", exc.message, instance=request.url.path)


async def _on_tenancy(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, ReadOnlySession):
        return problem_response(403, "super_admin_read_only", "Read-only access",
                                "A platform administrator may read this store, not change it.",
                                instance=request.url.path)
    log.warning("cross-store write refused on %s: %s", request.url.path, exc)
    return problem_response(404, "not_found", "Not found", "There is no such record.",
                            instance=request.url.path)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(500, "internal_error", "Internal server error",
                            "Something went wrong on our side. It has been logged.",
                            instance=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _on_service_error)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(DomainError, _on_domain)
    app.add_exception_handler(TenancyError, _on_tenancy)
    app.add_exception_handler(Exception, _on_unexpected)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem+json for these statuses."""
    return {
        s: {
            "description": HTTP_CODES.get(s, ("", "Error"))[1],
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }

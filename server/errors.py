"""Errors that services raise, free of any web framework.

Each carries a stable machine ``code`` (clients switch on it), a short ``title`` and an HTTP-like
``status``; ``server.api.errors`` turns any of them into an RFC 9457 problem+json response.
Services raise these (or domain errors); they never import FastAPI.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ServiceError(Exception):
    """Base of every error a service may raise on purpose."""

    status: ClassVar[int] = 400
    default_code: ClassVar[str] = "bad_request"
    default_title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code or self.default_code
        self.title = title or self.default_title
        self.headers = headers or {}
        self.extra = extra


class Unauthenticated(ServiceError):
    status = 401
    default_code = "unauthenticated"
    default_title = "Authentication required"


class Forbidden(ServiceError):
    status = 403
    default_code = "forbidden"
    default_title = "Forbidden"


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"
    default_title = "Not found"


class Conflict(ServiceError):
    status = 409
    default_code = "conflict"
    default_title = "Conflict"


class Invalid(ServiceError):
    """The request is well-formed but breaks a business rule (a weak password, ...)."""

    status = 422
    default_code = "invalid"
    default_title = "Unprocessable request"


class RateLimited(ServiceError):
    status = 429
    default_code = "rate_limited"
    default_title = "Too many requests"


class PlanLimitReached(ServiceError):
    """The store's plan does not allow this (a limit is reached, or the feature is not in it)."""

    status = 403
    default_code = "plan_limit_reached"
    default_title = "Plan limit reached"

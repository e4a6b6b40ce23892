"""schemathesis over the published OpenAPI document, signed in: no 5xx, nothing off-schema.

Every operation gets a few generated requests (positive data: what the schema allows) as
store A's owner, with a fresh token per request (sign-out and token refresh are operations
too). Checks: no server error, and status code, content type, headers and body all as
documented. Rate limits are off so the generator is not throttled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import checks

from tests.server.conftest import World, bearer, login

MAX_EXAMPLES = 6
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limit_enabled": False}


def test_generated_requests_never_break_the_server_or_the_schema(
    app: FastAPI, client: TestClient, world: World
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15

    def headers() -> dict[str, str]:
        return bearer(login(client, world.a.emails["owner"]), world.a.store_id)

    failures = [f for f in (_fuzz(op, headers) for op in operations) if f]
    assert not failures, "\n\n".join(failures)


def _fuzz(operation: Any, headers: Callable[[], dict[str, str]]) -> str | None:
    @given(case=operation.as_strategy())
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(headers=headers())
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # collected: every operation gets its run
        return f"{operation.label}: {str(exc)[:1500]}"
    return None

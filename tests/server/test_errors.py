"""Every error is RFC 9457 problem+json with a stable code; /health, /ready and OpenAPI."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings

PROBLEM = "application/problem+json"


def _is_problem(r: object, status: int, code: str) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == PROBLEM  # type: ignore[attr-defined]
    body: dict[str, object] = r.json()  # type: ignore[attr-defined]
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"https://stormcom.dev/problems/{code}"
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    return body


def test_unknown_route_is_404(client: TestClient) -> None:
    body = _is_problem(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert body["instance"] == "/api/v1/nothing-here"


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    r = client.put("/api/v1/auth/login", json={})
    _is_problem(r, 405, "method_not_allowed")
    assert "POST" in r.headers["allow"]


def test_validation_names_every_bad_field_with_its_location(client: TestClient) -> None:
    r = client.post("/api/v1/auth/login", json={"email": 5, "password": "", "extra": 1})
    body = _is_problem(r, 422, "validation_failed")
    errors = body["errors"]
    assert isinstance(errors, list)
    by_field = {e["field"]: e for e in errors}
    assert set(by_field) == {"email", "password", "extra"}
    assert by_field["email"]["location"] == ["body", "email"]
    assert all(e["message"] and e["type"] for e in errors)
    assert "email" in str(body["detail"]) and "password" in str(body["detail"])
    # Query parameters and malformed JSON too.
    r = client.post("/api/v1/auth/login", content=b"{not json",
                    headers={"content-type": "application/json"})
    _is_problem(r, 422, "validation_failed")


def test_query_validation_is_located(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/audit-logs", headers=auth("a", "owner"),
                   params={"page": 0, "since": "yesterday"})
    body = _is_problem(r, 422, "validation_failed")
    assert {tuple(e["location"]) for e in body["errors"]} == {("query", "page"),
                                                             ("query", "since")}


def test_unauthenticated_and_forbidden(client: TestClient, auth) -> None:  # type: ignore[no-untyped-def]
    _is_problem(client.get("/api/v1/store"), 401, "unauthenticated")
    body = _is_problem(client.get("/api/v1/staff", headers=auth("a", "cashier")), 403,
                       "permission_denied")
    assert body["permission"] == "staff.read"


def test_a_crash_is_500_without_internals(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    app.router.add_api_route("/test/boom", boom, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/test/boom")
    body = _is_problem(r, 500, "internal_error")
    assert "hunter2" not in r.text and "RuntimeError" not in r.text and "Traceback" not in r.text
    assert body["detail"] == "Something went wrong on our side. It has been logged."


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/ready").json() == {"status": "ready"}


def test_ready_is_503_when_the_database_is_down() -> None:
    app = create_app(Settings(database_url="postgresql+psycopg://x@127.0.0.1:9/none",
                              bcrypt_cost=4))
    with TestClient(app) as client:
        r = client.get("/ready")
        assert client.get("/health").status_code == 200
    assert r.status_code == 503 and r.json() == {"status": "unavailable"}
    assert "127.0.0.1" not in r.text


def test_openapi_is_published_with_problem_and_bearer_schemes(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert "/api/v1/auth/login" in paths and "/api/v1/audit-logs" in paths
    assert all(p.startswith("/api/v1/") or p in ("/health", "/ready") for p in paths)
    assert doc["components"]["schemas"]["Problem"]["required"][:2] == ["type", "title"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert "application/problem+json" in login["401"]["content"]

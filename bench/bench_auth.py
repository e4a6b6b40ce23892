"""Login latency (bcrypt cost 12, the production setting) and the overhead of authentication.

Usage: .venv/bin/python bench/bench_auth.py [--backend sqlite|postgresql] [--logins 20]
                                           [--requests 500]

Runs the real app in process through httpx's ASGI transport (one event loop; FastAPI's thread
pool for sync endpoints and dependencies; middleware; no network, no HTTP parsing).
Prints median and p95 of:
- POST /api/v1/auth/login (bcrypt verify at cost 12 + session insert + audit row + commit);
- GET /health (no auth, no database): the floor of a request;
- GET /api/v1/auth/me, the cheapest authenticated GET (token lookup, last-activity touch at
  most once a minute, membership + role + plan, per-user rate limit, tenancy setup, commit);
and the difference of the last two medians: what authentication adds to a request.
The store is on the Enterprise plan (1000 requests/min) so the bench is not throttled.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from server.app import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.engine import make_engine, make_session_factory  # noqa: E402
from server.identity.hashing import BCRYPT_COST, hash_password, verify_password  # noqa: E402
from server.seed.operators import create_store, create_user  # noqa: E402

EMAIL, PASSWORD = "bench@bench.test", "Bench-Pass-123"


async def _time(fn: Callable[[], Awaitable[object]], n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


async def _measure(app: object, logins: int, requests: int) -> tuple[list[float], ...]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        async def login() -> str:
            r = await client.post("/api/v1/auth/login",
                                  json={"email": EMAIL, "password": PASSWORD})
            assert r.status_code == 200, r.text
            return str(r.json()["token"])

        headers = {"Authorization": f"Bearer {await login()}"}

        async def me() -> None:
            r = await client.get("/api/v1/auth/me", headers=headers)
            assert r.status_code == 200, r.text

        for _ in range(20):  # warm up
            await client.get("/health")
            await me()
        login_ms = await _time(login, logins)
        health_ms = await _time(lambda: client.get("/health"), requests)
        me_ms = await _time(me, requests)
    return login_ms, health_ms, me_ms


def _row(name: str, ms: list[float]) -> str:
    p95 = statistics.quantiles(ms, n=20)[-1] if len(ms) >= 20 else max(ms)
    return f"{name:<34} n={len(ms):<5} median {statistics.median(ms):8.2f} ms   p95 {p95:8.2f} ms"


def run(url: str, logins: int, requests: int) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with make_session_factory(engine)() as db:
        create_store(db, name="Bench", slug="bench", email="s@bench.test", plan="ENTERPRISE")
        create_user(db, email=EMAIL, name="Bench", password=PASSWORD, store_slug="bench",
                    role="OWNER")  # hashed at cost 12
        db.commit()
    engine.dispose()
    settings = Settings(database_url=url, login_ip_limit=10_000)
    assert settings.bcrypt_cost == BCRYPT_COST == 12
    app = create_app(settings)
    login_ms, health_ms, me_ms = asyncio.run(_measure(app, logins, requests))
    app.state.engine.dispose()
    hashed = hash_password(PASSWORD)
    bcrypt_ms: list[float] = []
    for _ in range(logins):
        start = time.perf_counter()
        verify_password(PASSWORD, hashed)
        bcrypt_ms.append((time.perf_counter() - start) * 1000)
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(_row("bcrypt verify alone (cost 12)", bcrypt_ms))
    print(_row("POST /api/v1/auth/login (cost 12)", login_ms))
    print(_row("GET /health", health_ms))
    print(_row("GET /api/v1/auth/me", me_ms))
    print(f"authentication overhead (median me - median health): "
          f"{statistics.median(me_ms) - statistics.median(health_ms):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            print("backend: sqlite (file, WAL)")
            run(f"sqlite:///{tmp}/bench.db", args.logins, args.requests)
            return
        from tests.pgcluster import start_cluster

        cluster = start_cluster()
        try:
            print("backend: postgresql (local throwaway cluster, loopback TCP)")
            run(cluster.create_database("bench"), args.logins, args.requests)
        finally:
            cluster.stop()


if __name__ == "__main__":
    main()

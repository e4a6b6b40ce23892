"""A terminal's first start against a big store: the snapshot of 200,000 variants, then pull.

Usage: .venv/bin/python bench/bench_sync_feed.py [--products 200000] [--limit 5000]
                                                [--backend postgresql|sqlite] [--gzip]

Setup: ``server.seed.demo.seed_demo(engine, products=N)`` (the demo store plus N synthetic
products with one variant each; their bulk inserts are change-captured, so the change log
holds them too). One terminal is paired with the seed's pairing code.

Served by the real app under uvicorn on 127.0.0.1 (one worker), read by one httpx client over
keep-alive: every ``GET /api/v1/sync/snapshot?entity_type=variant`` page of ``--limit`` rows
(5,000 is the maximum) until ``next_after`` is null, then one ``GET /api/v1/sync/pull`` from
``as_of`` (nothing to catch up: it measures the empty pull). Printed: pages, rows, bytes on
the wire, total time, rows per second, and the median/p95 page time. ``--gzip`` asks for
gzip (the app has no gzip middleware today, so it shows whether one is in front).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_ingest import serve  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.engine import make_engine  # noqa: E402
from server.pos import devices_service  # noqa: E402
from server.seed.demo import SeedReport, seed_demo  # noqa: E402
from stormcom_pos.domain import sync_protocol as proto  # noqa: E402


def setup(url: str, products: int) -> str:
    engine = make_engine(url)
    migrate.upgrade(engine)
    start = time.perf_counter()
    report = seed_demo(engine, products=products)
    assert isinstance(report, SeedReport)
    print(f"seeded {report.products} products / {report.variants} variants "
          f"in {time.perf_counter() - start:.1f} s (change-captured)")
    now = datetime.now(UTC)
    with Session(engine) as db:
        enrolled = devices_service.enrol(db, code=report.pairing_code, now=now)
        token = devices_service.issue_access_token(db, credential=enrolled.credential, now=now,
                                                   lifetime=timedelta(hours=2))
        db.commit()
    engine.dispose()
    return token.token


def bootstrap(base: str, token: str, limit: int, use_gzip: bool) -> None:
    headers = {"Authorization": f"Bearer {token}",
               "Accept-Encoding": "gzip" if use_gzip else "identity"}
    times, rows, wire = [], 0, 0
    after, as_of, epoch = None, None, ""
    with httpx.Client(base_url=base, timeout=120, headers=headers) as client:
        client.get("/api/v1/sync/snapshot", params={"entity_type": "store"})  # warm up
        start = time.perf_counter()
        while True:
            params: dict[str, object] = {"entity_type": "variant", "limit": limit}
            if after:
                params["after"] = after
            if as_of is not None:
                params["as_of"] = as_of
            t0 = time.perf_counter()
            r = client.get("/api/v1/sync/snapshot", params=params)
            assert r.status_code == 200, r.text
            page = r.json()
            times.append((time.perf_counter() - t0) * 1000)
            wire += len(r.content) if not use_gzip else int(r.headers.get("content-length", 0))
            rows += len(page["rows"])
            as_of, epoch, after = page["as_of_seq"], page["server_epoch"], page["next_after"]
            if after is None:
                break
        elapsed = time.perf_counter() - start
        t0 = time.perf_counter()
        r = client.get("/api/v1/sync/pull",
                       params={"cursor": proto.encode_cursor(epoch, as_of or 0)})
        assert r.status_code == 200, r.text
        pull_ms = (time.perf_counter() - t0) * 1000
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) >= 20 else max(times)
    print(f"snapshot of {rows} variants: {len(times)} pages of {limit}, "
          f"{wire / 1e6:.1f} MB, {elapsed:.1f} s = {rows / elapsed:,.0f} rows/s; "
          f"page median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms")
    print(f"then the catch-up pull from as_of={as_of}: {pull_ms:.0f} ms, "
          f"{len(r.json()['changes'])} changes")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--limit", type=int, default=proto.MAX_SNAPSHOT_LIMIT)
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--gzip", action="store_true")
    args = parser.parse_args()
    cluster = None
    if args.backend == "postgresql":
        from tests.pgcluster import start_cluster

        cluster = start_cluster()
        url = cluster.create_database("bench_feed")
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='stormcom-feed-')}/feed.db"
    try:
        token = setup(url, args.products)
        proc, base = serve(url, 1)
        print(f"backend: {args.backend}; uvicorn, 1 worker, loopback; one client")
        try:
            bootstrap(base, token, args.limit, args.gzip)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()

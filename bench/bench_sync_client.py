"""The terminal's sync engine against a big store: bootstrap, a push backlog, a pull.

Usage: .venv/bin/python bench/bench_sync_client.py [--products 200000] [--sales 10000]
                                                  [--changes 1000] [--backend sqlite|postgresql]

Setup: a server database (SQLite by default, or a throwaway PostgreSQL cluster) seeded with
``seed_demo(engine, products=N)`` (the demo store plus N synthetic products of one variant
each), served by the real app (`stormcom-server serve`, one worker, rate limits off). One
till (its own SQLite file, WAL, synchronous=FULL) enrols with the seed's pairing code through
``ServerClient``.

Measured, each with ``SyncEngine`` exactly as the app runs it:

1. ``bootstrap()`` into the empty till: every snapshot page (5,000 rows) of every mirrored
   type, each page stored with its resume point (target: 200,000 variants < 30 s);
2. ``push_pending()`` of a backlog of ``--sales`` cash sales recorded offline (one local
   transaction each, not timed), 100 ops a batch (target: 10,000 sales < 35 s);
3. ``pull()`` of ``--changes`` price changes made on the server (target: 1,000 < 1 s).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cuid2 import create_id  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_ingest import serve  # noqa: E402
from server.catalog.models import Variant  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.engine import make_engine  # noqa: E402
from server.seed.demo import SeedReport, seed_demo  # noqa: E402
from stormcom_pos.domain.sync_payloads import (  # noqa: E402
    DrawerOpen,
)
from stormcom_pos.domain.sync_protocol import OpKind  # noqa: E402
from stormcom_pos.local_db import ledger_repo, outbox  # noqa: E402
from stormcom_pos.local_db.database import LocalDb  # noqa: E402
from stormcom_pos.sync.client import ServerClient  # noqa: E402
from stormcom_pos.sync.engine import SyncEngine  # noqa: E402
from stormcom_pos.sync.status import BootstrapProgress  # noqa: E402
from tests.terminal.sync.process_till import record_cash_sales  # noqa: E402


def seed(url: str, products: int) -> tuple[str, str]:
    """Seed the server; returns the pairing code and a cashier's user id."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    start = time.perf_counter()
    report = seed_demo(engine, products=products)
    assert isinstance(report, SeedReport)
    print(f"seeded {report.products} products / {report.variants} variants in "
          f"{time.perf_counter() - start:.1f} s")
    with engine.connect() as conn:
        cashier = conn.execute(text(
            "SELECT us.user_id FROM user_store us JOIN role r ON r.id = us.role_id "
            "WHERE r.name = 'CASHIER'")).scalar_one()
    engine.dispose()
    return report.pairing_code, str(cashier)


def record_backlog(db: LocalDb, sales: int, cashier: str) -> None:
    with db.read() as conn:
        variants = conn.execute(text(
            "SELECT id, sku, price FROM cache_variant ORDER BY key LIMIT 50")).all()
    now = datetime.now(UTC)
    opened = DrawerOpen(pos_session_id=create_id(), cashier_id=cashier,
                        opening_float=Decimal("100"), opened_at=now)
    with db.write() as conn:
        ledger_repo.open_drawer(conn, opened)
        outbox.append(conn, OpKind.DRAWER_OPEN, opened, staff_id=cashier, occurred_at=now)
    record_cash_sales(db, variants, opened.pos_session_id, cashier, sales, now)


def reprice(url: str, count: int) -> None:
    engine = make_engine(url)
    with Session(engine) as db:
        for variant in db.scalars(select(Variant).order_by(Variant.id).limit(count)):
            variant.price = variant.price + Decimal("0.01")
        db.commit()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--sales", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=1_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stormcom-sync-client-"))
    cluster = None
    if args.backend == "postgresql":
        from tests.pgcluster import start_cluster

        cluster = start_cluster()
        url = cluster.create_database("bench_sync_client")
    else:
        url = f"sqlite:///{work}/server.db"
    try:
        run(args, work, url)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)  # a 200,000-product run leaves ~1 GB


def run(args: argparse.Namespace, work: Path, url: str) -> None:
    code, cashier = seed(url, args.products)
    proc, base = serve(url, 1)
    print(f"server: {args.backend}, stormcom-server serve, 1 worker on loopback; one till (SQLite, "
          f"synchronous=FULL)")
    try:
        db = LocalDb(work / "till.db")
        db.open()
        client = ServerClient(base)
        client.enrol(code)
        engine = SyncEngine(db, client)
        last: list[BootstrapProgress] = []
        start = time.perf_counter()
        engine.bootstrap(last.append)
        elapsed = time.perf_counter() - start
        with db.read() as conn:
            variants = conn.execute(text("SELECT count(*) FROM cache_variant")).scalar_one()
        print(f"bootstrap: {last[-1].loaded_rows} rows ({variants} variants) in {elapsed:.1f} s "
              f"= {last[-1].loaded_rows / elapsed:,.0f} rows/s (target: 200,000 variants "
              f"< 30 s)")

        record_backlog(db, args.sales, cashier)
        start = time.perf_counter()
        handled = engine.push_pending()
        elapsed = time.perf_counter() - start
        counts = engine.status()
        print(f"push: {handled} ops ({args.sales} sales + 1 drawer open) in {elapsed:.1f} s "
              f"= {handled / elapsed:,.0f} ops/s; pending {counts.pending}, quarantined "
              f"{counts.quarantined} (target: 10,000 sales < 35 s)")

        engine.pull()  # catch up on the push's own changes first
        reprice(url, args.changes)
        start = time.perf_counter()
        pulled = engine.pull()
        elapsed = time.perf_counter() - start
        print(f"pull: {pulled} changes in {elapsed * 1000:.0f} ms (target: 1,000 < 1 s)")
        db.close()
        client.close()
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()

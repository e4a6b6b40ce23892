"""How long ``stormcom-server seed-demo --products N`` takes on a fresh database.

Usage: .venv/bin/python bench/bench_seed.py [--products 200000] [--backend sqlite|postgresql]
Prints the wall time of migrate and of seed-demo, and the rows created.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from server.catalog.models import Product, Variant  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.engine import make_engine  # noqa: E402
from server.seed.demo import seed_demo  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--products", type=int, default=200_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()

    cluster = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.backend == "sqlite":
            url = f"sqlite:///{tmp}/bench.db"
        else:
            from tests.pgcluster import start_cluster

            cluster = start_cluster()
            url = cluster.create_database("bench")
        try:
            engine = make_engine(url)
            t0 = time.perf_counter()
            migrate.upgrade(engine)
            t1 = time.perf_counter()
            seed_demo(engine, products=args.products)
            t2 = time.perf_counter()
            with Session(engine) as s:
                products = s.scalar(select(func.count()).select_from(Product))
                variants = s.scalar(select(func.count()).select_from(Variant))
            engine.dispose()
        finally:
            if cluster:
                cluster.stop()
    print(f"backend={args.backend} products={products} variants={variants}")
    print(f"migrate: {t1 - t0:.1f} s")
    print(
        f"seed-demo --products {args.products}: {t2 - t1:.1f} s "
        f"({variants / (t2 - t1):.0f} variants/s)"
    )


if __name__ == "__main__":
    main()

"""The till's durable local commit of one sale, with a 200,000-variant cache in the same file.

Usage: .venv/bin/python bench/bench_local_commit.py [--variants 200000] [--sales 1000]
        [--dir /tmp/somewhere]
Builds a fresh till file (WAL, synchronous=FULL) and fills the cache through
``cache_apply.load_snapshot_rows`` in snapshot pages of 5,000 rows, one transaction each, as a
bootstrap does (products first, four variants per product). Then it records ``--sales`` cash
sales of 3 lines, each one ``BEGIN IMMEDIATE`` transaction: receipt number, the sale, its
lines and stock deltas, and the outbox entry, committed with an fsync. Prints the load time
and the p50/p99 of the commit, plus search and barcode lookup times against the full cache.
Sync-anchors §4.3 target: commit p99 < 20 ms on till hardware.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stormcom_pos.domain.sync_protocol import OpKind  # noqa: E402
from stormcom_pos.local_db import cache_apply, catalog_repo, ledger_repo, outbox  # noqa: E402
from stormcom_pos.local_db.database import LocalDb  # noqa: E402
from tests.terminal.local_db.builders import (  # noqa: E402
    NOW,
    product_row,
    sale,
    variant_row,
)

PAGE = 5000
VARIANTS_PER_PRODUCT = 4
WORDS = ("apple", "banana", "cherry", "kettle", "shirt", "cola", "bread", "cheese", "lamp",
         "socks", "tea", "coffee", "rice", "pasta", "soap", "towel")


def ean13(n: int) -> str:
    body = f"200{n:09d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def load_cache(db: LocalDb, variants: int) -> float:
    products = max(1, variants // VARIANTS_PER_PRODUCT)
    start = time.perf_counter()
    for first in range(0, products, PAGE):
        rows = [product_row(f"p{i:07d}", f"{WORDS[i % len(WORDS)].title()} {i} "
                            f"{WORDS[(i // 7) % len(WORDS)]}")
                for i in range(first, min(first + PAGE, products))]
        with db.write() as conn:
            cache_apply.load_snapshot_rows(conn, "product", rows)
    for first in range(0, variants, PAGE):
        rows = [variant_row(f"v{i:07d}", f"p{i // VARIANTS_PER_PRODUCT:07d}", sku=f"SKU{i:07d}",
                            barcode=ean13(i), price=f"{1 + i % 50}.99", stock=i % 30,
                            is_default=i % VARIANTS_PER_PRODUCT == 0,
                            attributes={"size": ("S", "M", "L", "XL")[i % 4]})
                for i in range(first, min(first + PAGE, variants))]
        with db.write() as conn:
            cache_apply.load_snapshot_rows(conn, "variant", rows)
    return time.perf_counter() - start


def commit_sales(db: LocalDb, count: int, variants: int) -> list[float]:
    timings = []
    for n in range(count):
        lines = [(f"v{(n * 3 + k) % variants:07d}", 1 + k, "2.99") for k in range(3)]
        started = time.perf_counter()
        with db.write() as conn:
            receipt = ledger_repo.next_receipt_number(conn, "DEMO", 1)
            order = sale(lines=lines, receipt=receipt, session_id="bench-session")
            ledger_repo.record_sale(conn, order)
            outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="cashier-1",
                          occurred_at=NOW)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def timed(fn, runs: int = 50) -> float:  # type: ignore[no-untyped-def]
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=200_000)
    parser.add_argument("--sales", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        db = LocalDb(Path(folder) / "till.db").open()
        try:
            loaded = load_cache(db, args.variants)
            print(f"loaded {args.variants:,} variants (+{args.variants // VARIANTS_PER_PRODUCT:,}"
                  f" products) in {loaded:.1f} s ({args.variants / loaded:,.0f} variants/s)")
            commits = commit_sales(db, args.sales, args.variants)
            print(f"sale commit (3 lines, cash, synchronous=FULL), {args.sales} runs: "
                  f"p50 {percentile(commits, 50):.2f} ms, p99 {percentile(commits, 99):.2f} ms, "
                  f"max {max(commits):.2f} ms")
            with db.read() as conn:
                code = ean13(args.variants // 2)
                print(f"search 'kett' p50 {timed(lambda: catalog_repo.search(conn, 'kett')):.2f}"
                      f" ms; search 'cheese bread' p50 "
                      f"{timed(lambda: catalog_repo.search(conn, 'cheese bread')):.2f} ms; "
                      f"by_barcode p50 {timed(lambda: catalog_repo.by_barcode(conn, code)):.2f}"
                      " ms")
            print(f"file size {db.path.stat().st_size / 1e6:.0f} MB")
        finally:
            db.close()


if __name__ == "__main__":
    main()

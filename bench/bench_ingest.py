"""POS ingestion on PostgreSQL from concurrent terminals, and the bare-SQL limit beside it.

Usage: .venv/bin/python bench/bench_ingest.py [--terminals 20] [--sales 150] [--batch 1 10]
                                             [--paced 100 200 300] [--no-bare]
                                             [--workers 2] [--url postgresql+psycopg://...]

Setup: a throwaway PostgreSQL cluster on loopback (tests/pgcluster.py; the test cluster's
settings: fsync off, synchronous_commit off), migrated; one store on the Enterprise plan with
300 taxed variants; ``--terminals`` paired terminals, each with its drawer open. All terminals
sell in the same store, so every sale contends for that store's change-sequence counter row
(the worst case: one store, many tills).

Server: the real app as production runs it, ``stormcom-server serve --workers N`` on 127.0.0.1
(N uvicorn processes, each with its own SO_REUSEPORT socket; rate limits off),
spoken to over HTTP/1.1 keep-alive with httpx, one client thread per terminal. Each sale is 3
lines with tax and a cash payment; a push carries ``--batch`` sales (1: push after every sale,
what a till does online). Printed: sales per second over the whole run and the median/p95
latency of a push. The client threads run on the same machine and take CPU from the server.

Two ways to load it:

- ``--batch N`` (closed loop): each terminal pushes N sales again as soon as it has its
  answer. This measures the most the server takes; its latency is queueing by construction
  (20 pushes always in flight, divided by the throughput).
- ``--paced R`` (open loop): the terminals together ring up R sales a second, evenly spread,
  whatever the server does, and each pushes as the till's sync engine does: everything its
  outbox holds (up to ``MAX_PUSH_OPS``) as soon as its last push is answered. Printed too:
  the time from a sale's ring-up to its answer, and the sales per push. A server that keeps
  up answers at R sales a second.

Bare SQL: the same sales written with hand-written SQL through psycopg, one transaction per
sale (the order, 3 lines, the payment, 3 relative stock updates, 3 ledger rows), from the
same number of threads: the ceiling for these rows on this machine, so the ratio says what the
protocol, authentication, checks, inbox, audit and change log cost.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from server.catalog.models import Product, ProductStatus, Variant  # noqa: E402
from server.db import migrate  # noqa: E402
from server.db.base import new_id  # noqa: E402
from server.db.engine import make_engine  # noqa: E402
from server.identity.principal import Principal  # noqa: E402
from server.pos import devices_service  # noqa: E402
from server.seed.operators import create_store, create_user  # noqa: E402
from server.stores.models import Store  # noqa: E402
from server.tax.models import TaxRate  # noqa: E402
from stormcom_pos.domain.money import round_money  # noqa: E402

RATE = Decimal("0.0825")
VARIANTS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def setup(url: str, terminals: int) -> dict[str, Any]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as db:
        store = create_store(db, name="Bench Mart", slug="bench", email="b@bench.test",
                             plan="ENTERPRISE", code="BEN")
        cashier = create_user(db, email="cashier@bench.test", name="Cashier",
                              password="Bench-Pass-123", store_slug="bench", role="CASHIER")
        owner = create_user(db, email="owner@bench.test", name="Owner",
                            password="Bench-Pass-123", store_slug="bench", role="OWNER")
        db.info["store_id"] = store.id
        rate = TaxRate(store_id=store.id, name="Tax", country="US", rate=RATE)
        db.add(rate)
        variants = []
        for i in range(VARIANTS):
            product = Product(store_id=store.id, name=f"Item {i}", slug=f"item-{i}",
                              status=ProductStatus.ACTIVE)
            db.add(product)
            db.flush()
            variant = Variant(store_id=store.id, product_id=product.id, sku=f"B{i:05d}",
                              price=Decimal("1.25") + Decimal(i % 40) / 4,
                              stock_quantity=1_000_000)
            db.add(variant)
            variants.append(variant)
        db.commit()
        info = {"store_id": store.id, "cashier": cashier.id, "rate_id": rate.id,
                "variants": [(v.id, v.sku, v.price) for v in variants], "terminals": []}
        actor = Principal(kind="user", user_id=owner.id, store_id=store.id)
        for n in range(terminals):
            store_row = db.get(Store, store.id)
            pairing = devices_service.create_pairing(
                db, actor=actor, store=store_row, name=f"Till {n}", now=now,  # type: ignore
                lifetime=timedelta(hours=1))
            db.commit()
            enrolled = devices_service.enrol(db, code=pairing.code, now=now)
            token = devices_service.issue_access_token(
                db, credential=enrolled.credential, now=now, lifetime=timedelta(hours=1))
            db.commit()
            info["terminals"].append({"device_id": enrolled.device.id, "token": token.token,
                                      "session_id": new_id(), "seq": 0, "receipt": 0})
    engine.dispose()
    return info


def _money(v: Decimal) -> str:
    return format(round_money(v, "USD"), "f")


def make_sale(info: dict[str, Any], term: dict[str, Any], i: int) -> dict[str, Any]:
    lines, subtotal, tax_total = [], Decimal(0), Decimal(0)
    for k in range(3):
        vid, sku, price = info["variants"][(i * 7 + k * 101 + len(term["token"])) % VARIANTS]
        net = round_money(price * 2, "USD")
        tax = round_money(net * RATE, "USD")
        subtotal, tax_total = subtotal + net, tax_total + tax
        lines.append({"id": new_id(), "variant_id": vid, "product_id": None, "name": sku,
                      "sku": sku, "quantity": "2", "unit_price": _money(price),
                      "original_unit_price": _money(price),
                      "taxes": [{"tax_rate_id": info["rate_id"], "name": "Tax",
                                 "rate": str(RATE), "amount": _money(tax)}],
                      "net": _money(net), "tax": _money(tax), "total": _money(net + tax)})
    total = subtotal + tax_total
    term["receipt"] += 1
    return {"order_id": new_id(), "receipt_number": f"BEN-{term['device_id'][-4:]}-"
            f"{term['receipt']:06d}", "pos_session_id": term["session_id"],
            "cashier_id": info["cashier"], "currency": "USD", "prices_include_tax": False,
            "lines": lines, "subtotal": _money(subtotal), "discount_total": "0.00",
            "tax_total": _money(tax_total), "total": _money(total),
            "payments": [{"id": new_id(), "method": "CASH", "amount": _money(total),
                          "tendered": _money(total + 10), "change": "10.00"}],
            "completed_at": datetime.now(UTC).isoformat()}


def _op(info: dict[str, Any], term: dict[str, Any], kind: str,
        payload: dict[str, Any]) -> dict[str, Any]:
    term["seq"] += 1
    return {"op_id": new_id(), "device_seq": term["seq"], "kind": kind, "op_version": 1,
            "occurred_at": datetime.now(UTC).isoformat(), "staff_id": info["cashier"],
            "payload": payload}


def _push(client: httpx.Client, term: dict[str, Any], ops: list[dict[str, Any]]) -> None:
    r = client.post("/api/v1/sync/push", headers={"Authorization": f"Bearer {term['token']}"},
                    json={"app_version": "bench", "cache_schema_version": 1, "ops": ops})
    assert r.status_code == 200, r.text
    assert all(x["status"] == "applied" for x in r.json()["results"]), r.text


def _clients(base: str, info: dict[str, Any]) -> list[httpx.Client]:
    clients = [httpx.Client(base_url=base, timeout=60) for _ in info["terminals"]]
    for client, term in zip(clients, info["terminals"], strict=True):
        if not term.get("open"):
            term["open"] = True
            _push(client, term, [_op(info, term, "drawer.open", {
                "pos_session_id": term["session_id"], "cashier_id": info["cashier"],
                "opening_float": "100.00", "opened_at": datetime.now(UTC).isoformat()})])
        for i in range(3):  # warm up every worker's caches and connections
            _push(client, term, [_op(info, term, "order.submit", make_sale(info, term, i))])
    return clients


def run_http(base: str, info: dict[str, Any], sales: int, batch: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    clients = _clients(base, info)
    barrier = threading.Barrier(len(clients) + 1)

    def terminal(client: httpx.Client, term: dict[str, Any]) -> None:
        pushes = [[_op(info, term, "order.submit", make_sale(info, term, i * batch + k))
                   for k in range(batch)] for i in range(sales // batch)]
        mine = []
        barrier.wait()
        for ops in pushes:
            start = time.perf_counter()
            _push(client, term, ops)
            mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=terminal, args=(c, t))
               for c, t in zip(clients, info["terminals"], strict=True)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    for c in clients:
        c.close()
    return elapsed, latencies


def run_paced(base: str, info: dict[str, Any], sales: int,
              rate: float) -> tuple[float, list[float], list[float], list[int]]:
    """Open loop: every terminal rings up a sale every ``terminals / rate`` seconds (their
    clocks staggered), whatever the server does, and pushes as the sync engine does: all the
    sales its outbox holds (up to ``MAX_PUSH_OPS``) as soon as its last push is answered.
    Returns the time from the first sale to the last answer, push latencies, the latency of
    each sale from its ring-up to its answer, and the sales per push."""
    from stormcom_pos.domain.sync_protocol import MAX_PUSH_OPS

    clients = _clients(base, info)
    lock = threading.Lock()
    pushes: list[float] = []
    waits: list[float] = []
    sizes: list[int] = []
    gap = len(clients) / rate
    barrier = threading.Barrier(len(clients) + 1)
    begin: list[float] = []

    def terminal(n: int, client: httpx.Client, term: dict[str, Any]) -> None:
        ops = [_op(info, term, "order.submit", make_sale(info, term, i)) for i in range(sales)]
        mine_push, mine_wait, mine_size = [], [], []
        barrier.wait()
        start = begin[0]
        due = [start + (n / len(clients) + i) * gap for i in range(sales)]
        sent = 0
        while sent < sales:
            now = time.perf_counter()
            if due[sent] > now:
                time.sleep(due[sent] - now)
                now = time.perf_counter()
            upto = sent
            while upto < sales and due[upto] <= now and upto - sent < MAX_PUSH_OPS:
                upto += 1
            _push(client, term, ops[sent:upto])
            done = time.perf_counter()
            mine_push.append((done - now) * 1000)
            mine_wait += [(done - due[i]) * 1000 for i in range(sent, upto)]
            mine_size.append(upto - sent)
            sent = upto
        with lock:
            pushes.extend(mine_push)
            waits.extend(mine_wait)
            sizes.extend(mine_size)

    threads = [threading.Thread(target=terminal, args=(n, c, t)) for n, (c, t)
               in enumerate(zip(clients, info["terminals"], strict=True))]
    for t in threads:
        t.start()
    begin.append(time.perf_counter() + 0.5)
    barrier.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin[0]
    for c in clients:
        c.close()
    return elapsed, pushes, waits, sizes


def _report_paced(rate: float, elapsed: float, pushes: list[float], waits: list[float],
                  sizes: list[int]) -> None:
    def p95(xs: list[float]) -> float:
        return statistics.quantiles(xs, n=20)[-1]

    print(f"paced at {rate:5.0f} sales/s offered: {len(waits):>6} sales in {elapsed:6.2f} s = "
          f"{len(waits) / elapsed:7.1f} sales/s   push median {statistics.median(pushes):6.1f} ms"
          f"  p95 {p95(pushes):6.1f} ms   sale to answer p95 {p95(waits):6.1f} ms   "
          f"sales per push mean {statistics.mean(sizes):4.1f} max {max(sizes)}")


SQL_ORDER = (
    'INSERT INTO "order" (id, store_id, order_number, receipt_number, subtotal, shipping_cost,'
    " tax_amount, discount_amount, total, currency, prices_include_tax, tax_rounding,"
    " tax_lines, discount_lines, rounding_adjustment, status, payment_status,"
    " fulfillment_status, shipping_address, billing_address, channel, pos_session_id,"
    " device_id, cashier_id, occurred_at, anomalies, flagged, created_at, updated_at) VALUES"
    " (%s,%s,%s,%s,%s,0,%s,0,%s,'USD',false,'PER_LINE','[]','[]',0,'DELIVERED','PAID',"
    " 'FULFILLED','{}','{}','POS',%s,%s,%s,now(),'[]',false,now(),now())")
SQL_ITEM = (
    "INSERT INTO order_item (id, store_id, order_id, variant_id, product_name, variant_sku,"
    " attributes, quantity, unit_price, original_unit_price, discount_amount, tax_amount,"
    " subtotal, total, tax_lines, discount_lines, quantity_fulfilled, quantity_shipped,"
    " quantity_refunded, refunded_amount, refunded_tax_amount, anomalies, created_at,"
    " updated_at) VALUES (%s,%s,%s,%s,%s,%s,'{}',%s,%s,%s,0,%s,%s,%s,'[]','[]',%s,0,0,0,0,"
    " '[]',now(),now())")
SQL_PAYMENT = (
    "INSERT INTO payment (id, store_id, order_id, method, gateway, amount, currency,"
    " tendered_amount, change_amount, status, pos_session_id, paid_at, occurred_at,"
    " created_at, updated_at) VALUES (%s,%s,%s,'CASH','pos',%s,'USD',%s,%s,'CAPTURED',%s,"
    " now(),now(),now(),now())")
SQL_STOCK = "UPDATE variant SET stock_quantity = stock_quantity - %s WHERE id = %s " \
            "RETURNING stock_quantity"
SQL_LEDGER = (
    "INSERT INTO inventory_adjustment (id, store_id, variant_id, quantity_change, new_quantity,"
    " reason, order_id, user_id, created_at, updated_at) VALUES (%s,%s,%s,%s,%s,"
    " 'ORDER_PLACED',%s,%s,now(),now())")


def run_bare(dsn: str, info: dict[str, Any], sales: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(info["terminals"]) + 1)
    store = info["store_id"]

    def terminal(term: dict[str, Any]) -> None:
        rows = [make_sale(info, term, 10_000 + i) for i in range(sales)]
        mine = []
        with psycopg.connect(dsn) as conn:
            conn.execute("SELECT set_config('app.current_store_id', %s, false)", (store,))
            barrier.wait()
            for s in rows:
                start = time.perf_counter()
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(SQL_ORDER, (s["order_id"], store, s["receipt_number"] + "b",
                                            s["receipt_number"] + "b", s["subtotal"],
                                            s["tax_total"], s["total"], term["session_id"],
                                            term["device_id"], info["cashier"]))
                    cur.executemany(SQL_ITEM, [(ln["id"], store, s["order_id"], ln["variant_id"],
                                                ln["name"], ln["sku"], ln["quantity"],
                                                ln["unit_price"], ln["original_unit_price"],
                                                ln["tax"], ln["net"], ln["total"],
                                                ln["quantity"]) for ln in s["lines"]])
                    p = s["payments"][0]
                    cur.execute(SQL_PAYMENT, (p["id"], store, s["order_id"], p["amount"],
                                              p["tendered"], p["change"], term["session_id"]))
                    for ln in sorted(s["lines"], key=lambda x: x["variant_id"]):
                        level = cur.execute(SQL_STOCK, (2, ln["variant_id"])).fetchone()
                        cur.execute(SQL_LEDGER, (new_id(), store, ln["variant_id"], -2,
                                                 level[0] if level else 0, s["order_id"],
                                                 info["cashier"]))
                mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=terminal, args=(t,)) for t in info["terminals"]]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies


def _report(name: str, elapsed: float, latencies: list[float], per_op: int) -> None:
    n = len(latencies) * per_op
    p95 = statistics.quantiles(latencies, n=20)[-1]
    print(f"{name:<44} {n:>6} sales in {elapsed:6.2f} s = {n / elapsed:7.1f} sales/s   "
          f"latency median {statistics.median(latencies):6.1f} ms  p95 {p95:6.1f} ms")


def serve(url: str, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {**os.environ, "STORMCOM_DATABASE_URL": url, "STORMCOM_RATE_LIMIT_ENABLED": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=Path(__file__).resolve().parents[1])
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("uvicorn did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--terminals", type=int, default=20)
    parser.add_argument("--sales", type=int, default=150, help="sales per terminal")
    parser.add_argument("--batch", type=int, nargs="*", default=[1, 10])
    parser.add_argument("--paced", type=float, nargs="*", default=[],
                        help="open loop: offered sales per second, all terminals together")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare SQL run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    cluster = None
    if args.url is None:
        from tests.pgcluster import start_cluster

        cluster = start_cluster()
        url = cluster.create_database("bench_ingest")
    else:
        url = args.url
    try:
        info = setup(url, args.terminals)
        proc, base = serve(url, args.workers)
        print(f"PostgreSQL, {args.terminals} terminals in one store, stormcom-server serve "
              f"--workers {args.workers} on loopback, {os.cpu_count()} CPUs shared with the "
              "clients")
        try:
            for batch in args.batch:
                elapsed, lat = run_http(base, info, args.sales, batch)
                _report(f"push API, {batch} sale(s) per push", elapsed, lat, batch)
            for rate in args.paced:
                _report_paced(rate, *run_paced(base, info, args.sales, rate))
        finally:
            proc.terminate()
            proc.wait(10)
        if args.no_bare:
            return
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        elapsed, lat = run_bare(dsn, info, args.sales)
        _report("bare SQL rows, 1 sale per transaction", elapsed, lat, 1)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()

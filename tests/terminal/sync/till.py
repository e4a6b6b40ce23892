"""A till for the scenarios: its own SQLite file, a ServerClient through the server's fault
transport, and a SyncEngine; plus the facts a cashier records (drawer, sales) and the
invariants checked after every scenario."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cuid2 import create_id
from sqlalchemy import text

from stormcom_pos.domain.money import round_money
from stormcom_pos.domain.sync_payloads import (
    DrawerOpen,
    OrderSubmit,
    SaleLine,
    SalePayment,
    TaxLine,
)
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.sync.client import ServerClient
from stormcom_pos.sync.engine import SyncEngine
from tests.server.conftest import Tenant
from tests.server.sync_fixtures import TAX_RATE, Catalog
from tests.terminal.sync.server_harness import BASE_URL, ServerHarness


def _no_sleep(_seconds: float) -> None:
    """Backoff waits are skipped in the in-process tier (the faults are instant)."""


class Till:
    def __init__(self, server: ServerHarness, tenant: Tenant, path: Path, *,
                 now: Callable[[], datetime] | None = None, snapshot_limit: int = 1000,
                 enrol: bool = True) -> None:
        self.server, self.tenant, self.path = server, tenant, path
        self.now = now or server.clock
        self.db = LocalDb(path)
        self.db.open()
        self.client = ServerClient(BASE_URL, transport=server.transport, sleep=_no_sleep,
                                   rng=random.Random(1), retries=4)
        self.engine = SyncEngine(self.db, self.client, now=self.now,
                                 snapshot_limit=snapshot_limit)
        self.terminal_number = 1
        self.session_id: str | None = None
        if enrol:
            enrolment = self.client.enrol(server.pairing_code(tenant, f"Till {path.stem}"))
            self.terminal_number = enrolment.terminal_number

    def reopen(self) -> Till:
        """The same till after a restart (kill): a new process on the same file."""
        self.db.close()
        again = Till(self.server, self.tenant, self.path, now=self.now,
                     snapshot_limit=self.engine.snapshot_limit, enrol=False)
        again.client.set_credential(self.client.credential)
        again.terminal_number, again.session_id = self.terminal_number, self.session_id
        return again

    def close(self) -> None:
        self.db.close()
        self.client.close()

    # ---- facts -------------------------------------------------------------------------------

    @property
    def cashier(self) -> str:
        return self.tenant.users["cashier"]

    def open_drawer(self, float_: str = "100.00") -> str:
        opened = DrawerOpen(pos_session_id=create_id(), cashier_id=self.cashier,
                            opening_float=Decimal(float_), opened_at=self.now())
        with self.db.write() as conn:
            ledger_repo.open_drawer(conn, opened)
            outbox.append(conn, OpKind.DRAWER_OPEN, opened, staff_id=self.cashier,
                          occurred_at=self.now())
        self.session_id = opened.pos_session_id
        return opened.pos_session_id

    def sell(self, catalog: Catalog, lines: list[tuple[str, int]] | None = None,
             *, unknown_variant: bool = False) -> OrderSubmit:
        """Record a cash sale (one local transaction: the sale and its outbox entry)."""
        assert self.session_id, "open the drawer first"
        wanted = lines or [(v, 1) for v in catalog.variant_ids[:2]]
        sale_lines, subtotal, tax_total = [], Decimal(0), Decimal(0)
        for variant_id, qty in wanted:
            price = catalog.prices[variant_id]
            net = round_money(price * qty, "USD")
            tax = round_money(net * TAX_RATE, "USD")
            subtotal, tax_total = subtotal + net, tax_total + tax
            sale_lines.append(SaleLine(
                id=create_id(), variant_id=create_id() if unknown_variant else variant_id,
                product_id=None, name="Thing", sku=catalog.skus[variant_id],
                quantity=Decimal(qty), unit_price=price, original_unit_price=price,
                taxes=[TaxLine(tax_rate_id=catalog.tax_rate_id, name="Sales tax",
                               rate=TAX_RATE, amount=tax)],
                net=net, tax=tax, total=net + tax))
        total = subtotal + tax_total
        with self.db.write() as conn:
            receipt = ledger_repo.next_receipt_number(
                conn, self.server.store_code(self.tenant.store_id), self.terminal_number)
            sale = OrderSubmit(
                order_id=create_id(), receipt_number=receipt, pos_session_id=self.session_id,
                cashier_id=self.cashier, currency="USD", prices_include_tax=False,
                lines=sale_lines, subtotal=subtotal, discount_total=Decimal("0.00"),
                tax_total=tax_total, total=total,
                payments=[SalePayment(id=create_id(), method="CASH", amount=total,
                                      tendered=total + 5, change=Decimal("5.00"))],
                completed_at=self.now())
            ledger_repo.record_sale(conn, sale)
            outbox.append(conn, OpKind.ORDER_SUBMIT, sale, staff_id=self.cashier,
                          occurred_at=self.now())
        return sale

    # ---- what the till holds -----------------------------------------------------------------

    def sales(self) -> list[OrderSubmit]:
        with self.db.read() as conn:
            ids = [r[0] for r in conn.execute(text(
                "SELECT subject_id FROM outbox WHERE kind = 'order.submit'"))]
            return [s for s in (ledger_repo.sale(conn, i) for i in ids) if s is not None]

    def outbox_statuses(self) -> dict[str, str]:
        with self.db.read() as conn:
            return dict(conn.execute(text("SELECT op_id, status FROM outbox")).all())

    def cached(self, entity_type: str) -> dict[str, dict[str, Any]]:
        """The cache's rows of one mirrored type, as the server sent them, by id."""
        table = {"variant": "cache_variant", "product": "cache_product",
                 "customer": "cache_customer", "product_category": "cache_product_category"}
        with self.db.read() as conn:
            if entity_type in table:
                rows = conn.execute(text(f"SELECT id, data FROM {table[entity_type]}"))
            else:
                rows = conn.execute(text("SELECT id, data FROM cache_row WHERE entity_type = :t"),
                                    {"t": entity_type})
            return {str(i): json.loads(d) for i, d in rows}


def utc(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


# ---- invariants (sync-anchors §3.1), checked once things are quiet ----------------------------


def assert_sales_on_server_once(server: ServerHarness, *tills: Till) -> None:
    """Every sale recorded at a till is on the server exactly once, with the same totals."""
    for till in tills:
        for sale in till.sales():
            rows = server.rows('SELECT total, subtotal, tax_amount FROM "order" WHERE id = :i',
                               i=sale.order_id)
            assert len(rows) == 1, f"sale {sale.order_id} is on the server {len(rows)} times"
            total, subtotal, tax = (Decimal(str(v)) for v in rows[0])
            assert (total, subtotal, tax) == (sale.total, sale.subtotal, sale.tax_total)
            items = server.scalar("SELECT count(*) FROM order_item WHERE order_id = :i",
                                  i=sale.order_id)
            assert items == len(sale.lines)
        applied = server.scalar("SELECT count(*) FROM push_inbox WHERE device_id = :d",
                                d=till.client.credential.device_id)  # type: ignore[union-attr]
        with till.db.read() as conn:
            assert applied == outbox.last_device_seq(conn)
            assert outbox.counts(conn).pending == 0


def assert_cache_converged(server: ServerHarness, till: Till,
                           entity_types: tuple[str, ...] = ("variant", "product", "tax_rate",
                                                            "category", "customer")) -> None:
    """The till's cache holds the server's rows of each type, field for field."""
    for entity_type in entity_types:
        expected = json.loads(json.dumps(server.mirror_rows(till.tenant.store_id, entity_type),
                                         default=str))
        assert till.cached(entity_type) == expected, f"{entity_type} rows differ"

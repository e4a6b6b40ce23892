"""A till for the scenarios: its own SQLite file, a ServerClient through the server's fault
transport, and a SyncEngine; plus the facts a cashier records (drawer, sales, refunds, cash
movements, the close). The invariants checked after every scenario are in invariants.py."""

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

from stormcom_pos.domain.cash import count_cash
from stormcom_pos.domain.cash_reports import z_report
from stormcom_pos.domain.enums import CashMovementType, PaymentMethod, RefundReason
from stormcom_pos.domain.money import ZERO, round_money
from stormcom_pos.domain.refunds import RefundableLine, plan_item_refund
from stormcom_pos.domain.sync_payloads import (
    CashMove,
    DrawerClose,
    DrawerOpen,
    OrderSubmit,
    RefundLine,
    RefundSubmit,
    SaleLine,
    SalePayment,
    TaxLine,
)
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.services.shift_data import shift_data
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

    @property
    def store_id(self) -> str:
        return self.tenant.store_id

    @property
    def device_id(self) -> str:
        assert self.client.credential is not None, "the till is not paired"
        return self.client.credential.device_id

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
             *, unknown_variant: bool = False, card: bool = False) -> OrderSubmit:
        """Record a cash (or card) sale: one local transaction, the sale and its outbox entry."""
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
        payment = (SalePayment(id=create_id(), method="CARD_PRESENT", amount=total) if card else
                   SalePayment(id=create_id(), method="CASH", amount=total, tendered=total + 5,
                               change=Decimal("5.00")))
        with self.db.write() as conn:
            receipt = ledger_repo.next_receipt_number(
                conn, self.server.store_code(self.tenant.store_id), self.terminal_number)
            sale = OrderSubmit(
                order_id=create_id(), receipt_number=receipt, pos_session_id=self.session_id,
                cashier_id=self.cashier, currency="USD", prices_include_tax=False,
                lines=sale_lines, subtotal=subtotal, discount_total=Decimal("0.00"),
                tax_total=tax_total, total=total,
                payments=[payment], completed_at=self.now())
            ledger_repo.record_sale(conn, sale)
            outbox.append(conn, OpKind.ORDER_SUBMIT, sale, staff_id=self.cashier,
                          occurred_at=self.now())
        return sale

    def refund(self, sale: OrderSubmit, line_id: str, units: int = 1) -> RefundSubmit:
        """Hand back ``units`` of one line of a sale recorded here, in cash, restocked; the
        amounts come from the shared refund rules (a DomainError when nothing is left)."""
        assert self.session_id, "open the drawer first"
        with self.db.write() as conn:
            prior = ledger_repo.refunds_for(conn, sale.order_id)
            plan = plan_item_refund(
                [_refundable(line, prior) for line in sale.lines], {line_id: units},
                sum((p.amount for p in sale.payments), ZERO),
                sum((r.amount for r in prior), ZERO), sale.currency)
            fact = RefundSubmit(
                refund_id=create_id(), order_id=sale.order_id, pos_session_id=self.session_id,
                cashier_id=self.cashier, approved_by=self.tenant.users["manager"],
                reason=RefundReason.CUSTOMER_REQUEST,
                lines=[RefundLine(order_item_id=r.order_item_id, quantity=Decimal(r.quantity),
                                  amount=r.net, tax=r.tax) for r in plan.lines],
                amount=plan.amount, tax=plan.tax, tender=PaymentMethod.CASH)
            ledger_repo.record_refund(conn, fact)
            outbox.append(conn, OpKind.REFUND_SUBMIT, fact, staff_id=self.cashier,
                          occurred_at=self.now())
        return fact

    def cash_move(self, kind: CashMovementType, amount: Decimal) -> CashMove:
        """A pay-in, pay-out or drop of the open drawer."""
        assert self.session_id, "open the drawer first"
        fact = CashMove(movement_id=create_id(), pos_session_id=self.session_id, type=kind,
                        amount=amount, reason="soak", user_id=self.cashier,
                        approved_by=self.tenant.users["manager"])
        with self.db.write() as conn:
            ledger_repo.record_cash_move(conn, fact)
            outbox.append(conn, OpKind.CASH_MOVE, fact, staff_id=self.cashier,
                          occurred_at=self.now())
        return fact

    def close_drawer(self) -> DrawerClose:
        """The blind close as the drawer service makes it (shift data, Z report); the cashier
        counts exactly the expected cash, in cents."""
        now = self.now()
        with self.db.write() as conn:
            drawer = ledger_repo.open_session(conn)
            assert drawer is not None, "no drawer is open"
            z_number = ledger_repo.next_z_number(conn)
            report = z_report(shift_data(conn, drawer, "USD", now), now, ZERO, z_number - 1)
            cents = {"0.01": int(max(report.cash.expected, ZERO) * 100)}
            fact = DrawerClose(pos_session_id=drawer.pos_session_id, closed_by=self.cashier,
                               counted_by_denomination=cents,
                               counted_total=count_cash("USD", cents).total,
                               expected_cash=report.cash.expected, z_number=z_number,
                               closed_at=now)
            ledger_repo.close_drawer(conn, fact)
            outbox.append(conn, OpKind.DRAWER_CLOSE, fact, staff_id=self.cashier,
                          occurred_at=now)
        self.session_id = None
        return fact

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


def _refundable(line: SaleLine, prior: list[RefundSubmit]) -> RefundableLine:
    back = [r for refund in prior for r in refund.lines if r.order_item_id == line.id]
    return RefundableLine(
        order_item_id=line.id, quantity=int(line.quantity),
        net=line.net, tax=line.tax, refunded_quantity=int(sum((r.quantity for r in back), ZERO)),
        refunded_net=sum((r.amount for r in back), ZERO),
        refunded_tax=sum((r.tax for r in back), ZERO), label=line.name)


def utc(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)

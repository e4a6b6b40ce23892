"""The invariants of sync-anchors §3.1, checked once things are quiet (issue 6, "Done means").

``audit(server, tills)`` reads the server database and each till's file and lists what does
not hold; ``assert_converged`` fails on any of it. The soak (bench/soak.py) prints the counts.

1. **Sales, exactly once.** Every sale a till recorded whose op the server applied is one
   server order with the till's totals, lines and payments; a quarantined or rejected sale is
   on the server zero times (never half); once quiet nothing is pending. The server's push
   inbox holds the till's ops seq for seq (same op ids, no gap). *Lost*: a sale the till
   recorded that is not on the server. *Duplicated*: a server order of the till's device that
   the till never recorded, a payment or a stock movement more than the sale has.
2. **Stock is its ledger.** For every variant of the store, ``stock_quantity`` is the initial
   stock plus the sum of its ``InventoryAdjustment.quantity_change`` rows, and (the tills being
   the only ones moving stock) that equals the initial stock plus every applied stock delta the
   tills recorded (sales out, restocked refunds in).
3. **Drawer cash.** For each drawer session of a till: closed, the till's
   ``DrawerClose.expected_cash`` is the server's ``PosSession.expected_cash``; open, the shared
   rule (``stormcom_pos.domain.cash``) over the till's applied facts is the server's own
   recomputation (``server.pos.ingest_common.cash_summary``) over the facts it holds.
4. **Cache.** Each till's cached variant, product, tax_rate, category and customer rows are the
   server's rows as the feed serves them, field for field.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.orm import Session

from server.catalog.models import Variant
from server.db.engine import make_engine
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos.ingest_common import cash_summary
from server.pos.models import PosSession
from server.stores.models import Store
from server.sync import mirror
from server.sync.models import PushInbox
from stormcom_pos.domain.cash import CashMovement, summarize_cash
from stormcom_pos.domain.enums import PaymentMethod, PosSessionStatus
from stormcom_pos.domain.sync_payloads import DrawerClose, DrawerOpen, OrderSubmit
from stormcom_pos.local_db import ledger_repo
from stormcom_pos.local_db.codec import to_decimal
from stormcom_pos.local_db.ledger_tables import drawer_session, outbox, stock_delta

if TYPE_CHECKING:
    from tests.terminal.sync.till import Till

CACHE_TYPES = ("variant", "product", "tax_rate", "category", "customer")
APPLIED = frozenset({"applied", "duplicate"})
PROBLEM = frozenset({"quarantined", "rejected"})


@dataclass
class Audit:
    """What the invariants found: counts for the soak's report, and every violation."""

    sales_made: int = 0
    sales_on_server: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.problems.append(message)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.problems)

    def summary(self, limit: int = 20) -> str:
        lines = [*(f"lost: {x}" for x in self.lost), *(f"duplicated: {x}" for x in
                                                        self.duplicated), *self.problems]
        more = f"\n... and {len(lines) - limit} more" if len(lines) > limit else ""
        return "\n".join(lines[:limit]) + more


def assert_converged(server_db: str | Engine, tills: Iterable[Till], *,
                     initial_stock: Mapping[str, int] | int = 0, quiet: bool = True) -> Audit:
    """Fail unless every invariant holds (see the module docstring). ``initial_stock`` is each
    variant's level before any ledger row (one number for all, or per variant id; 0 when the
    ledger holds the opening stock, as the demo seed writes it). ``quiet=False`` allows ops
    still pending (a revoked till): their facts must then be on the server once or not at all.
    """
    found = audit(server_db, tills, initial_stock=initial_stock, quiet=quiet)
    assert found.ok, found.summary()
    return found


def audit(server_db: str | Engine, tills: Iterable[Till], *,
          initial_stock: Mapping[str, int] | int = 0, quiet: bool = True) -> Audit:
    """Check every invariant; never raises for a violation, lists it."""
    tills = list(tills)
    found = Audit()
    if not tills:
        return found
    store_id = tills[0].store_id
    with _server(server_db, store_id) as conn:
        server = _ServerFacts(conn, store_id)
        recorded = [_TillFacts(till, server.currency) for till in tills]
        for facts in recorded:
            _check_ops(found, server, facts, quiet)
            _check_sales(found, server, facts, quiet)
            _check_drawers(found, conn, server, facts)
            _check_cache(found, conn, store_id, facts.till)
        _check_stock(found, server, recorded, initial_stock)
    return found


@contextmanager
def _server(server_db: str | Engine, store_id: str) -> Iterator[Connection]:
    engine = make_engine(server_db) if isinstance(server_db, str) else server_db
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":  # row-level security: read as the store
                conn.execute(text("SELECT set_config('app.current_store_id', :s, true)"),
                             {"s": store_id})
            yield conn
    finally:
        if isinstance(server_db, str):
            engine.dispose()


class _ServerFacts:
    """The store's POS facts on the server, read in bulk."""

    def __init__(self, conn: Connection, store_id: str) -> None:
        self.currency = str(conn.scalar(select(Store.currency).where(Store.id == store_id)))
        self.orders = {r.id: r for r in conn.execute(select(
            Order.id, Order.device_id, Order.subtotal, Order.discount_amount, Order.tax_amount,
            Order.rounding_adjustment, Order.total).where(Order.store_id == store_id))}
        self.items: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for r in conn.execute(select(OrderItem.order_id, OrderItem.id, OrderItem.variant_id,
                                     OrderItem.quantity, OrderItem.subtotal,
                                     OrderItem.tax_amount, OrderItem.total)
                              .where(OrderItem.store_id == store_id)):
            self.items[r[0]].add(tuple(r[1:]))
        self.payments: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in conn.execute(select(Payment.order_id, Payment.id, Payment.method,
                                     Payment.amount).where(Payment.store_id == store_id)):
            self.payments[r[0]].append((r[1], PaymentMethod(r[2]).value, r[3]))
        sold = select(InventoryAdjustment.order_id, func.count()).where(
            InventoryAdjustment.store_id == store_id,
            InventoryAdjustment.reason == AdjustmentReason.ORDER_PLACED,
        ).group_by(InventoryAdjustment.order_id)
        self.sale_movements: dict[str, int] = dict(conn.execute(sold).all())  # type: ignore[arg-type]
        ledger = select(InventoryAdjustment.variant_id,
                        func.sum(InventoryAdjustment.quantity_change)).where(
            InventoryAdjustment.store_id == store_id).group_by(InventoryAdjustment.variant_id)
        self.ledger_sums: dict[str, int] = {v: int(s) for v, s in conn.execute(ledger)}
        self.stock: dict[str, int] = dict(conn.execute(  # type: ignore[arg-type]
            select(Variant.id, Variant.stock_quantity).where(Variant.store_id == store_id)).all())
        self.sessions = {r.id: r for r in conn.execute(select(
            PosSession.id, PosSession.status, PosSession.expected_cash)
            .where(PosSession.store_id == store_id))}
        self.inbox: dict[str, dict[int, tuple[str, str]]] = defaultdict(dict)
        for device_id, seq, op_id, status in conn.execute(select(
                PushInbox.device_id, PushInbox.device_seq, PushInbox.op_id, PushInbox.status)
                .where(PushInbox.store_id == store_id)):
            self.inbox[device_id][int(seq)] = (op_id, str(getattr(status, "value", status)))


class _TillFacts:
    """What one till recorded, with the status its outbox holds for each fact."""

    def __init__(self, till: Till, currency: str) -> None:
        self.till, self.currency = till, currency
        self.device_id = till.device_id
        with till.db.read() as conn:
            self.ops = list(conn.execute(select(outbox.c.device_seq, outbox.c.op_id,
                                                outbox.c.kind, outbox.c.subject_id,
                                                outbox.c.status).order_by(outbox.c.device_seq)))
            self.status = {(r.kind, r.subject_id): r.status for r in self.ops}
            self.sales: dict[str, OrderSubmit] = {}
            for r in self.ops:
                if r.kind == "order.submit":
                    sale = ledger_repo.sale(conn, r.subject_id)
                    assert sale is not None, f"outbox names sale {r.subject_id}, ledger has none"
                    self.sales[sale.order_id] = sale
            self.deltas: Counter[str] = Counter()
            for kind, subject, variant_id, quantity in conn.execute(select(
                    stock_delta.c.kind, stock_delta.c.subject_id, stock_delta.c.variant_id,
                    stock_delta.c.quantity)):
                if self.status.get((kind, subject)) in APPLIED:
                    self.deltas[variant_id] += int(to_decimal(quantity))
            self.drawers = [(DrawerOpen.model_validate_json(opened),
                             DrawerClose.model_validate_json(closed) if closed else None,
                             self._expected_cash(conn, pos_session_id))
                            for pos_session_id, opened, closed in conn.execute(select(
                                drawer_session.c.pos_session_id, drawer_session.c.open_payload,
                                drawer_session.c.close_payload))]

    def applied(self, kind: str, subject_id: str) -> bool:
        return self.status.get((kind, subject_id)) in APPLIED

    def _expected_cash(self, conn: Connection, pos_session_id: str) -> Decimal:
        """The shared cash rule over this session's facts the server applied."""
        opened = ledger_repo.drawer_opening(conn, pos_session_id)
        assert opened is not None
        sales = [p.amount for s in ledger_repo.sales_in_session(conn, pos_session_id)
                 if self.applied("order.submit", s.order_id)
                 for p in s.payments if p.method is PaymentMethod.CASH]
        refunds = [r.amount for r in ledger_repo.refunds_in_session(conn, pos_session_id)
                   if self.applied("refund.submit", r.refund_id)
                   and r.tender is PaymentMethod.CASH]
        moves = [CashMovement(m.type, m.amount) for m in ledger_repo.cash_moves(
            conn, pos_session_id) if self.applied("cash.move", m.movement_id)]
        return summarize_cash(opened.opening_float, sales, refunds, moves, self.currency).expected


def _check_ops(found: Audit, server: _ServerFacts, till: _TillFacts, quiet: bool) -> None:
    """The server's inbox holds the till's ops, seq for seq, with the same ids and outcome."""
    inbox = server.inbox.get(till.device_id, {})
    for op in till.ops:
        held = inbox.get(op.device_seq)
        if op.status == "pending":
            if quiet:
                found.fail(f"op {op.device_seq} ({op.kind} {op.subject_id}) is still pending")
            if held is not None and held[0] != op.op_id:
                found.fail(f"server seq {op.device_seq} holds op {held[0]}, not {op.op_id}")
            continue
        if held is None:
            found.fail(f"op {op.device_seq} ({op.kind}) is {op.status} at the till but not in "
                       "the server's inbox")
        elif held[0] != op.op_id:
            found.fail(f"server seq {op.device_seq} holds op {held[0]}, not {op.op_id}")
        elif (op.status in APPLIED) != (held[1] == "APPLIED"):
            found.fail(f"op {op.device_seq}: till says {op.status}, server {held[1]}")
    extra = sorted(set(inbox) - {op.device_seq for op in till.ops})
    if extra:
        found.fail(f"server inbox has seqs {extra[:5]} the till never wrote")


def _check_sales(found: Audit, server: _ServerFacts, till: _TillFacts, quiet: bool) -> None:
    for order_id, sale in till.sales.items():
        status = till.status[("order.submit", order_id)]
        row = server.orders.get(order_id)
        if status in PROBLEM:
            if row is not None or server.items.get(order_id):
                found.fail(f"sale {order_id} is {status} but (partly) on the server")
            continue
        found.sales_made += 1
        if row is None:
            if status in APPLIED or quiet:
                found.lost.append(f"sale {order_id} ({sale.receipt_number}, {status})")
            continue
        found.sales_on_server += 1
        _compare_sale(found, server, sale, row)
    for order_id, row in server.orders.items():
        if row.device_id == till.device_id and order_id not in till.sales:
            found.duplicated.append(f"order {order_id} of device {till.device_id} that the "
                                    "till never recorded")


def _compare_sale(found: Audit, server: _ServerFacts, sale: OrderSubmit, row: Any) -> None:
    oid = sale.order_id
    mine = (sale.subtotal, sale.discount_total, sale.tax_total, sale.rounding_adjustment,
            sale.total)
    theirs = (row.subtotal, row.discount_amount, row.tax_amount, row.rounding_adjustment,
              row.total)
    if mine != theirs:
        found.fail(f"sale {oid}: totals {mine} at the till, {theirs} on the server")
    lines = {(li.id, li.variant_id, li.quantity, li.net, li.tax, li.total) for li in sale.lines}
    if lines != server.items.get(oid, set()):
        found.fail(f"sale {oid}: lines differ: {lines} / {server.items.get(oid)}")
    paid = server.payments.get(oid, [])
    if len(paid) > len(sale.payments):
        found.duplicated.append(f"sale {oid} has {len(paid)} payments on the server, "
                                f"{len(sale.payments)} at the till")
    elif sorted(paid) != sorted((p.id, p.method.value, p.amount) for p in sale.payments):
        found.fail(f"sale {oid}: payments differ: {paid}")
    variants = {li.variant_id for li in sale.lines if li.variant_id}
    moved = server.sale_movements.get(oid, 0)
    if moved > len(variants):
        found.duplicated.append(f"sale {oid} moved stock {moved} times for {len(variants)} "
                                "variants")
    elif moved != len(variants):
        found.fail(f"sale {oid} moved stock {moved} times for {len(variants)} variants")


def _check_stock(found: Audit, server: _ServerFacts, tills: list[_TillFacts],
                 initial_stock: Mapping[str, int] | int) -> None:
    moved: Counter[str] = Counter()
    for till in tills:
        moved.update(till.deltas)
    for variant_id, level in server.stock.items():
        initial = (initial_stock if isinstance(initial_stock, int)
                   else initial_stock.get(variant_id, 0))
        ledger = initial + server.ledger_sums.get(variant_id, 0)
        if level != ledger:
            found.fail(f"variant {variant_id}: stock {level}, its ledger says {ledger}")
        if level != initial + moved[variant_id]:
            found.fail(f"variant {variant_id}: stock {level}, the tills' applied movements "
                       f"say {initial + moved[variant_id]}")


def _check_drawers(found: Audit, conn: Connection, server: _ServerFacts,
                   till: _TillFacts) -> None:
    session: Session | None = None
    for opened, closed, till_expected in till.drawers:
        sid = opened.pos_session_id
        if not till.applied("drawer.open", sid):
            continue
        row = server.sessions.get(sid)
        if row is None:
            found.fail(f"drawer session {sid} is not on the server")
            continue
        if closed is not None and till.applied("drawer.close", sid):
            if PosSessionStatus(row.status) is not PosSessionStatus.CLOSED:
                found.fail(f"drawer session {sid} is closed at the till, {row.status} on the "
                           "server")
            elif closed.expected_cash != row.expected_cash:
                found.fail(f"drawer session {sid}: the till expected {closed.expected_cash} at "
                           f"the close, the server {row.expected_cash}")
            continue
        session = session or Session(bind=conn)
        drawer = session.get(PosSession, sid)
        context = SimpleNamespace(session=session, currency=server.currency)
        recomputed = cash_summary(context, drawer).expected  # type: ignore[arg-type]
        if till_expected != recomputed:
            found.fail(f"open drawer session {sid}: the till's facts give {till_expected}, the "
                       f"server's {recomputed}")
    if session is not None:
        session.close()


def _check_cache(found: Audit, conn: Connection, store_id: str, till: Till) -> None:
    for entity_type in CACHE_TYPES:
        rows = mirror.page_rows(conn, store_id, entity_type, None, 10_000_000)
        expected = json.loads(json.dumps({str(r["id"]): r for r in rows}, default=str))
        cached = till.cached(entity_type)
        if cached != expected:
            differ = sorted(k for k in set(cached) | set(expected)
                            if cached.get(k) != expected.get(k))
            found.fail(f"{entity_type} cache of device {till.device_id} differs from the "
                       f"server in {len(differ)} rows, e.g. {differ[:3]}")


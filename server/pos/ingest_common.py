"""What every POS ingestion handler shares: the op's context, anomaly flags, staff and drawer
lookups, the stock ledger movement, and the drawer's expected cash.

Handlers (``ingest_sales``, ``ingest_refunds``, ``ingest_drawer``, ``ingest_stock``,
``ingest_customers``) store what the till did, with the ids it minted, and flag what looks
wrong (``PosAnomaly``). They raise only for input the server cannot store at all (an unknown
variant, a drawer session with no staff member the server knows): the push service then
quarantines the op, keeping it for re-driving. Nothing here commits or audits; the push service
does both, once per op.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.catalog.models import Product, Variant
from server.clock import as_utc
from server.identity.models import UserStore
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.payments.models import Payment, Refund
from server.pos.anomaly_models import AnomalyKind, PosAnomaly
from server.pos.models import Device, PosCashMovement, PosSession
from server.sync import changes
from stormcom_pos.domain import cash
from stormcom_pos.domain.enums import (
    PaymentMethod,
    PaymentTransactionStatus,
    PosSessionStatus,
    RefundStatus,
)
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.sync_protocol import PushOp

CLOCK_SKEW_LIMIT = timedelta(minutes=5)  # sync-anchors §2.13
PLACEHOLDER_NOTE = "Created by an operation that arrived before its drawer.open"


class OpRefused(Exception):  # noqa: N818 - the op cannot be stored: it is quarantined
    """The op cannot be stored as sent (quarantined with ``code``, kept for re-driving)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Movement:
    """A shared batch's stock movement, settled when the batch locks its variants at its end
    (``ingest_batch.write_stock``): the level it leaves and whether it flagged negative stock
    were worked out from the level read earlier, unlocked."""

    row: InventoryAdjustment
    delta: int
    level_after: int
    tracked: bool
    flagged: bool
    reported: bool  # the op's result states the level (a stock op): it must be exact


@dataclass
class BatchCache:
    """Lookups shared by the ops of one push: staff memberships always; with ``shared`` (the
    push applies the whole batch under one SAVEPOINT, so no op's rows roll back alone) also
    variants, drawer sessions and the orders holding an id or receipt number, read once for
    the batch (``ingest_batch.prefetch``) and kept up to date by the handlers."""

    staff: dict[str, tuple[bool, bool]] = field(default_factory=dict)  # id -> (member, active)
    shared: bool = False
    variants: dict[str, tuple[Variant, Product]] = field(default_factory=dict)
    variants_read: set[str] = field(default_factory=set)  # ids looked up, found or not
    drawers: dict[str, tuple[PosSession, bool]] = field(default_factory=dict)  # (row, locked)
    order_ids: set[str] = field(default_factory=set)
    receipts: dict[str, set[str]] = field(default_factory=dict)  # receipt/order no -> order ids
    orders_read: set[str] = field(default_factory=set)  # order ids and numbers looked up
    stock: dict[str, int] = field(default_factory=dict)  # variant id -> level after the batch
    stock_moved: dict[str, int] = field(default_factory=dict)  # variant id -> summed delta
    movements: list[Movement] = field(default_factory=list)  # the batch's, in order

    def note_order(self, order_id: str, number: str) -> None:
        self.order_ids.add(order_id)
        self.receipts.setdefault(number, set()).add(order_id)
        self.orders_read.update((order_id, number))


@dataclass(frozen=True, slots=True)
class StoreRef:
    """What an op needs of its store (read with the device's lock, not as a whole row)."""

    id: str
    currency: str


@dataclass
class OpContext:
    session: Session
    store: StoreRef
    device: Device
    op: PushOp
    now: datetime
    cache: BatchCache
    flags: list[PosAnomaly] = field(default_factory=list)
    # Rows nothing reads back during the op (ledger rows, flags): added in one go at its end,
    # so the flush inserts each table's rows in one statement.
    deferred: list[Any] = field(default_factory=list)
    moves: list[Movement] = field(default_factory=list)  # a shared batch's, to settle

    @property
    def store_id(self) -> str:
        return self.store.id

    @property
    def currency(self) -> str:
        return self.store.currency

    def flag(self, kind: AnomalyKind, entity_type: str, entity_id: str | None,
             **detail: Any) -> PosAnomaly:
        row = PosAnomaly(
            store_id=self.store_id, kind=kind, entity_type=entity_type, entity_id=entity_id,
            device_id=self.device.id, op_id=self.op.op_id, detail=_json(detail),
            occurred_at=self.op.occurred_at, created_at=self.now, updated_at=self.now)
        self.deferred.append(row)
        self.flags.append(row)
        return row

    def kinds(self) -> list[str]:
        return list(dict.fromkeys(f.kind.value for f in self.flags))


@dataclass(frozen=True)
class Outcome:
    """What a handler did: the entity for the audit row and the op's result for the till."""

    entity_type: str
    entity_id: str
    result: dict[str, Any]
    receipt_counter: int | None = None  # a sale's receipt counter (Device.last_receipt_counter)


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def check_clock(ctx: OpContext, at: datetime, entity_type: str, entity_id: str) -> None:
    """Flag a till clock ahead of the server's (device time decides nothing either way)."""
    if as_utc(at) > ctx.now + CLOCK_SKEW_LIMIT:
        ctx.flag(AnomalyKind.CLOCK_SKEW, entity_type, entity_id, device_time=at,
                 server_time=ctx.now)


# ---- staff ----------------------------------------------------------------------------------


def staff(ctx: OpContext, user_id: str | None, entity_type: str, entity_id: str) -> str | None:
    """The staff id to store: a member of this store (active or not: the server records what
    happened, a removed cashier is flagged), else None and a flag."""
    if not user_id:
        return None
    known = ctx.cache.staff.get(user_id)
    if known is None:
        row = ctx.session.execute(
            select(UserStore.is_active).where(UserStore.user_id == user_id,
                                              UserStore.store_id == ctx.store_id)
        ).first()
        known = (row is not None, bool(row and row[0]))
        ctx.cache.staff[user_id] = known
    member, active = known
    if not member:
        ctx.flag(AnomalyKind.UNKNOWN_STAFF, entity_type, entity_id, user_id=user_id,
                 reason="not a member of this store")
        return None
    if not active:
        ctx.flag(AnomalyKind.UNKNOWN_STAFF, entity_type, entity_id, user_id=user_id,
                 reason="membership inactive")
    return user_id


def required_staff(ctx: OpContext, user_id: str, entity_type: str, entity_id: str) -> str:
    found = staff(ctx, user_id, entity_type, entity_id)
    if found is None:
        raise OpRefused("unknown_staff", f"staff member {user_id} is not a member of this store")
    return found


# ---- drawer sessions ------------------------------------------------------------------------


def drawer(ctx: OpContext, session_id: str, user_id: str | None, entity_type: str,
           entity_id: str, *, lock: bool = False) -> PosSession:
    """The drawer session an op belongs to. One the server has not seen yet (its drawer.open
    was pushed by another terminal, or lost) is created OPEN with a zero float and flagged;
    a later drawer.open fills it in."""
    cached = ctx.cache.drawers.get(session_id) if ctx.cache.shared else None
    if cached is not None and (cached[1] or not lock):
        return cached[0]  # the lock, if taken, is held until the push commits
    stmt = select(PosSession).where(PosSession.id == session_id)
    if lock:
        stmt = stmt.with_for_update()
    found = ctx.session.scalar(stmt)
    if found is not None:
        if ctx.cache.shared:
            ctx.cache.drawers[session_id] = (found, lock)
        return found
    owner = required_staff(ctx, user_id or "", entity_type, entity_id)
    placeholder = PosSession(
        id=session_id, store_id=ctx.store_id, user_id=owner, device_id=ctx.device.id,
        status=PosSessionStatus.OPEN, opened_at=ctx.op.occurred_at, opening_cash=ZERO,
        notes=PLACEHOLDER_NOTE)
    ctx.session.add(placeholder)
    ctx.flag(AnomalyKind.MISSING_DRAWER_SESSION, "pos_session", session_id,
             referenced_by={"entity_type": entity_type, "entity_id": entity_id})
    ctx.session.flush()
    if ctx.cache.shared:
        ctx.cache.drawers[session_id] = (placeholder, True)
    return placeholder


def flag_if_closed(ctx: OpContext, drawer_session: PosSession, entity_type: str,
                   entity_id: str) -> bool:
    if drawer_session.status is PosSessionStatus.CLOSED:
        ctx.flag(AnomalyKind.LATE_AFTER_CLOSE, entity_type, entity_id,
                 pos_session_id=drawer_session.id, closed_at=drawer_session.closed_at)
        return True
    return False


def cash_summary(ctx: OpContext, drawer_session: PosSession) -> cash.CashSummary:
    """Expected cash of a session from the facts the server has (shared rule, §3)."""
    s = ctx.session
    sales = s.scalars(select(Payment.amount).where(
        Payment.pos_session_id == drawer_session.id, Payment.method == PaymentMethod.CASH,
        Payment.status == PaymentTransactionStatus.CAPTURED)).all()
    refunds = s.scalars(select(Refund.amount).where(
        Refund.pos_session_id == drawer_session.id, Refund.tender == PaymentMethod.CASH,
        Refund.status == RefundStatus.COMPLETED)).all()
    moves = s.execute(select(PosCashMovement.type, PosCashMovement.amount).where(
        PosCashMovement.pos_session_id == drawer_session.id)).all()
    return cash.summarize_cash(
        drawer_session.opening_cash, sales, refunds,
        [cash.CashMovement(t, a) for t, a in moves], ctx.currency)


def recompute_closed(ctx: OpContext, drawer_session: PosSession) -> None:
    """A late op changed a closed drawer's facts: recompute its expected cash and variance."""
    ctx.session.flush()
    summary = cash_summary(ctx, drawer_session)
    before = drawer_session.expected_cash
    drawer_session.expected_cash = summary.expected
    if drawer_session.closing_cash is not None:
        drawer_session.cash_difference = cash.over_short(
            drawer_session.closing_cash, summary.expected, ctx.currency)
    if before != summary.expected:
        ctx.flag(AnomalyKind.CASH_VARIANCE, "pos_session", drawer_session.id,
                 expected_before=before, expected_now=summary.expected,
                 counted=drawer_session.closing_cash,
                 difference=drawer_session.cash_difference, reason="late operation")


# ---- stock ----------------------------------------------------------------------------------


def variants(ctx: OpContext, ids: Iterable[str]) -> dict[str, tuple[Variant, Product]]:
    """Variants of this store by id, soft-deleted ones included (a sale of an archived item
    is still a sale), with their products."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    cache = ctx.cache
    if not cache.shared:
        return read_variants(ctx.session, wanted)
    missing = [i for i in wanted if i not in cache.variants_read]
    if missing:
        cache.variants.update(read_variants(ctx.session, missing))
        cache.variants_read.update(missing)
    return {i: cache.variants[i] for i in wanted if i in cache.variants}


def read_variants(session: Session, ids: list[str]) -> dict[str, tuple[Variant, Product]]:
    rows = session.execute(
        select(Variant, Product).join(Product, Product.id == Variant.product_id)
        .where(Variant.id.in_(ids)))
    return {v.id: (v, p) for v, p in rows}


def whole_units(quantity: Decimal) -> int | None:
    """Stock is kept in whole units; a weighed quantity moves no stock (None)."""
    return int(quantity) if quantity == quantity.to_integral_value() else None


def goes_negative(level_after: int, delta: int, tracked: bool) -> bool:
    """A movement to flag: it took a tracked variant's stock below zero."""
    return level_after < 0 and delta < 0 and tracked


def move_stock(ctx: OpContext, variant: Variant, delta: int, *, reason: AdjustmentReason,
               movement_id: str | None = None, order_id: str | None = None,
               user_id: str | None = None, note: str | None = None,
               entity: tuple[str, str] | None = None, reported: bool = False) -> int:
    """Add ``delta`` to the variant's stock (relative UPDATE, no lost update; a shared batch's
    once at its end) and append the ledger row in the same transaction; flags stock going
    below zero. Returns the new level (``reported``: the caller tells it to the till)."""
    cache = ctx.cache
    if cache.shared:
        # The level read by the batch, unlocked; the batch's summed deltas are written at its
        # end under the variants' locks, which settles the levels the ledger rows state
        # (``ingest_batch.write_stock``). Until then no till waits on these rows.
        new_quantity = cache.stock.get(variant.id, variant.stock_quantity) + delta
        cache.stock[variant.id] = new_quantity
        cache.stock_moved[variant.id] = cache.stock_moved.get(variant.id, 0) + delta
    else:
        new_quantity = ctx.session.execute(
            update(Variant).where(Variant.id == variant.id)
            .values(stock_quantity=Variant.stock_quantity + delta, updated_at=ctx.now)
            .returning(Variant.stock_quantity)
            # No autoflush: the op's other rows need not be written for this.
            .execution_options(synchronize_session=False, sync_capture=False, autoflush=False)
        ).scalar_one()
    changes.record(ctx.session, store_id=ctx.store_id, entity_type="variant",
                   entity_id=variant.id)
    movement = InventoryAdjustment(
        store_id=ctx.store_id, variant_id=variant.id, quantity_change=delta,
        new_quantity=new_quantity, reason=reason, notes=note, user_id=user_id,
        order_id=order_id, created_at=ctx.now, updated_at=ctx.now)
    if movement_id:
        movement.id = movement_id  # minted by the till: kept
    ctx.deferred.append(movement)
    negative = goes_negative(new_quantity, delta, bool(variant.track_inventory))
    if negative:
        kind_type, kind_id = entity or ("variant", variant.id)
        ctx.flag(AnomalyKind.NEGATIVE_STOCK, kind_type, kind_id, variant_id=variant.id,
                 sku=variant.sku, stock_after=new_quantity, change=delta)
    if cache.shared:
        ctx.moves.append(Movement(movement, delta, int(new_quantity),
                                  bool(variant.track_inventory), bool(negative), reported))
    return int(new_quantity)

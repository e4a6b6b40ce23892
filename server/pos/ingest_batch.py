"""What a push does once for all its ops: take their row locks up front (``lock_rows``) and,
when it applies them in one go, read the variants its sales and stock ops name and the orders
that already hold its sales' ids or receipt numbers (``prefetch`` into the ``BatchCache`` of
:mod:`server.pos.ingest_common`), and write the stock they moved at the end
(``write_stock``).

The payloads are read as sent (not yet validated): whatever cannot be read here is simply
not prefetched, and the handler looks it up itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, union, update
from sqlalchemy.orm import Session

from server.catalog.models import Variant
from server.customers.models import Customer
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.pos import ingest_common as common
from server.pos.models import PosSession
from stormcom_pos.domain import sync_protocol as proto

_CHUNK = 500


def _strings(values: Iterable[Any]) -> list[str]:
    return sorted({v for v in values if isinstance(v, str) and 0 < len(v) <= 64})


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def lock_rows(session: Session, ops: list[proto.PushOp], *, variants: bool = True) -> None:
    """PostgreSQL: lock every row the batch's ops will lock, up front, by kind and id order
    (variants, orders, drawer sessions, customers). Ops then re-take locks they hold, so two
    batches sharing rows wait for each other instead of deadlocking. SQLite has one writer.

    ``variants=False`` leaves the variants to ``write_stock``, which locks them (in id order,
    after every other lock) only at the end: every till sells the same items, and a lock taken
    at the start was held through the whole batch."""
    if len(ops) < 2 or session.get_bind().dialect.name != "postgresql":
        return
    wanted_variants: list[Any] = []
    orders: list[Any] = []
    drawers: list[Any] = []
    customers: list[Any] = []
    for op in ops:
        p = op.payload
        raw = p.get("lines")
        lines: list[Any] = raw if isinstance(raw, list) else []
        if op.kind is proto.OpKind.ORDER_SUBMIT:
            wanted_variants += [ln.get("variant_id") for ln in lines if isinstance(ln, dict)]
            customers.append(p.get("customer_id"))
        elif op.kind is proto.OpKind.REFUND_SUBMIT:
            orders.append(p.get("order_id"))
        elif op.kind in (proto.OpKind.STOCK_ADJUST, proto.OpKind.STOCK_COUNT):
            wanted_variants.append(p.get("variant_id"))
        drawers.append(p.get("pos_session_id"))
    if not variants:
        wanted_variants = []
    elif _strings(orders):
        wanted_variants += session.scalars(select(OrderItem.variant_id).where(
            OrderItem.order_id.in_(_strings(orders)))).all()
    for model, ids in ((Variant, wanted_variants), (Order, orders), (PosSession, drawers),
                       (Customer, customers)):
        wanted = _strings(ids)
        if wanted:
            # FOR NO KEY UPDATE, what an UPDATE takes: it does not wait for the KEY SHARE
            # lock another push's order lines hold on a variant they reference.
            session.execute(select(model.id).where(model.id.in_(wanted))
                            .order_by(model.id).with_for_update(key_share=True))


def prefetch(session: Session, store_id: str, ops: list[proto.PushOp],
             cache: common.BatchCache) -> None:
    """Fill the batch cache for these ops (see the module docstring)."""
    variant_ids: list[Any] = []
    order_ids: list[Any] = []
    receipts: list[Any] = []
    for op in ops:
        payload = op.payload
        if op.kind is proto.OpKind.ORDER_SUBMIT:
            lines = payload.get("lines")
            variant_ids += [ln.get("variant_id") for ln in lines or () if isinstance(ln, dict)]
            order_ids.append(payload.get("order_id"))
            receipts.append(payload.get("receipt_number"))
        elif op.kind in (proto.OpKind.STOCK_ADJUST, proto.OpKind.STOCK_COUNT):
            variant_ids.append(payload.get("variant_id"))
    for chunk in _chunks(_strings(variant_ids)):
        cache.variants.update(common.read_variants(session, chunk))
        cache.variants_read.update(chunk)
    ids, numbers = _strings(order_ids), _strings(receipts)
    if not ids and not numbers:
        return
    for row_id, receipt, number in session.execute(union(
            select(Order.id, Order.receipt_number, Order.order_number)
            .where(Order.store_id == store_id, Order.id.in_(ids)),
            select(Order.id, Order.receipt_number, Order.order_number)
            .where(Order.store_id == store_id, Order.receipt_number.in_(numbers)),
            select(Order.id, Order.receipt_number, Order.order_number)
            .where(Order.store_id == store_id, Order.order_number.in_(numbers)))):
        cache.order_ids.add(row_id)
        for held in {receipt, number} - {None}:
            cache.receipts.setdefault(held, set()).add(row_id)
    cache.orders_read.update(ids)
    cache.orders_read.update(numbers)


class StockDrift(Exception):  # noqa: N818 - a signal to the push service, not a failure
    """Another push moved a variant between this batch's read and its lock, and the levels
    now cross zero differently: the batch is redone op by op, with the locks up front."""


def write_stock(session: Session, cache: common.BatchCache, now: datetime) -> None:
    """The stock a shared batch moved: lock its variants in id order, settle the levels its
    ledger rows state (another push may have moved them since the batch read them), then one
    relative UPDATE per variant, sent as one executemany (its changes are already noted by
    ``ingest_common.move_stock``)."""
    if not cache.stock_moved:
        return
    ids = sorted(cache.stock_moved)
    locked = dict(session.execute(select(Variant.id, Variant.stock_quantity)
                                  .where(Variant.id.in_(ids)).order_by(Variant.id)
                                  .with_for_update(key_share=True)).all())
    read = {vid: cache.stock[vid] - cache.stock_moved[vid] for vid in ids}
    _settle(session, cache, {vid: locked[vid] - read[vid] for vid in ids if vid in locked})
    variant = Variant.__table__
    stmt = (update(variant).where(variant.c.id == bindparam("moved_id"))
            .values(stock_quantity=variant.c.stock_quantity + bindparam("moved_by"),
                    updated_at=now))
    session.connection().execute(stmt, [{"moved_id": variant_id, "moved_by": delta}
                                        for variant_id, delta in sorted(cache.stock_moved.items())])


def _settle(session: Session, cache: common.BatchCache, drift: dict[str, int]) -> None:
    """The levels the batch's ledger rows state (already written) once the variants are
    locked: another push moved them by ``drift`` since the batch read them."""
    if not any(drift.values()):
        return
    settled: list[dict[str, Any]] = []
    for move in cache.movements:
        moved = drift.get(move.row.variant_id, 0)
        if not moved:
            continue
        after = move.level_after + moved
        if move.reported or common.goes_negative(after, move.delta, move.tracked) != move.flagged:
            raise StockDrift(move.row.variant_id)
        move.row.new_quantity = after
        settled.append({"row_id": move.row.id, "level": after})
    if settled:
        ledger = InventoryAdjustment.__table__
        session.connection().execute(
            update(ledger).where(ledger.c.id == bindparam("row_id"))
            .values(new_quantity=bindparam("level")), settled)

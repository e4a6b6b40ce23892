"""Stock facts recorded at this till, and the stock they move that the server has not shown yet.

Every fact that moves stock writes ``stock_delta`` rows keyed by its outbox kind and subject
id: a sale line ``-quantity``, a refund line with restock ``+quantity``, an adjustment its
change, a count ``counted - seen_on_hand`` (what the server will apply, product-decisions:
stock is a ledger of deltas). The till shows ``pulled level + unsynced deltas``.

A delta is *unsynced* while its outbox entry is pending (or missing), and also after the
server applied it until the pull has reached the op's ``server_seq``: until then the pulled
level does not include it yet, and dropping the delta would make the stock jump back up for a
moment ("my sale disappeared", sync-anchors §1.1). Quarantined or rejected ops moved nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Select, and_, bindparam, or_, select

from stormcom_pos.domain.sync_payloads import StockAdjust, StockCount
from stormcom_pos.domain.sync_protocol import BadCursor, OpKind, decode_cursor
from stormcom_pos.local_db.codec import decimal_text, loads, to_decimal, to_iso, utcnow
from stormcom_pos.local_db.ledger_tables import outbox, stock_delta, stock_event
from stormcom_pos.local_db.sync_state import get_state

_APPLIED = ("applied", "duplicate")
_INSERT_DELTA = stock_delta.insert()


def add_deltas(conn: Connection, kind: OpKind, subject_id: str,
               deltas: Iterable[tuple[str, Decimal]]) -> None:
    """Write the stock effect of one fact (variant id, signed quantity)."""
    rows = [{"kind": kind.value, "subject_id": subject_id, "variant_id": variant_id,
             "quantity": decimal_text(quantity)} for variant_id, quantity in deltas if quantity]
    if rows:
        conn.execute(_INSERT_DELTA, rows)


def _event(conn: Connection, kind: OpKind, event_id: str, variant_id: str, payload: str) -> None:
    conn.execute(stock_event.insert().values(id=event_id, kind=kind.value, variant_id=variant_id,
                                             created_at=to_iso(utcnow()), payload=payload))


def record_stock_adjust(conn: Connection, adjust: StockAdjust) -> None:
    """Record a stock adjustment made at this till."""
    _event(conn, OpKind.STOCK_ADJUST, adjust.movement_id, adjust.variant_id,
           adjust.model_dump_json())
    add_deltas(conn, OpKind.STOCK_ADJUST, adjust.movement_id,
               [(adjust.variant_id, Decimal(adjust.quantity_change))])


def record_stock_count(conn: Connection, count: StockCount) -> None:
    """Record a count: it moves stock by what was counted minus what the counter was shown."""
    _event(conn, OpKind.STOCK_COUNT, count.count_id, count.variant_id, count.model_dump_json())
    add_deltas(conn, OpKind.STOCK_COUNT, count.count_id,
               [(count.variant_id, Decimal(count.counted - count.seen_on_hand))])


def pulled_seq(conn: Connection) -> int | None:
    """The change seq the cache reflects: the pull cursor's, else the snapshot's."""
    state = get_state(conn)
    if state.cursor:
        try:
            return decode_cursor(state.cursor)[1]
        except BadCursor:
            return None
    return state.snapshot_as_of


def _unsynced(with_seq: bool, of_variants: bool) -> Select[Any]:
    not_in_cache = [outbox.c.op_id.is_(None), outbox.c.status == "pending"]
    if with_seq:
        not_in_cache.append(and_(outbox.c.status.in_(_APPLIED),
                                 outbox.c.server_seq > bindparam("seq")))
    stmt = (select(stock_delta.c.variant_id, stock_delta.c.quantity)
            .select_from(stock_delta.outerjoin(outbox, and_(
                outbox.c.kind == stock_delta.c.kind,
                outbox.c.subject_id == stock_delta.c.subject_id)))
            .where(or_(*not_in_cache)))
    if of_variants:
        stmt = stmt.where(stock_delta.c.variant_id.in_(bindparam("variant_ids", expanding=True)))
    return stmt


# Built once: every scan asks, and building the statement cost ~25 times running it.
_UNSYNCED = {(with_seq, of_variants): _unsynced(with_seq, of_variants)
             for with_seq in (False, True) for of_variants in (False, True)}


def unsynced_stock_deltas(conn: Connection,
                          variant_ids: Iterable[str] | None = None) -> dict[str, Decimal]:
    """Per variant, the stock this till moved that the pulled levels do not include yet."""
    seq = pulled_seq(conn)
    params: dict[str, Any] = {}
    if seq is not None:
        params["seq"] = seq
    if variant_ids is not None:
        params["variant_ids"] = list(variant_ids)
    stmt = _UNSYNCED[seq is not None, variant_ids is not None]
    totals: dict[str, Decimal] = {}
    for variant_id, quantity in conn.execute(stmt, params):
        totals[variant_id] = totals.get(variant_id, Decimal(0)) + to_decimal(quantity)
    return {k: v for k, v in totals.items() if v}


def stock_events(conn: Connection, variant_id: str) -> list[dict[str, object]]:
    """Adjustments and counts recorded here for a variant, newest first (payload JSON)."""
    rows = conn.execute(select(stock_event.c.kind, stock_event.c.payload)
                        .where(stock_event.c.variant_id == variant_id)
                        .order_by(stock_event.c.created_at.desc()))
    return [{"kind": kind, **loads(payload)} for kind, payload in rows]


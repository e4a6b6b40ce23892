"""Stock on hand at the till = the pulled level + this till's movements the pull has not shown."""

from __future__ import annotations

from decimal import Decimal

from stormcom_pos.domain.enums import PaymentMethod, RefundReason
from stormcom_pos.domain.sync_payloads import RefundLine, RefundSubmit, StockAdjust, StockCount
from stormcom_pos.domain.sync_protocol import (
    Change,
    OpKind,
    OpResult,
    OpStatus,
    encode_cursor,
)
from stormcom_pos.local_db import cache_apply, catalog_repo, ledger_repo, outbox, sync_state
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import NOW, product_row, sale, variant_row


def _cache(db: LocalDb, stock: int, seq: int = 1) -> None:
    with db.write() as conn:
        cache_apply.apply_changes(conn, [
            Change(seq=seq, entity_type="product", id="p1", op="upsert",
                   data=product_row("p1", "Milk")),
            Change(seq=seq, entity_type="variant", id="v1", op="upsert",
                   data=variant_row("v1", "p1", sku="MILK", stock=stock)),
        ])
        sync_state.update_state(conn, epoch="e1", cursor=encode_cursor("e1", seq))


def _on_hand(db: LocalDb) -> Decimal:
    with db.read() as conn:
        hit = catalog_repo.by_sku(conn, "MILK")
    assert hit is not None
    return hit.stock_on_hand


def _sell(db: LocalDb, quantity: int) -> outbox.OutboxEntry:
    order = sale(lines=[("v1", quantity, "1.00")])
    with db.write() as conn:
        ledger_repo.record_sale(conn, order)
        return outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)


def _answer(db: LocalDb, entry: outbox.OutboxEntry, status: OpStatus, server_seq: int) -> None:
    with db.write() as conn:
        outbox.apply_results(conn, [OpResult(op_id=entry.op_id, device_seq=entry.device_seq,
                                             status=status, server_seq=server_seq)])


def test_unsynced_sale_counts_until_the_pull_shows_it(db: LocalDb) -> None:
    _cache(db, stock=10, seq=5)
    entry = _sell(db, 3)
    assert _on_hand(db) == 7
    _answer(db, entry, OpStatus.APPLIED, server_seq=8)
    assert _on_hand(db) == 7  # applied, but the cache is still at seq 5
    _cache(db, stock=7, seq=8)  # the pull brings the server's level, which includes the sale
    assert _on_hand(db) == 7
    with db.read() as conn:
        assert ledger_repo.unsynced_stock_deltas(conn) == {}


def test_quarantined_or_rejected_sales_move_no_stock(db: LocalDb) -> None:
    _cache(db, stock=10, seq=5)
    quarantined, rejected, _pending = _sell(db, 1), _sell(db, 2), _sell(db, 4)
    _answer(db, quarantined, OpStatus.QUARANTINED, server_seq=9)
    _answer(db, rejected, OpStatus.REJECTED, server_seq=9)
    assert _on_hand(db) == 6  # only the pending sale of 4
    with db.read() as conn:
        assert ledger_repo.unsynced_stock_deltas(conn) == {"v1": Decimal(-4)}


def test_refund_restock_adjustment_and_count_add_their_deltas(db: LocalDb) -> None:
    _cache(db, stock=10)
    order = sale(lines=[("v1", 3, "1.00"), ("v-other", 1, "2.00")])
    with db.write() as conn:
        ledger_repo.record_sale(conn, order)
        outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)
        refund = RefundSubmit(
            refund_id="r1", order_id=order.order_id, pos_session_id=order.pos_session_id,
            cashier_id="c1", approved_by=None, reason=RefundReason.CUSTOMER_REQUEST,
            lines=[RefundLine(order_item_id=order.lines[0].id, quantity=Decimal(2),
                              amount=Decimal("2.00"), tax=Decimal(0)),
                   RefundLine(order_item_id=order.lines[1].id, quantity=Decimal(1),
                              amount=Decimal("2.00"), tax=Decimal(0), restock=False)],
            amount=Decimal("4.00"), tax=Decimal(0), tender=PaymentMethod.CASH)
        ledger_repo.record_refund(conn, refund)
        outbox.append(conn, OpKind.REFUND_SUBMIT, refund, staff_id="c1", occurred_at=NOW)
        adjust = StockAdjust(movement_id="m1", variant_id="v1", quantity_change=-1,
                             reason="DAMAGED")
        ledger_repo.record_stock_adjust(conn, adjust)
        outbox.append(conn, OpKind.STOCK_ADJUST, adjust, staff_id="c1", occurred_at=NOW)
        count = StockCount(count_id="k1", variant_id="v1", counted=12, seen_on_hand=8)
        ledger_repo.record_stock_count(conn, count)
        outbox.append(conn, OpKind.STOCK_COUNT, count, staff_id="c1", occurred_at=NOW)
        assert ledger_repo.refunds_for(conn, order.order_id) == [refund]
        deltas = ledger_repo.unsynced_stock_deltas(conn)
    # -3 sold, +2 restocked, -1 damaged, +4 found by the count
    assert deltas == {"v1": Decimal(2), "v-other": Decimal(-1)}
    assert _on_hand(db) == 12

"""The outbox: atomic with its fact, gap-free, and every push outcome recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stormcom_pos.domain.sync_protocol import OpKind, OpResult, OpStatus, PushOp
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import NOW, sale


class PowerCut(Exception):
    pass


def _record(db: LocalDb, receipt: str | None = None) -> outbox.OutboxEntry:
    order = sale(lines=[("v1", 1, "2.50")], receipt=receipt)
    with db.write() as conn:
        ledger_repo.record_sale(conn, order)
        return outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)


def test_sale_and_outbox_entry_commit_together(db: LocalDb) -> None:
    entry = _record(db, "DEMO-01-000001")
    with db.read() as conn:
        assert ledger_repo.sale_by_receipt(conn, "DEMO-01-000001") is not None
        assert outbox.next_batch(conn) == [entry]
        assert entry.device_seq == 1 and entry.status == "pending"


def test_a_failure_after_record_sale_leaves_neither_the_sale_nor_the_entry(db: LocalDb) -> None:
    order = sale(lines=[("v1", 3, "1.00")], receipt="DEMO-01-000009")
    with pytest.raises(PowerCut), db.write() as conn:
        ledger_repo.record_sale(conn, order)
        raise PowerCut
    with pytest.raises(PowerCut), db.write() as conn:
        ledger_repo.record_sale(conn, order)
        outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)
        raise PowerCut
    with db.read() as conn:
        assert ledger_repo.sale(conn, order.order_id) is None
        assert ledger_repo.search_sales(conn, "") == []
        assert outbox.next_batch(conn) == []
        assert outbox.last_device_seq(conn) == 0
        assert ledger_repo.unsynced_stock_deltas(conn) == {}


def test_device_seq_is_gap_free_even_after_a_rollback(db: LocalDb) -> None:
    first = _record(db)
    with pytest.raises(PowerCut), db.write() as conn:
        order = sale(lines=[("v1", 1, "2.50")])
        ledger_repo.record_sale(conn, order)
        rolled_back = outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1",
                                    occurred_at=NOW)
        assert rolled_back.device_seq == 2
        raise PowerCut
    second, third = _record(db), _record(db)
    assert [first.device_seq, second.device_seq, third.device_seq] == [1, 2, 3]
    assert len({first.op_id, second.op_id, third.op_id}) == 3
    with db.read() as conn:
        assert [e.device_seq for e in outbox.next_batch(conn)] == [1, 2, 3]
        assert outbox.last_device_seq(conn) == 3
        assert [e.device_seq for e in outbox.next_batch(conn, limit=2)] == [1, 2]


def test_entry_becomes_the_push_op_with_the_payload_as_json(db: LocalDb) -> None:
    entry = _record(db)
    op = entry.to_push_op()
    assert isinstance(op, PushOp)
    assert (op.op_id, op.device_seq, op.kind, op.staff_id) == (
        entry.op_id, 1, OpKind.ORDER_SUBMIT, "c1")
    assert op.occurred_at == NOW
    assert op.payload["total"] == "2.50" and op.payload["lines"][0]["quantity"] == "1"
    with db.read() as conn:
        stored = outbox.next_batch(conn)[0]
    assert stored.to_push_op() == op  # a retry sends exactly the same op


def test_apply_results_records_every_status(db: LocalDb) -> None:
    entries = [_record(db) for _ in range(6)]
    results = [
        OpResult(op_id=entries[0].op_id, device_seq=1, status=OpStatus.APPLIED, server_seq=11,
                 anomalies=["price_mismatch"]),
        OpResult(op_id=entries[1].op_id, device_seq=2, status=OpStatus.DUPLICATE, server_seq=9,
                 original_status=OpStatus.APPLIED),
        OpResult(op_id=entries[2].op_id, device_seq=3, status=OpStatus.DUPLICATE, server_seq=9,
                 original_status=OpStatus.QUARANTINED, error_code="bad_payload",
                 error="old bug"),
        OpResult(op_id=entries[3].op_id, device_seq=4, status=OpStatus.DUPLICATE),
        OpResult(op_id=entries[4].op_id, device_seq=5, status=OpStatus.QUARANTINED,
                 server_seq=12, error_code="handler_failed", error="KeyError: 'x'"),
        OpResult(op_id=entries[5].op_id, device_seq=6, status=OpStatus.REJECTED,
                 error_code="forbidden", error="not your store"),
        OpResult(op_id="unknown-op", device_seq=99, status=OpStatus.APPLIED),
    ]
    with db.write() as conn:
        outbox.apply_results(conn, results)
    with db.read() as conn:
        stored = {e.op_id: e for e in (outbox.entry(conn, x.op_id) for x in entries) if e}
        counts = outbox.counts(conn)
        problems = outbox.problem_entries(conn)
        batch = outbox.next_batch(conn)
    statuses = [stored[e.op_id].status for e in entries]
    assert statuses == ["applied", "applied", "quarantined", "duplicate", "quarantined",
                        "rejected"]
    assert stored[entries[0].op_id].anomalies == ["price_mismatch"]
    assert stored[entries[0].op_id].server_seq == 11
    assert (stored[entries[2].op_id].error_code, stored[entries[2].op_id].error) == (
        "bad_payload", "old bug")
    assert all(stored[e.op_id].attempts == 1 for e in entries)
    assert counts == outbox.OutboxCounts(pending=0, quarantined=2, rejected=1)
    assert [e.device_seq for e in problems] == [3, 5, 6]
    assert batch == []


def test_mark_attempt_counts_attempts_without_changing_status(db: LocalDb) -> None:
    entry = _record(db)
    with db.write() as conn:
        outbox.mark_attempt(conn, [entry.op_id])
        outbox.mark_attempt(conn, [entry.op_id])
    with db.read() as conn:
        [stored] = outbox.next_batch(conn)
    assert (stored.status, stored.attempts) == ("pending", 2)


def test_requeue_after_puts_everything_past_the_servers_seq_back_to_pending(
        db: LocalDb) -> None:
    entries = [_record(db) for _ in range(5)]
    with db.write() as conn:
        outbox.apply_results(conn, [
            OpResult(op_id=e.op_id, device_seq=e.device_seq,
                     status=OpStatus.REJECTED if e.device_seq == 4 else OpStatus.APPLIED,
                     server_seq=20 + e.device_seq) for e in entries[:4]])
        requeued = outbox.requeue_after(conn, 2)
    assert requeued == 2  # seqs 3 and 4 (5 was still pending)
    with db.read() as conn:
        batch = outbox.next_batch(conn)
        assert [e.device_seq for e in batch] == [3, 4, 5]
        assert all(e.server_seq is None and e.error_code is None for e in batch)
        assert [e.op_id for e in batch] == [e.op_id for e in entries[2:]]  # same ids resent
        assert outbox.counts(conn) == outbox.OutboxCounts(pending=3, quarantined=0, rejected=0)
        assert outbox.entry(conn, entries[0].op_id).status == "applied"  # type: ignore[union-attr]


def test_occurred_at_is_stored_in_utc(db: LocalDb) -> None:
    order = sale(lines=[("v1", 1, "2.50")])
    local = datetime.fromisoformat("2026-12-03T12:00:00+02:00")
    with db.write() as conn:
        ledger_repo.record_sale(conn, order)
        outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id=None, occurred_at=local)
    with db.read() as conn:
        [entry] = outbox.next_batch(conn)
    assert entry.occurred_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert entry.occurred_at.tzinfo is not None


def test_every_op_kind_names_its_subject_field() -> None:
    from stormcom_pos.domain.sync_payloads import PAYLOADS
    from stormcom_pos.domain.sync_protocol import OpKind
    from stormcom_pos.local_db.outbox import SUBJECT_FIELDS

    assert set(SUBJECT_FIELDS) == set(OpKind)
    for kind, field in SUBJECT_FIELDS.items():
        assert field in PAYLOADS[kind].model_fields, kind

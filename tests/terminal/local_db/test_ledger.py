"""The ledger's facts and the till's own queues."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import CashMovementType
from stormcom_pos.domain.sync_payloads import CashMove, DrawerClose, DrawerOpen
from stormcom_pos.domain.sync_protocol import OpKind, OpResult, OpStatus
from stormcom_pos.local_db import ledger_repo, outbox, sync_state
from stormcom_pos.local_db.database import LocalDb
from tests.terminal.local_db.builders import NOW, sale


def _open(session_id: str) -> DrawerOpen:
    return DrawerOpen(pos_session_id=session_id, cashier_id="c1", opening_float=Decimal("100"),
                      opened_at=NOW)


def _close(session_id: str, z_number: int) -> DrawerClose:
    return DrawerClose(pos_session_id=session_id, closed_by="c1",
                       counted_by_denomination={"20": 5}, counted_total=Decimal("100"),
                       expected_cash=Decimal("100"), z_number=z_number,
                       closed_at=NOW + timedelta(hours=8))


def test_drawer_session_lifecycle(db: LocalDb) -> None:
    with db.write() as conn:
        assert ledger_repo.open_session(conn) is None
        ledger_repo.open_drawer(conn, _open("s1"))
        with pytest.raises(ledger_repo.DrawerAlreadyOpen):
            ledger_repo.open_drawer(conn, _open("s2"))
        move = CashMove(movement_id="m1", pos_session_id="s1", type=CashMovementType.PAY_OUT,
                        amount=Decimal("5.00"), reason="milk for the office", user_id="c1")
        ledger_repo.record_cash_move(conn, move)
        assert ledger_repo.open_session(conn) == _open("s1")
        assert ledger_repo.cash_moves(conn, "s1") == [move]
        assert ledger_repo.next_z_number(conn) == 1
        ledger_repo.close_drawer(conn, _close("s1", 1))
        assert ledger_repo.open_session(conn) is None
        assert ledger_repo.drawer_closing(conn, "s1") == _close("s1", 1)
        with pytest.raises(ledger_repo.DrawerNotOpen):
            ledger_repo.close_drawer(conn, _close("s1", 2))
        with pytest.raises(ledger_repo.DrawerNotOpen):
            ledger_repo.record_cash_move(conn, move.model_copy(update={"movement_id": "m2"}))
        ledger_repo.open_drawer(conn, _open("s2"))
        assert ledger_repo.next_z_number(conn) == 2


def test_receipt_numbers_count_per_till_and_a_rollback_gives_the_number_back(
        db: LocalDb) -> None:
    with db.write() as conn:
        first = ledger_repo.next_receipt_number(conn, "DEMO", 1)
    with pytest.raises(RuntimeError), db.write() as conn:
        ledger_repo.next_receipt_number(conn, "DEMO", 1)
        raise RuntimeError("sale abandoned by a crash")
    with db.write() as conn:
        second = ledger_repo.next_receipt_number(conn, "DEMO", 1)
        other_till = ledger_repo.next_receipt_number(conn, "DEMO", 2)
    assert (first, second, other_till) == ("DEMO-01-000001", "DEMO-01-000002", "DEMO-02-000001")


def test_sales_are_found_by_receipt_session_and_search(db: LocalDb) -> None:
    orders = [sale(lines=[("v1", 1, "2.00")], receipt=f"DEMO-01-00000{i}",
                   session_id="s1" if i < 3 else "s2") for i in (1, 2, 3)]
    with db.write() as conn:
        for order in orders:
            ledger_repo.record_sale(conn, order)
    with db.read() as conn:
        assert ledger_repo.sale_by_receipt(conn, "demo-01-000002") == orders[1]
        assert ledger_repo.sale(conn, orders[2].order_id) == orders[2]
        assert ledger_repo.sales_in_session(conn, "s1") == orders[:2]
        assert len(ledger_repo.search_sales(conn, "")) == 3
        assert ledger_repo.search_sales(conn, "000003") == [orders[2]]
        assert ledger_repo.search_sales(conn, "%") == []
        assert ledger_repo.search_sales(conn, orders[0].order_id) == [orders[0]]


def test_parked_sales_and_the_reprint_queue(db: LocalDb) -> None:
    with db.write() as conn:
        ledger_repo.park(conn, "k1", "Blue jacket", {"lines": [{"sku": "A", "qty": "1"}]})
        ledger_repo.park(conn, "k2", "Table 4", {"lines": []})
        assert [p.label for p in ledger_repo.parked(conn)] == ["Blue jacket", "Table 4"]
        assert ledger_repo.unpark(conn, "k1") == {"lines": [{"sku": "A", "qty": "1"}]}
        assert ledger_repo.unpark(conn, "k1") is None
        ledger_repo.queue_print(conn, "j1", "receipt", {"order_id": "o1"}, "paper out")
        ledger_repo.queue_print(conn, "j1", "receipt", {"order_id": "o1"}, "cover open")
        [job] = ledger_repo.print_queue(conn)
        assert (job.job_id, job.kind, job.error, job.attempts) == ("j1", "receipt",
                                                                   "cover open", 2)
        ledger_repo.print_done(conn, "j1")
        assert ledger_repo.print_queue(conn) == []
        assert [p.park_id for p in ledger_repo.parked(conn)] == ["k2"]


def test_the_ledger_refuses_to_be_forgotten_while_anything_is_unsynced(db: LocalDb) -> None:
    order = sale(lines=[("v1", 1, "2.00")])
    with db.write() as conn:
        sync_state.update_state(conn, device_id="dev-1", cursor="c", bootstrap_done=True)
        ledger_repo.record_sale(conn, order)
        entry = outbox.append(conn, OpKind.ORDER_SUBMIT, order, staff_id="c1", occurred_at=NOW)
    with pytest.raises(ledger_repo.UnsyncedLedger), db.write() as conn:
        ledger_repo.forget_device(conn)
    with db.write() as conn:
        outbox.apply_results(conn, [OpResult(op_id=entry.op_id, device_seq=1,
                                             status=OpStatus.QUARANTINED)])
    with pytest.raises(ledger_repo.UnsyncedLedger), db.write() as conn:
        ledger_repo.forget_device(conn)
    with db.read() as conn:
        assert ledger_repo.sale(conn, order.order_id) == order
    with db.write() as conn:  # the server took it after all
        outbox.apply_results(conn, [OpResult(op_id=entry.op_id, device_seq=1,
                                             status=OpStatus.DUPLICATE,
                                             original_status=OpStatus.APPLIED)])
        ledger_repo.forget_device(conn)
    with db.read() as conn:
        assert ledger_repo.sale(conn, order.order_id) is None
        state = sync_state.get_state(conn)
        assert (state.device_id, state.cursor, state.bootstrap_done) == (None, None, False)

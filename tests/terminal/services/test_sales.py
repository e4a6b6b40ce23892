"""Ringing up sales at service level: scanning, discounts with approval, coupons, tenders, and
the durable commit of the sale with its outbox entry before anything prints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.sync_payloads import OrderSubmit
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.services.context import PosContext
from stormcom_pos.services.errors import (
    ApprovalRefused,
    ApprovalRequired,
    CouponRefused,
    InvalidInput,
    NoOpenDrawer,
    UnknownBarcode,
)
from stormcom_pos.services.sale_record import Tender
from tests.terminal.services.conftest import (
    BANANA_PLU,
    BREAD,
    CASHIER_PIN,
    COFFEE,
    MANAGER_PIN,
    MILK,
    UNKNOWN,
    Printers,
    weight_label,
)

CASH, CARD = PaymentMethod.CASH, PaymentMethod.CARD_PRESENT


def test_scanning_the_same_item_twice_makes_one_line_and_taxes_it(selling: PosContext) -> None:
    selling.sales.scan(MILK)
    result = selling.sales.scan(MILK)
    cart = selling.sales.cart()
    assert [(ln.line_id, ln.quantity) for ln in cart.lines] == [(result.line_id, Decimal(2))]
    assert cart.subtotal == Decimal("6.98")
    # 6% state + 1.38% city, each rounded per line: 0.42 + 0.10.
    assert cart.tax_lines == [("State Sales Tax", Decimal("0.060000"), Decimal("0.42")),
                              ("City Tax", Decimal("0.013800"), Decimal("0.10"))]
    assert cart.total == Decimal("7.50")


def test_unknown_and_misread_barcodes_are_refused_with_the_code(selling: PosContext) -> None:
    with pytest.raises(UnknownBarcode) as unknown:
        selling.sales.scan(UNKNOWN)
    assert unknown.value.code == UNKNOWN and UNKNOWN in unknown.value.message
    misread = MILK[:-1] + str((int(MILK[-1]) + 1) % 10)
    with pytest.raises(UnknownBarcode) as bad:
        selling.sales.scan(misread)
    assert "check digit" in bad.value.message
    assert selling.sales.cart().lines == []


def test_a_weighed_label_sells_its_weight_at_the_kilo_price(selling: PosContext) -> None:
    selling.sales.scan(weight_label(BANANA_PLU, 1250))
    (line,) = selling.sales.cart().lines
    assert line.quantity == Decimal("1.250") and line.total == Decimal("1.50")


def test_short_stock_warns_but_sells(selling: PosContext) -> None:
    assert selling.sales.scan(COFFEE).warning is None
    warned = selling.sales.scan(COFFEE)
    assert warned.warning is not None and "Only 1 in stock" in warned.warning
    assert selling.sales.cart().lines[0].warning == warned.warning


def test_a_discount_beyond_the_cashier_needs_a_manager_pin(selling: PosContext) -> None:
    line = selling.sales.scan(BREAD).line_id
    assert line is not None
    with pytest.raises(ApprovalRequired) as asked:
        selling.sales.discount_line(line, percent=Decimal(10), reason="dented")
    assert asked.value.permission == "pos.discount_override"
    with pytest.raises(ApprovalRefused):
        selling.auth.approve("pos.discount_override", "u-manager", "0000", "dented")
    with pytest.raises(ApprovalRefused):  # a cashier cannot approve for themselves
        selling.auth.approve("pos.discount_override", "u-cashier", CASHIER_PIN, "dented")
    approval = selling.auth.approve("pos.discount_override", "u-manager", MANAGER_PIN, "dented")
    selling.sales.discount_line(line, percent=Decimal(10), reason="dented", approval=approval)
    (view,) = selling.sales.cart().lines
    assert view.discount == Decimal("0.60") and view.total == Decimal("5.40")


def test_an_approval_goes_stale_after_five_minutes(selling: PosContext, clock) -> None:
    line = selling.sales.scan(BREAD).line_id
    approval = selling.auth.approve("pos.price_override", "u-manager", MANAGER_PIN, "match")
    clock.advance(minutes=6)
    with pytest.raises(ApprovalRequired):
        selling.sales.override_price(line, Decimal("5.00"), "price match", approval)


def test_five_wrong_pins_lock_the_approver_out(selling: PosContext) -> None:
    for _ in range(5):
        with pytest.raises(ApprovalRefused):
            selling.auth.approve("pos.no_sale", "u-manager", "9999", "why")
    with pytest.raises(ApprovalRefused):  # the right PIN no longer works for 15 minutes
        selling.auth.approve("pos.no_sale", "u-manager", MANAGER_PIN, "why")


def test_coupons_apply_by_the_shared_rules_and_refusals_say_why(selling: PosContext) -> None:
    with pytest.raises(CouponRefused, match="Coupon NOPE not found"):
        selling.sales.scan(BREAD) and selling.sales.apply_coupon("nope")
    with pytest.raises(CouponRefused, match="at least \\$20.00"):
        selling.sales.apply_coupon("WELCOME10")
    selling.sales.add_variant("v-bread", Decimal(3))
    assert selling.sales.apply_coupon("welcome10") == "Coupon WELCOME10: $2.40 off"
    cart = selling.sales.cart()
    assert cart.coupon_codes == ["WELCOME10"] and cart.discount_total == Decimal("2.40")


def test_price_override_by_a_manager_needs_no_approval(selling: PosContext) -> None:
    line = selling.sales.scan(BREAD).line_id
    selling.auth.pin_login("u-manager", MANAGER_PIN)  # switch cashier, drawer stays open
    selling.sales.override_price(line, Decimal("4.00"), "price match")
    assert selling.sales.cart().lines[0].unit_price == Decimal("4.00")
    assert selling.drawer.current() is not None


def test_no_sale_without_an_open_drawer(till: PosContext) -> None:
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    till.sales.scan(MILK)
    with pytest.raises(NoOpenDrawer):
        till.sales.complete([Tender(CASH, Decimal("10.00"))])


def test_split_tender_records_sale_and_outbox_in_one_commit(
        selling: PosContext, printers: Printers) -> None:
    selling.sales.add_variant("v-bread", Decimal(2))  # 12.00 + 6% 0.72 + 1.38% 0.17 = 12.89
    assert selling.sales.quick_amounts() == [Decimal("12.90"), Decimal(13), Decimal(14),
                                             Decimal(15), Decimal(20)]
    with pytest.raises(InvalidInput, match="still due in cash"):
        selling.sales.complete([Tender(CARD, Decimal("5.00"), "A1"), Tender(CASH, Decimal("5"))])
    result = selling.sales.complete([Tender(CARD, Decimal("5.00"), "AUTH-77"),
                                     Tender(CASH, Decimal("10.00"))])
    # Cash due 7.89 rounds to 7.90 (0.05 increment): the adjustment is on the sale.
    assert (result.total, result.change, result.rounding_adjustment) == (
        Decimal("12.90"), Decimal("2.10"), Decimal("0.01"))
    assert result.receipt_number == "DEMO-03-000001" and result.print_warning is None
    with selling.runtime.db.read() as conn:
        sale = ledger_repo.sale(conn, result.order_id)
        entries = outbox.next_batch(conn)
    assert isinstance(sale, OrderSubmit)
    assert [e.kind for e in entries] == [OpKind.DRAWER_OPEN, OpKind.ORDER_SUBMIT]
    assert entries[1].staff_id == "u-cashier"
    assert OrderSubmit.model_validate(entries[1].payload) == sale
    assert [(p.method, p.amount, p.change) for p in sale.payments] == [
        (CARD, Decimal("5.00"), None), (CASH, Decimal("7.90"), Decimal("2.10"))]
    selling.printing.drain()
    printed = printers.output()
    assert b"DEMO-03-000001" in printed and b"Sourdough" in printed
    assert b"\x1bp" in printed  # the drawer kick after a cash payment
    assert selling.sales.cart().lines == []


def test_a_dead_printer_never_loses_the_sale(selling: PosContext, printers: Printers) -> None:
    printers.alive = False
    selling.sales.scan(MILK)
    result = selling.sales.complete([Tender(CASH, Decimal("5.00"))])
    assert result.print_warning is not None and "reprint queue" in result.print_warning
    with selling.runtime.db.read() as conn:
        assert ledger_repo.sale(conn, result.order_id) is not None
    (queued,) = selling.receipts.queue()
    assert queued.label == f"Receipt {result.receipt_number}" and "refused" in queued.error
    status = selling.status.snapshot()
    assert status.printer_ok is False and status.reprint_count == 1 and status.pending == 2
    printers.alive = True
    assert selling.receipts.retry_queue() == 1
    assert selling.receipts.queue() == []
    assert result.receipt_number.encode() in printers.output()


def test_park_and_recall_keep_the_cart(selling: PosContext) -> None:
    selling.sales.add_variant("v-bread", Decimal(4))
    selling.sales.apply_coupon("WELCOME10")
    park_id = selling.sales.park("blue coat")
    assert selling.sales.cart().lines == []
    (parked,) = selling.sales.parked()
    assert parked.label == "blue coat" and parked.total == selling.sales.parked()[0].total
    selling.sales.recall(park_id)
    cart = selling.sales.cart()
    assert cart.lines[0].quantity == Decimal(4) and cart.coupon_codes == ["WELCOME10"]
    assert selling.sales.parked() == []


def test_a_customer_created_offline_goes_on_the_sale_and_the_outbox(selling: PosContext) -> None:
    customer_id = selling.sales.create_customer("Ada", "Lovelace", phone="555-0199")
    assert selling.sales.cart().customer_name == "Ada Lovelace"
    assert [c.id for c in selling.sales.find_customers("Ada")] == [customer_id]
    with selling.runtime.db.read() as conn:
        kinds = [e.kind for e in outbox.next_batch(conn)]
    assert kinds == [OpKind.DRAWER_OPEN, OpKind.CUSTOMER_CREATE]


def test_a_z_report_queued_by_a_dead_printer_prints_after_a_restart(
        selling: PosContext, printers: Printers) -> None:
    selling.sales.scan(MILK)
    selling.sales.complete([Tender(CASH, Decimal("5.00"))])
    selling.printing.drain()
    printers.alive = False
    closed = selling.drawer.close({})
    assert closed.print_warning is not None
    (queued,) = selling.receipts.queue()
    assert queued.label == "Z report"
    selling.printing.failed_payloads.clear()  # a new process: only the ledger's queue is left
    printers.alive = True
    before = len(printers.output())
    assert selling.receipts.retry_queue() == 1
    assert selling.receipts.queue() == []
    printed = printers.output()[before:]
    # The report as it was taken at the close (its over/short), not rebuilt from today's data.
    assert b"Z REPORT #1" in printed
    assert b"Over/short" in printed
    assert f"{abs(closed.over_short):.2f}".encode() in printed

"""A cashier's whole shift at service level: open, sell, return, pay-out, X report, blind close
with the Z report; and what the drawer refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import PaymentMethod, RefundReason
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import outbox
from stormcom_pos.services.context import PosContext
from stormcom_pos.services.errors import (
    ApprovalRequired,
    DrawerAlreadyOpen,
    InvalidInput,
    RefundRefused,
)
from stormcom_pos.services.receipt_builder import receipt_barcode
from stormcom_pos.services.sale_record import Tender
from tests.terminal.services.conftest import (
    BANANA_PLU,
    BREAD,
    CASHIER_PIN,
    MANAGER_PIN,
    MILK,
    START,
    Printers,
    catalog,
    open_till,
    weight_label,
)

CASH, CARD = PaymentMethod.CASH, PaymentMethod.CARD_PRESENT


def _approve(till: PosContext, permission: str, reason: str = "ok"):
    return till.auth.approve(permission, "u-manager", MANAGER_PIN, reason)


def test_full_shift(till: PosContext, printers: Printers, clock) -> None:
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    opened = till.drawer.open(Decimal("100.00"), {"20": 4, "10": 2})
    assert opened.cashier_name == "Cara Cashier"
    with pytest.raises(DrawerAlreadyOpen):
        till.drawer.open(Decimal("0"))

    # Sale 1: scans, a weighed label, a discount under approval, a coupon, split tender.
    till.sales.scan(MILK)
    till.sales.scan(weight_label(BANANA_PLU, 2000))
    bread = till.sales.add_variant("v-bread", Decimal(3)).line_id
    with pytest.raises(ApprovalRequired):
        till.sales.discount_line(bread, amount=Decimal("1.00"), reason="crushed")
    till.sales.discount_line(bread, amount=Decimal("1.00"), reason="crushed",
                             approval=_approve(till, "pos.discount_override", "crushed"))
    till.sales.apply_coupon("WELCOME10")
    cart = till.sales.cart()
    # 3.49 + 2.40 + 18.00 = 23.89; -1.00 manual; 10% of 22.89 = 2.29 coupon.
    assert (cart.subtotal, cart.discount_total) == (Decimal("23.89"), Decimal("3.29"))
    assert sum((ln.total for ln in cart.lines), Decimal(0)) == Decimal("20.60")
    assert cart.total == sum((t[2] for t in cart.tax_lines), Decimal("20.60"))
    first = till.sales.complete([Tender(CARD, Decimal("10.00"), "AUTH-1"),
                                 Tender(CASH, Decimal("20.00"))])
    cash_kept_1 = first.total - Decimal("10.00")
    assert first.change == Decimal("20.00") - cash_kept_1

    # Sale 2: all cash.
    clock.advance(minutes=20)
    till.sales.scan(MILK)
    till.sales.scan(MILK)
    second = till.sales.complete([Tender(CASH, Decimal("10.00"))])
    assert second.total == Decimal("7.50") and second.change == Decimal("2.50")

    # A return of one milk from sale 2, by its receipt barcode, refunded in cash.
    clock.advance(minutes=5)
    sale = till.returns.find_sale(receipt_barcode(second.receipt_number))
    assert sale is not None and sale.order_id == second.order_id
    (milk,) = sale.lines
    assert (milk.sold_qty, milk.refundable_qty) == (Decimal(2), Decimal(2))
    with pytest.raises(ApprovalRequired):
        till.returns.refund(sale.order_id, {milk.order_item_id: Decimal(1)}, to="cash",
                            reason=RefundReason.DEFECTIVE_PRODUCT)
    refund = till.returns.refund(sale.order_id, {milk.order_item_id: Decimal(1)}, to="cash",
                                 reason=RefundReason.DEFECTIVE_PRODUCT,
                                 approval=_approve(till, "pos.refund", "sour"))
    assert refund.amount == Decimal("3.75")  # half of 6.98 net + half of 0.52 tax
    after = till.returns.find_sale(second.receipt_number)
    assert after is not None and after.lines[0].refundable_qty == Decimal(1)
    with pytest.raises(RefundRefused, match="1 remain"):
        till.returns.refund(sale.order_id, {milk.order_item_id: Decimal(2)}, to="original",
                            reason=RefundReason.OTHER,
                            approval=_approve(till, "pos.refund", "again"))

    # A pay-out needs approval; a pay-in does not.
    with pytest.raises(ApprovalRequired):
        till.drawer.cash_move("pay_out", Decimal("5.00"), "window cleaner")
    till.drawer.cash_move("pay_out", Decimal("5.00"), "window cleaner",
                          _approve(till, "pos.cash_movement", "window cleaner"))
    till.drawer.cash_move("pay_in", Decimal("2.00"), "change from the bank")

    expected = Decimal("100.00") + cash_kept_1 + Decimal("7.50") - Decimal("3.75") \
        - Decimal("5.00") + Decimal("2.00")
    x = till.drawer.x_report(print_it=True)
    assert x.cash.expected == expected and x.sales_count == 2 and x.refunds_count == 1
    assert x.sales_total == first.total + second.total
    assert {t.tender: t.taken for t in x.by_tender} == {
        CARD: Decimal("10.00"), CASH: cash_kept_1 + Decimal("7.50")}

    # Blind close: counted 1.00 short.
    counted = expected - Decimal("1.00")
    counts = {"100": int(counted // 100)}
    rest = counted - 100 * counts["100"]
    counts["1"] = int(rest)
    counts["0.01"] = int((rest - int(rest)) * 100)
    result = till.drawer.close(counts)
    assert (result.expected, result.counted, result.over_short) == (
        expected, counted, Decimal("-1.00"))
    assert result.z_report.z_number == 1 and result.needs_sign_off
    assert result.pdf_path.read_bytes().startswith(b"%PDF")
    assert till.drawer.current() is None

    till.printing.drain()
    printed = printers.output()
    assert first.receipt_number.encode() in printed
    assert second.receipt_number.encode() in printed
    assert printed.count(b"\x1bp") == 5  # 2 cash sales, the cash refund, pay-out, pay-in
    with till.runtime.db.read() as conn:
        kinds = [e.kind for e in outbox.next_batch(conn)]
    assert kinds == [OpKind.DRAWER_OPEN, OpKind.ORDER_SUBMIT, OpKind.ORDER_SUBMIT,
                     OpKind.REFUND_SUBMIT, OpKind.CASH_MOVE, OpKind.CASH_MOVE,
                     OpKind.DRAWER_CLOSE]


def test_the_float_must_match_its_count(till: PosContext) -> None:
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    with pytest.raises(InvalidInput, match="adds up to 50"):
        till.drawer.open(Decimal("60.00"), {"50": 1})
    with pytest.raises(InvalidInput, match="not a USD denomination"):
        till.drawer.open(Decimal("3.00"), {"3": 1})


def test_no_sale_opens_the_drawer_with_approval_and_is_logged(
        selling: PosContext, printers: Printers) -> None:
    with pytest.raises(ApprovalRequired):
        selling.drawer.no_sale("give change")
    selling.drawer.no_sale("give change", _approve(selling, "pos.no_sale", "give change"))
    selling.printing.drain()
    assert b"\x1bp" in printers.output()
    with selling.runtime.db.read() as conn:
        entry = outbox.next_batch(conn)[-1]
    assert entry.kind is OpKind.DRAWER_NO_SALE
    assert entry.payload["approved_by"] == "u-manager" and entry.payload["reason"] == "give change"


def test_a_weighed_line_is_refunded_whole(selling: PosContext) -> None:
    selling.sales.scan(weight_label(BANANA_PLU, 1500))
    selling.sales.scan(BREAD)
    sale = selling.sales.complete([Tender(CASH, Decimal("20.00"))])
    view = selling.returns.find_sale(sale.receipt_number)
    assert view is not None
    banana = next(ln for ln in view.lines if ln.sold_qty == Decimal("1.500"))
    approval = _approve(selling, "pos.refund", "bruised")
    result = selling.returns.refund(sale.order_id, {banana.order_item_id: Decimal("1.5")},
                                    to="original", reason=RefundReason.OTHER, approval=approval)
    assert result.amount == Decimal("1.93")  # 1.80 + 6% 0.11 + 1.38% 0.02, rounded per rate


def test_an_earlier_z_prints_again_marked_reprint_with_the_figures_of_its_close(
    till: PosContext, printers: Printers, clock,
) -> None:
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    till.drawer.open(Decimal("50.00"))
    till.sales.scan(MILK)
    till.sales.complete([Tender(CASH, Decimal("10.00"))])
    till.drawer.cash_move("pay_in", Decimal("2.00"), "change from the bank")
    clock.advance(hours=8)
    first = till.drawer.close({"50": 1, "5": 1})
    clock.advance(hours=16)
    till.drawer.open(Decimal("50.00"))
    clock.advance(hours=8)
    second = till.drawer.close({"50": 1})
    till.printing.drain()
    before = len(printers.output())

    shifts = till.drawer.closed_shifts()
    assert [s.z_number for s in shifts] == [2, 1]
    assert shifts[1].counted == first.counted and shifts[1].cashier_name == "Cara Cashier"
    assert shifts[0].closed_at == second.z_report.generated_at

    clock.advance(days=3)  # a later day: the copy still shows the shift as it closed
    again = till.drawer.reprint_z(shifts[1].pos_session_id)
    assert again.print_warning is None
    assert again.z_report == first.z_report
    till.printing.drain()
    printed = printers.output()[before:]
    assert b"Z REPORT #1" in printed and printed.count(b"REPRINT") == 1
    assert b"REPRINT" not in printers.output()[:before]  # the close printed the original

    with pytest.raises(InvalidInput, match="no Z report"):
        till.drawer.reprint_z("no-such-session")


def test_a_refund_counts_in_the_hour_it_was_given_not_the_hour_of_the_report(
    selling: PosContext, clock,
) -> None:
    selling.sales.scan(MILK)
    sale = selling.sales.complete([Tender(CASH, Decimal("10.00"))])  # 09:00
    clock.advance(hours=1, minutes=15)
    view = selling.returns.find_sale(sale.receipt_number)
    assert view is not None
    selling.returns.refund(sale.order_id, {view.lines[0].order_item_id: Decimal(1)}, to="cash",
                           reason=RefundReason.DEFECTIVE_PRODUCT,
                           approval=_approve(selling, "pos.refund", "sour"))  # 10:15
    clock.advance(hours=5)
    report = selling.drawer.x_report(print_it=False)  # 15:15

    hours = {h.hour.hour: (h.sales_total, h.refunds_total) for h in report.by_hour}
    assert set(hours) == {9, 10}
    assert hours[10] == (Decimal(0), report.refunds_total) and report.refunds_total > 0
    with selling.runtime.db.read() as conn:
        refund = outbox.next_batch(conn)[-1]
    assert refund.kind is OpKind.REFUND_SUBMIT
    assert refund.payload["refunded_at"].startswith("2025-03-03T10:15")


def test_times_shown_and_printed_are_the_store_clock(tmp_path, printers: Printers, clock) -> None:
    data = catalog()
    data["store"][0]["timezone"] = "America/Los_Angeles"  # 09:00 UTC is 01:00 there in March
    till = open_till(tmp_path / "la", printers, clock, data)
    try:
        till.auth.pin_login("u-cashier", CASHIER_PIN)
        opened = till.drawer.open(Decimal("20.00"))
        assert till.drawer.current().opened_at.hour == 1  # type: ignore[union-attr]
        assert opened.opened_at == START  # the same instant
        till.sales.scan(MILK)
        sale = till.sales.complete([Tender(CASH, Decimal("10.00"))])
        found = till.returns.find_sale(sale.receipt_number)
        assert found is not None and found.completed_at.hour == 1
        assert till.drawer.x_report(print_it=False).generated_at.hour == 1
        closed = till.drawer.close({"20": 1})
        assert closed.z_report.generated_at.hour == 1
        assert till.drawer.closed_shifts()[0].closed_at.hour == 1
        till.printing.drain()
        assert b"2025-03-03 01:00" in printers.output()
        assert b"2025-03-03 09:00" not in printers.output()
    finally:
        till.close()

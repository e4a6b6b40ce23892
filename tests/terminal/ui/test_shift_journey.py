"""A full shift on the fake services, by keyboard only: sign in, open the drawer, sell with
scanner bursts, discount with approval, coupon, split tender, print, return, pay-out,
X report, blind close with Z report."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

COFFEE, MILK, BREAD = "0614141000012", "0614141000029", "0614141000036"
K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier

pytestmark = pytest.mark.ui


def sign_in(cashier, window, pin="1111", opening_float="150"):
    cashier.key(K.Key_F1)  # the first staff button: Ann Cashier
    if opening_float is not None:
        def open_drawer(dialog):
            cashier.type(opening_float)
            cashier.key(K.Key_Return)
        cashier.when_dialog(open_drawer)
    cashier.type(pin)
    cashier.key(K.Key_Return)


def approve(cashier, pin="9999", reason="manager ok"):
    def fill(dialog):
        assert dialog.windowTitle() == "Manager approval"
        cashier.type(pin)
        cashier.key(K.Key_Tab)
        cashier.type(reason)
        cashier.key(K.Key_Return)
    cashier.when_dialog(fill)


def test_a_full_shift_by_keyboard(window, pos, cashier, qtbot):
    sell = window.sell_screen
    sign_in(cashier, window)
    assert window.stack.currentWidget() is sell
    assert pos.drawer.session.opening_float == Decimal("150")

    # Scanner bursts land in the cart while the search box has focus, and never in it.
    assert cashier.target() is sell.search
    for code in (COFFEE, MILK, BREAD):
        cashier.scan(code)
    assert [line.name for line in pos.sales.cart().lines] == [
        "Ground coffee 250 g", "Whole milk 1 L", "Sourdough loaf"]
    assert sell.search.text() == ""
    assert sell.table.rowCount() == 3

    # Typed search: results as you type, Enter adds the highlighted one.
    cashier.type("sourd")
    assert sell.results.isVisible() and sell.results.count() == 1
    cashier.key(K.Key_Return)
    bread = pos.sales.cart().lines[2]
    assert bread.quantity == 2 and bread.warning  # only 1 in stock: warned, still sold
    assert "stock" in sell.message.text()

    # An unknown code beeps and shows the code.
    cashier.scan("0614141999994")
    assert "0614141999994" in sell.message.text()
    assert sell.message.property("tone") == "error"

    # A 15% order discount is beyond a cashier: approval in place.
    def discount(dialog):
        cashier.type("15")
        approve(cashier)
        cashier.key(K.Key_Return)
    cashier.when_dialog(discount)
    cashier.key(K.Key_F6)
    assert pos.sales.order_percent == Decimal(15)
    assert [a.approver_name for a in pos.auth.approvals] == ["Max Manager"]
    assert "Discounts" in sell.totals_grid.itemAtPosition(2, 0).widget().text()

    # A refused coupon says why, in place; a good one is applied.
    seen = []

    def coupon(dialog):
        cashier.type("EXPIRED5")
        cashier.key(K.Key_Return)
        seen.append(dialog.error.text())
        dialog.edit.selectAll()
        cashier.type("WELCOME10")
        cashier.key(K.Key_Return)
    cashier.when_dialog(coupon)
    cashier.key(K.Key_F8)
    assert seen == ["Coupon EXPIRED5 expired on 30 Nov 2026."]
    assert pos.sales.coupons == ["WELCOME10"]

    # Split tender: 10.00 on card with the terminal's reference, the rest in cash with change.
    total = pos.sales.cart().total

    def tender(dialog):
        cashier.key(K.Key_F2)
        dialog.amount.setFocus()
        dialog.amount.selectAll()
        cashier.type("10")
        cashier.key(K.Key_Tab)
        cashier.type("AUTH42")
        cashier.key(K.Key_Return)
        assert dialog.remaining == total - Decimal(10)
        dialog.amount.selectAll()
        cashier.type("50")
        cashier.key(K.Key_Return)
    cashier.when_dialog(tender)
    cashier.key(K.Key_F12)
    sale = pos.sales.completed[0]
    assert [(str(t.method), t.amount, t.reference) for t in sale.tenders] == [
        ("CARD_PRESENT", Decimal(10), "AUTH42"), ("CASH", Decimal(50), None)]
    assert pos.receipts.printed == ["DEMO-1-000001"]
    change = Decimal(60) - total
    assert sell.change_banner.isVisible() and f"${change}" in sell.change_banner.text()
    assert sell.table.rowCount() == 0

    # Return one loaf: scan the receipt barcode, pick the quantity, refund with approval.
    cashier.key(K.Key_F1, SHIFT)
    returns = window.returns_screen
    assert window.stack.currentWidget() is returns
    cashier.scan("DEMO-1-000001")
    assert returns.sale is not None and returns.search.text() == ""
    bread_item = returns.sale.lines[2].order_item_id
    returns.spins[bread_item].setFocus()
    cashier.key(K.Key_Up)
    approve(cashier, reason="stale")
    cashier.key(K.Key_F12)
    assert sale.refunded[bread_item] == Decimal(1)
    assert "Refunded" in returns.message.text()
    cashier.key(K.Key_Escape)
    assert window.stack.currentWidget() is sell

    # Cash menu: a pay-out (needs approval), an X report, then the blind close.
    def cash_menu(dialog):
        def pay_out(move):
            cashier.type("20")
            cashier.key(K.Key_Tab)
            cashier.type("window cleaner")
            approve(cashier)
            cashier.key(K.Key_Return)
        cashier.when_dialog(pay_out)
        cashier.key(K.Key_F2)
        assert pos.drawer.moves == [("pay_out", Decimal(20), "window cleaner")]

        def x_report(report):
            assert "X report" in report.text.toPlainText()
            cashier.key(K.Key_Escape)
        cashier.when_dialog(x_report)
        cashier.key(K.Key_F5)
        assert pos.drawer.x_reports == 1

        def close_till(close):
            assert "Expected" not in close.outcome.text()  # blind: nothing shown before
            close.counter.spins["100"].setFocus()
            close.counter.spins["100"].selectAll()
            cashier.type("1")
            cashier.key(K.Key_Tab)
            cashier.type("1")
            cashier.key(K.Key_Return)
            outcome.append(close.outcome.text())
            cashier.key(K.Key_Return)
        outcome = []
        cashier.when_dialog(close_till)
        cashier.key(K.Key_F6)
        assert "Counted: $150.00" in outcome[0] and "Expected" in outcome[0]
        assert "Z report" in outcome[0]

    cashier.when_dialog(cash_menu)
    cashier.key(K.Key_F2, SHIFT)
    assert pos.drawer.session is None
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.login_page)
    assert QApplication.activeModalWidget() is None

"""The till's window on the real services: a PosContext on an SQLite file with a small cached
catalog (tests/terminal/services' fixtures), real PIN hashes and python-escpos Dummy printers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.terminal.services.conftest import BREAD, COFFEE, MILK, UNKNOWN
from tests.terminal.ui.real_till import approve, sign_in_and_open

K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


def test_a_shift_on_the_real_services(real_window, till, driver, printers, qtbot):
    window, sell = real_window, real_window.sell_screen
    sign_in_and_open(driver, window)
    assert window.stack.currentWidget() is sell
    assert till.drawer.current().opening_float == Decimal("100")

    for code in (MILK, BREAD, COFFEE):
        driver.scan(code)
    cart = till.sales.cart()
    assert [line.sku for line in cart.lines] == ["MILK-1L", "BREAD-SD", "COF-500"]
    assert sell.table.rowCount() == 3 and sell.search.text() == ""
    driver.scan(UNKNOWN)
    assert UNKNOWN in sell.message.text()

    # 20% off the order is beyond the cashier's limit: the manager approves in place.
    def discount(dialog: Any) -> None:
        approve(driver)
        driver.key(K.Key_F4)  # quick pick: 20%
    driver.when_dialog(discount)
    driver.key(K.Key_F6)
    cart = till.sales.cart()
    assert cart.discount_total > 0
    assert "Discounts" in sell.totals_grid.itemAtPosition(2, 0).widget().text()
    assert len(cart.tax_lines) == 2  # state and city taxes shown separately

    # Pay: 10.00 on card with the terminal's reference, the rest cash (quick amount F6).
    def tender(dialog: Any) -> None:
        driver.key(K.Key_F2)
        dialog.amount.setFocus()
        dialog.amount.selectAll()
        driver.type("10")
        driver.key(K.Key_Tab)
        driver.type("AUTH42")
        driver.key(K.Key_Return)
        dialog.amount.selectAll()
        driver.type("50")
        driver.key(K.Key_Return)
    driver.when_dialog(tender)
    driver.key(K.Key_F12)
    assert sell.change_banner.isVisible(), sell.message.text()
    assert "CHANGE" in sell.change_banner.text()
    assert not sell.print_warning.isVisible()
    qtbot.waitUntil(lambda: b"Sourdough" in printers.output(), timeout=5000)
    receipt_number = sell.change_banner.text().split()[1].rstrip(":")

    # Return the bread by scanning the receipt number; a cashier's refund needs approval.
    driver.key(K.Key_F1, SHIFT)
    returns = window.returns_screen
    driver.scan(receipt_number)
    assert returns.sale is not None and returns.sale.receipt_number == receipt_number
    bread = next(line for line in returns.sale.lines if "Sourdough" in line.name)
    returns.spins[bread.order_item_id].setFocus()
    driver.key(K.Key_Up)
    approve(driver, "stale")
    driver.key(K.Key_F12)
    assert "Refunded" in returns.message.text(), returns.message.text()
    refreshed = till.returns.find_sale(receipt_number)
    assert next(x for x in refreshed.lines if x.order_item_id == bread.order_item_id
                ).refundable_qty == 0
    driver.key(K.Key_Escape)

    # Cash: pay-out with approval, X report, blind close.
    outcome: list[str] = []

    def cash_menu(dialog: Any) -> None:
        def pay_out(move: Any) -> None:
            driver.type("5")
            driver.key(K.Key_Tab)
            driver.type("milk for the staff room")
            approve(driver)
            driver.key(K.Key_Return)
        driver.when_dialog(pay_out)
        driver.key(K.Key_F2)
        assert "recorded" in dialog.message.text(), dialog.message.text()

        def x_report(report: Any) -> None:
            assert "Sales: 1" in report.text.toPlainText()
            driver.key(K.Key_Escape)
        driver.when_dialog(x_report)
        driver.key(K.Key_F5)

        def close_till(close: Any) -> None:
            first = next(iter(close.counter.spins.values()))
            first.setFocus()
            first.selectAll()
            driver.type("1")
            driver.key(K.Key_Return)
            outcome.append(close.outcome.text())
            driver.key(K.Key_Return)
        driver.when_dialog(close_till)
        driver.key(K.Key_F6)

    driver.when_dialog(cash_menu)
    driver.key(K.Key_F2, SHIFT)
    assert till.drawer.current() is None
    assert "Expected" in outcome[0] and "Z report" in outcome[0]
    assert Path(outcome[0].split("\n")[-1]).exists()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.login_page)


def test_the_cash_menu_prints_an_earlier_z_again(till, printers, qtbot, tmp_path, monkeypatch):
    from stormcom_pos.ui.cash_menu import CashMenuDialog
    from stormcom_pos.ui.reprint_z_dialog import ReprintZDialog
    from tests.terminal.services.conftest import CASHIER_PIN

    till.auth.pin_login("u-cashier", CASHIER_PIN)
    empty = ReprintZDialog(till.drawer, "USD")
    qtbot.addWidget(empty)
    assert not empty.print_button.isEnabled() and "No till has been closed" in empty.message.text()

    for _ in range(2):
        till.drawer.open(Decimal("50.00"))
        till.drawer.close({"50": 1})
    till.printing.drain()
    before = len(printers.output())

    menu = CashMenuDialog(till, "USD")
    qtbot.addWidget(menu)
    opened: list[Any] = []
    monkeypatch.setattr(ReprintZDialog, "exec", lambda dialog: opened.append(dialog) or 0)
    menu.reprint_z()  # F7
    (dialog,) = opened
    qtbot.addWidget(dialog)
    rows = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert rows[0].startswith("Z #2") and rows[1].startswith("Z #1") and "$50.00" in rows[1]
    dialog.list.setCurrentRow(1)
    dialog.print_button.click()
    assert "Z #1 printed again" in dialog.message.text(), dialog.message.text()
    till.printing.drain()
    printed = printers.output()[before:]
    assert b"Z REPORT #1" in printed and b"REPRINT" in printed
    dialog.resize(640, 380)
    assert dialog.grab().save(str(tmp_path / "reprint_z.png"))

"""Cart editing, quick keys and the print queue on the real till."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from tests.terminal.services.conftest import BREAD, MILK
from tests.terminal.ui.real_till import approve, sign_in_and_open

K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


def test_quantity_remove_line_discount_quick_key_and_search(real_window, till, driver):
    sell = real_window.sell_screen
    sign_in_and_open(driver, real_window)
    driver.scan(MILK)
    driver.scan(BREAD)

    def quantity(dialog):
        driver.type("3")
        driver.key(K.Key_Return)
    driver.when_dialog(quantity)
    driver.key(K.Key_F3)  # the selected line: the last scanned, the bread
    assert [(line.sku, line.quantity) for line in till.sales.cart().lines] == [
        ("MILK-1L", 1), ("BREAD-SD", 3)]

    driver.key(K.Key_PageUp)  # select the milk
    driver.key(K.Key_F4)
    assert [line.sku for line in till.sales.cart().lines] == ["BREAD-SD"]

    def line_discount(dialog):
        driver.type("1.50")
        dialog.as_amount.setChecked(True)
        approve(driver, "dented")
        driver.key(K.Key_Return)
    driver.when_dialog(line_discount)
    driver.key(K.Key_F5)
    assert till.sales.cart().lines[0].discount == Decimal("1.50")

    sell.quick_tabs.currentWidget().widget().findChildren(type(
        sell.function_buttons["F2"]))[0].click()  # the Dairy tab's Whole Milk key
    assert [line.sku for line in till.sales.cart().lines] == ["BREAD-SD", "MILK-1L"]

    driver.type("coff")
    assert sell.results.count() == 1 and "Coffee Beans" in sell.results.item(0).text()
    driver.key(K.Key_Return)
    assert [line.sku for line in till.sales.cart().lines][-1] == "COF-500"
    assert sell.search.text() == ""


def test_a_dead_printer_keeps_the_sale_and_the_queue_prints_it_later(
        real_window, till, driver, printers, qtbot):
    sell = real_window.sell_screen
    sign_in_and_open(driver, real_window)
    printers.alive = False
    driver.scan(MILK)

    def pay(dialog):
        driver.key(K.Key_Return)
    driver.when_dialog(pay)
    driver.key(K.Key_F12)
    receipt = till.sales.last_receipt_number
    assert till.returns.find_sale(receipt) is not None  # recorded before the print failed
    qtbot.waitUntil(lambda: sell.print_warning.isVisible(), timeout=5000)
    assert receipt.encode() not in printers.output()
    qtbot.waitUntil(lambda: "Reprints waiting: 1" in real_window.status.printer_label.text(),
                    timeout=10_000)

    printers.alive = True
    seen = []

    def receipts(dialog):
        seen.append(dialog.queue_list.item(0).text())
        driver.key(K.Key_F3)
        seen.append(dialog.message.text())
        driver.key(K.Key_Escape)
    driver.when_dialog(receipts)
    driver.key(K.Key_F3, SHIFT)
    assert receipt in seen[0]
    assert seen[1] == "Printed 1."
    qtbot.waitUntil(lambda: receipt.encode() in printers.output(), timeout=5000)
    assert till.receipts.queue() == []

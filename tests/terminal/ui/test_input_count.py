"""The original StormCom target (a sale of 3 items with a discount, payment and a printed
receipt in under 60 s) as a scripted cashier run on the real till, counting every input:
a scanner burst, a key press or a tap is one input. The goal is at most 8."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from tests.terminal.services.conftest import BREAD, COFFEE, MILK
from tests.terminal.ui.real_till import sign_in_and_open

K = Qt.Key
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


def test_three_items_a_discount_cash_and_a_receipt_in_seven_inputs(
        real_window, till, driver, printers, qtbot):
    # The store lets cashiers give up to 10% without a manager.
    till.runtime.save_config(till.runtime.config.model_copy(
        update={"cashier_discount_limit_percent": Decimal(10)}))
    sign_in_and_open(driver, real_window)
    driver.inputs = 0

    for code in (MILK, BREAD, COFFEE):
        driver.scan(code)  # 3

    def ten_percent(dialog):
        driver.key(K.Key_F2)  # 5: quick pick 10%
    driver.when_dialog(ten_percent)
    driver.key(K.Key_F6)  # 4: order discount

    def exact_cash(dialog):
        driver.key(K.Key_Return)  # 7: exact cash, prefilled
    driver.when_dialog(exact_cash)
    driver.key(K.Key_F12)  # 6: pay

    sell = real_window.sell_screen
    assert sell.change_banner.isVisible(), sell.message.text()
    receipt = till.sales.last_receipt_number
    qtbot.waitUntil(lambda: receipt.encode() in printers.output(), timeout=5000)
    assert b"Coffee Beans" in printers.output()
    print(f"\ninputs for the original target's sale: {driver.inputs}")
    assert driver.inputs == 7

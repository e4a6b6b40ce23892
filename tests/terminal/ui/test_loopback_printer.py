"""A cash sale at the real window printed on a network receipt printer: a loopback TCP printer
(tests/terminal/hardware) receives the ESC/POS bytes, and the cash sale kicks the drawer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.printers import ReceiptPrinter
from stormcom_pos.services.context import PosContext
from tests.terminal.hardware.conftest import LoopbackPrinter
from tests.terminal.services.conftest import BREAD, MILK, Clock, catalog, load_catalog
from tests.terminal.ui.conftest import Cashier, SteppingClock
from tests.terminal.ui.real_till import sign_in_and_open

K = Qt.Key
pytestmark = [pytest.mark.ui]


@pytest.fixture
def network_till(tmp_path: Path) -> Iterator[tuple[PosContext, LoopbackPrinter]]:
    loop = LoopbackPrinter()
    config = PrinterConfig(connection="network", host="127.0.0.1", port=loop.port,
                           timeout_s=3.0)
    context = PosContext.for_tests(tmp_path / "till", clock=Clock(),
                                   printer=ReceiptPrinter(config))
    load_catalog(context, catalog())
    try:
        yield context, loop
    finally:
        context.close()
        loop.close()


def test_a_cash_sale_prints_on_a_network_printer_and_opens_the_drawer(
        qtbot: Any, network_till: tuple[PosContext, LoopbackPrinter]) -> None:
    from stormcom_pos.ui.main_window import MainWindow

    till, loop = network_till
    keys = SteppingClock()
    window = MainWindow(till, scanner_clock=keys)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    window.show_login()
    driver = Cashier(qtbot, window, keys)
    try:
        sign_in_and_open(driver, window)
        driver.scan(MILK)
        driver.scan(BREAD)

        def pay_exact_cash(dialog: Any) -> None:
            driver.key(K.Key_Return)
        driver.when_dialog(pay_exact_cash)
        driver.key(K.Key_F12)
        assert window.sell_screen.change_banner.isVisible(), window.sell_screen.message.text()
        receipt_number = window.sell_screen.change_banner.text().split()[1].rstrip(":")
        jobs = loop.wait_for_jobs(2)  # the receipt, then the drawer kick
        receipt = next(job for job in jobs if b"Sourdough" in job)
        assert receipt.startswith(b"\x1b@") or b"\x1b@" in receipt[:64]
        assert b"Whole Milk" in receipt and receipt_number.encode() in receipt
        assert b"\x1dV" in receipt  # cut
        assert any(b"\x1bp" in job for job in jobs)  # drawer kick on a cash sale
        assert not window.sell_screen.print_warning.isVisible()
    finally:
        window.shutdown()

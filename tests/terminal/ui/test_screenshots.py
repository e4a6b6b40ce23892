"""Screenshots of the main screens, grabbed from the real widgets on the real services.

They go to docs/screenshots/ when STORMCOM_SCREENSHOTS=1 (how the README's pictures are made),
otherwise to a temporary directory, so the test still checks every screen renders."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tests.terminal.services.conftest import BREAD, COFFEE, MILK
from tests.terminal.ui.fakes import FakePos, SetupProgress
from tests.terminal.ui.real_till import approve, sign_in_and_open

K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
ROOT = Path(__file__).resolve().parents[3]
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("STORMCOM_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return tmp_path


def save(widget: Any, folder: Path, name: str) -> None:
    path = folder / f"{name}.png"
    assert widget.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() > 300 and image.height() > 200


def test_setup_screenshot(qtbot, shots):
    from stormcom_pos.ui.main_window import MainWindow

    window = MainWindow(FakePos(needs_setup=True))
    qtbot.addWidget(window)
    window.resize(1100, 700)
    window.show()
    window.start()
    page = window.setup_page
    page.server_url.setText("https://pos.stormcom.example")
    page.pairing_code.setText("4KD7-92QX")
    page.stack.setCurrentIndex(1)
    page._on_progress(SetupProgress("Prices and stock", 118_400, 200_000, 0.592, 41.0, True,
                                    False))
    save(window, shots, "setup")
    window.shutdown()


def test_screens_on_the_real_till(real_window, till, driver, shots, qtbot):
    window = real_window
    window.resize(1280, 800)
    window.status.refresh()
    save(window, shots, "login")
    sign_in_and_open(driver, window)
    for code in (MILK, BREAD, COFFEE, COFFEE):
        driver.scan(code)

    def discount(dialog: Any) -> None:
        approve(driver, "loyal customer")
        driver.key(K.Key_F2)  # 10%
    driver.when_dialog(discount)
    driver.key(K.Key_F6)
    driver.scan("061414199999" + "4")
    save(window, shots, "sell")

    def tender(dialog: Any) -> None:
        dialog.resize(560, 420)
        save(dialog, shots, "tender")
        driver.key(K.Key_F2)
        dialog.amount.setText("20.00")
        dialog.reference.setText("AUTH-5521")
        dialog.add_tender()
        save(dialog, shots, "tender-split")
        dialog.amount.setText("40")
        dialog.add_tender()
    driver.when_dialog(tender)
    driver.key(K.Key_F12)
    receipt = till.sales.last_receipt_number
    save(window, shots, "sale-done")

    driver.key(K.Key_F1, SHIFT)
    driver.scan(receipt)
    returns = window.returns_screen
    first = next(iter(returns.spins.values()))
    first.setValue(1.0)
    save(window, shots, "returns")
    driver.key(K.Key_Escape)

    def cash_menu(dialog: Any) -> None:
        def close_till(close: Any) -> None:
            close.resize(620, 560)
            close.counter.spins[next(k for k in close.counter.spins if Decimal(k) == 20)
                                ].setValue(5)
            close.counter.spins[next(k for k in close.counter.spins if Decimal(k) == 10)
                                ].setValue(3)
            close._submit()
            save(close, shots, "close-till")
            driver.key(K.Key_Return)
        driver.when_dialog(close_till)
        driver.key(K.Key_F6)
    driver.when_dialog(cash_menu)
    driver.key(K.Key_F2, SHIFT)
    assert till.drawer.current() is None

    # The next morning: the manager prints yesterday's Z again from the cash menu (F7).
    from stormcom_pos.ui.reprint_z_dialog import ReprintZDialog
    from tests.terminal.services.conftest import CASHIER_PIN

    till.auth.pin_login("u-cashier", CASHIER_PIN)
    reprint = ReprintZDialog(till.drawer, "USD", window)
    reprint.resize(640, 360)
    reprint.print_selected()
    assert "printed again" in reprint.message.text(), reprint.message.text()
    save(reprint, shots, "reprint-z")

"""Keyboard helpers for the real till (PosContext with tests/terminal/services' catalog)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from tests.terminal.services.conftest import CASHIER_PIN, MANAGER_PIN
from tests.terminal.ui.conftest import Cashier

K = Qt.Key


def staff_key(window: Any, user_id: str) -> K:
    index = list(window.login_page.staff_buttons).index(user_id)
    return getattr(K, f"Key_F{index + 1}")


def approve(driver: Cashier, reason: str = "ok by manager") -> None:
    def fill(dialog: Any) -> None:
        assert dialog.windowTitle() == "Manager approval"
        driver.type(MANAGER_PIN)
        driver.key(K.Key_Tab)
        driver.type(reason)
        driver.key(K.Key_Return)
    driver.when_dialog(fill)


def sign_in_and_open(driver: Cashier, window: Any) -> None:
    driver.key(staff_key(window, "u-cashier"))

    def open_drawer(dialog: Any) -> None:
        driver.type("100")
        driver.key(K.Key_Return)
    driver.when_dialog(open_drawer)
    driver.type(CASHIER_PIN)
    driver.key(K.Key_Return)

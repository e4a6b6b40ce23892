"""Sign in: pick your name and type your PIN (works offline), or email + password + code."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, PinKeypad, TouchButton, heading


class LoginPage(QWidget):
    logged_in = Signal(object)

    def __init__(self, auth: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._auth = auth
        self.selected_user_id: str | None = None
        layout = QVBoxLayout(self)
        self.title = QLabel("Sign in", self)
        self.title.setObjectName("screenTitle")
        layout.addWidget(self.title)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_pin_tab(), "Name and PIN")
        self.tabs.addTab(self._build_password_tab(), "Email and password")
        layout.addWidget(self.tabs, 1)

    def _build_pin_tab(self) -> QWidget:
        page = QWidget(self)
        row = QHBoxLayout(page)
        self.staff_grid = QGridLayout()
        staff_box = QVBoxLayout()
        staff_box.addWidget(QLabel("Who are you?", page))
        staff_box.addLayout(self.staff_grid)
        staff_box.addStretch(1)
        row.addLayout(staff_box, 3)
        right = QVBoxLayout()
        self.who = heading("Pick your name", page)
        right.addWidget(self.who)
        self.pin = QLineEdit(page)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("PIN")
        self.pin.setMinimumHeight(TOUCH_MIN_PX)
        self.pin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pin.returnPressed.connect(self.pin_login)
        right.addWidget(self.pin)
        keypad = PinKeypad(self.pin, page)
        keypad.submitted.connect(self.pin_login)
        right.addWidget(keypad)
        self.pin_error = ErrorLabel(page)
        right.addWidget(self.pin_error)
        right.addStretch(1)
        row.addLayout(right, 2)
        return page

    def _build_password_tab(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.email = QLineEdit(page)
        self.password = QLineEdit(page)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.totp = QLineEdit(page)
        self.totp.setPlaceholderText("6-digit code, if you use two-step sign-in")
        for edit in (self.email, self.password, self.totp):
            edit.setMinimumHeight(TOUCH_MIN_PX)
            edit.returnPressed.connect(self.password_login)
        form.addRow("Email", self.email)
        form.addRow("Password", self.password)
        form.addRow("Code", self.totp)
        layout.addLayout(form)
        layout.addWidget(QLabel("Needs the network. PIN sign-in works offline.", page))
        self.password_error = ErrorLabel(page)
        layout.addWidget(self.password_error)
        layout.addWidget(TouchButton("Sign in", page, on_click=self.password_login))
        layout.addStretch(1)
        return page

    def reload(self, locked_by: str | None = None) -> None:
        """Refresh the staff list; ``locked_by`` names the cashier when the till is locked."""
        while self.staff_grid.count():
            widget = self.staff_grid.takeAt(0).widget()
            if widget is not None:
                widget.hide()  # its F-key shortcut must stop at once, not at deletion
                widget.deleteLater()
        self.selected_user_id = None
        self.who.setText("Pick your name (F1, F2, …)")
        self.staff_buttons: dict[str, TouchButton] = {}
        for index, person in enumerate(self._auth.staff()):
            key = f"F{index + 1}" if index < 9 else None
            button = TouchButton(f"{person.name}  ({person.role.title()})", self, key=key)
            button.setMinimumHeight(72)
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, p=person: self.select_staff(p.user_id, p.name))
            self.staff_buttons[person.user_id] = button
            self.staff_grid.addWidget(button, index // 3, index % 3)
        self.title.setText(f"Locked: {locked_by}, enter your PIN" if locked_by else "Sign in")
        self.pin.clear()
        self.pin_error.clear_message()
        self.tabs.setCurrentIndex(0)
        self.pin.setFocus()

    def select_staff(self, user_id: str, name: str) -> None:
        self.selected_user_id = user_id
        for each, button in self.staff_buttons.items():
            button.setChecked(each == user_id)
        self.who.setText(f"{name}: enter your PIN")
        self.pin.clear()
        self.pin.setFocus()

    def pin_login(self) -> None:
        if self.selected_user_id is None:
            self.pin_error.show_error("Pick your name first.")
            return
        try:
            cashier = self._auth.pin_login(self.selected_user_id, self.pin.text())
        except ServiceError as exc:
            self.pin_error.show_error(str(exc))
            self.pin.clear()
            return
        self.logged_in.emit(cashier)

    def password_login(self) -> None:
        try:
            cashier = self._auth.password_login(
                self.email.text().strip(), self.password.text(), self.totp.text().strip() or None)
        except ServiceError as exc:
            self.password_error.show_error(str(exc))
            return
        self.password.clear()
        self.totp.clear()
        self.logged_in.emit(cashier)

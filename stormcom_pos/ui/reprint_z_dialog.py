"""Print an earlier Z report again: the till's closes, the last first; the copy is marked
REPRINT."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QDialog, QHBoxLayout, QListWidget, QVBoxLayout, QWidget

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import ErrorLabel, TouchButton, heading, money


class ReprintZDialog(QDialog):
    def __init__(self, drawer: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Reprint a Z report")
        self._drawer = drawer
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Closed shifts on this till", self))
        self.shifts = drawer.closed_shifts()
        self.list = QListWidget(self)
        self.list.setMinimumSize(520, 220)
        for shift in self.shifts:
            self.list.addItem(
                f"Z #{shift.z_number}   {shift.opened_at:%d %b %H:%M} to "
                f"{shift.closed_at:%d %b %H:%M}   {shift.cashier_name}   "
                f"counted {money(shift.counted, currency)}")
        if self.shifts:
            self.list.setCurrentRow(0)
        self.list.itemActivated.connect(lambda _item: self.print_selected())
        layout.addWidget(self.list)
        self.message = ErrorLabel(self)
        if not self.shifts:
            self.message.show_info("No till has been closed here yet.")
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.print_button = TouchButton("Print again", self, key="F1",
                                        on_click=self.print_selected)
        self.print_button.setEnabled(bool(self.shifts))
        buttons.addWidget(self.print_button)
        buttons.addWidget(TouchButton("Close", self, on_click=self.reject))
        layout.addLayout(buttons)

    def print_selected(self) -> None:
        row = self.list.currentRow()
        if not 0 <= row < len(self.shifts):
            self.message.show_error("Choose a Z report first.")
            return
        shift = self.shifts[row]
        try:
            result = self._drawer.reprint_z(shift.pos_session_id)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        if result.print_warning:
            self.message.show_error(result.print_warning)
        else:
            self.message.show_info(f"Z #{shift.z_number} printed again (marked REPRINT).")

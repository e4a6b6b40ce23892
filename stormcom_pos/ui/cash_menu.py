"""The cash menu: pay-in, pay-out, drop, no-sale, X report, closing the till and printing an
earlier Z again."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QVBoxLayout, QWidget

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.approval_dialog import with_approval
from stormcom_pos.ui.drawer_dialogs import (
    CashMoveDialog,
    CloseTillDialog,
    ReportDialog,
    describe_report,
)
from stormcom_pos.ui.prompts import ask_text
from stormcom_pos.ui.reprint_z_dialog import ReprintZDialog
from stormcom_pos.ui.widgets import ErrorLabel, TouchButton, heading


class CashMenuDialog(QDialog):
    till_closed = Signal(object)

    def __init__(self, ctx: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cash drawer")
        self.ctx, self.currency = ctx, currency
        layout = QVBoxLayout(self)
        current = ctx.drawer.current()
        layout.addWidget(heading(
            f"Drawer opened {current.opened_at:%H:%M} by {current.cashier_name}"
            if current else "No drawer is open.", self))
        grid = QGridLayout()
        actions = [
            ("F1", "Pay in", lambda: self.cash_move("pay_in")),
            ("F2", "Pay out", lambda: self.cash_move("pay_out")),
            ("F3", "Cash drop", lambda: self.cash_move("drop")),
            ("F4", "No sale (open drawer)", self.no_sale),
            ("F5", "X report", self.x_report),
            ("F6", "Close till", self.close_till),
            ("F7", "Reprint a Z", self.reprint_z),
        ]
        for index, (key, label, slot) in enumerate(actions):
            button = TouchButton(label, self, key=key, on_click=slot)
            button.setMinimumHeight(64)
            grid.addWidget(button, index // 3, index % 3)
        layout.addLayout(grid)
        self.message = ErrorLabel(self)
        layout.addWidget(self.message)

    def cash_move(self, kind: str) -> None:
        dialog = CashMoveDialog(self.ctx.drawer, self.ctx.auth, kind, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.message.show_info(f"{CashMoveDialog.TITLES[kind]} recorded.")

    def no_sale(self) -> None:
        reason = ask_text(self, "No sale", "Why open the drawer?")
        if reason is None:
            return
        try:
            done, _ = with_approval(self, self.ctx.auth,
                                    lambda approval: self.ctx.drawer.no_sale(reason, approval))
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        if done:
            self.message.show_info("Drawer opened (recorded as no-sale).")

    def x_report(self) -> None:
        try:
            report = self.ctx.drawer.x_report(True)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        ReportDialog("X report (printed)", describe_report(report, self.currency), self).exec()

    def close_till(self) -> None:
        dialog = CloseTillDialog(self.ctx.drawer, self.currency, self)
        dialog.exec()
        if dialog.result is not None:
            self.till_closed.emit(dialog.result)
            self.accept()

    def reprint_z(self) -> None:
        try:
            dialog = ReprintZDialog(self.ctx.drawer, self.currency, self)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        dialog.exec()

"""Drawer dialogs: open with a float, count by denomination, pay-in/out/drop, reports, close."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.domain.cash import count_cash
from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.approval_dialog import with_approval
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, heading, money, parse_decimal


def _buttons(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog
    )
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    for button in buttons.buttons():
        button.setMinimumHeight(TOUCH_MIN_PX)
    buttons.rejected.connect(dialog.reject)
    return buttons


class DenominationCounter(QWidget):
    """One spin box per note and coin; the total is the domain's count of the drawer."""

    def __init__(self, denominations: list[Decimal], currency: str, parent: QWidget | None = None):
        super().__init__(parent)
        self._currency = currency
        self.spins: dict[str, QSpinBox] = {}
        grid = QGridLayout(self)
        columns = 2
        for index, value in enumerate(denominations):
            spin = QSpinBox(self)
            spin.setRange(0, 10000)
            spin.setMinimumHeight(TOUCH_MIN_PX)
            spin.valueChanged.connect(self._update_total)
            key = str(value)
            self.spins[key] = spin
            row, col = divmod(index, columns)
            grid.addWidget(QLabel(money(value, currency), self), row, col * 2)
            grid.addWidget(spin, row, col * 2 + 1)
        self.total_label = QLabel(self)
        self.total_label.setObjectName("totalLabel")
        grid.addWidget(self.total_label, (len(denominations) + 1) // columns + 1, 0, 1, 4)
        self._update_total()

    def counts(self) -> dict[str, int]:
        return {key: spin.value() for key, spin in self.spins.items() if spin.value()}

    def total(self) -> Decimal:
        return count_cash(self._currency, self.counts()).total

    def _update_total(self) -> None:
        self.total_label.setText(f"Counted: {money(self.total(), self._currency)}")


class OpenDrawerDialog(QDialog):
    """The opening float, typed or counted by denomination. No sale happens before this."""

    def __init__(self, drawer: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open the drawer")
        self._drawer = drawer
        self.view: Any = None
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.float_edit = QLineEdit(self)
        self.float_edit.setPlaceholderText("0.00")
        self.float_edit.setMinimumHeight(TOUCH_MIN_PX)
        form.addRow("Opening float", self.float_edit)
        layout.addLayout(form)
        self.count_box = QCheckBox("Count by denomination", self)
        self.count_box.setMinimumHeight(TOUCH_MIN_PX)
        layout.addWidget(self.count_box)
        self.counter = DenominationCounter(drawer.denominations(), currency, self)
        self.counter.hide()
        self.count_box.toggled.connect(self._on_count_toggled)
        layout.addWidget(self.counter)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = _buttons(self, "Open drawer")
        buttons.accepted.connect(self._open)
        layout.addWidget(buttons)
        self.float_edit.setFocus()

    def _on_count_toggled(self, on: bool) -> None:
        self.counter.setVisible(on)
        self.float_edit.setEnabled(not on)

    def _open(self) -> None:
        counts = self.counter.counts() if self.count_box.isChecked() else None
        amount = self.counter.total() if counts is not None else parse_decimal(
            self.float_edit.text() or "0")
        if amount is None or amount < 0:
            self.error.show_error("Enter the opening float, e.g. 150.00")
            return
        try:
            self.view = self._drawer.open(amount, counts)
        except ServiceError as exc:
            self.error.show_error(str(exc))
            return
        self.accept()


class CashMoveDialog(QDialog):
    """Pay-in, pay-out or drop: an amount and a reason."""

    TITLES = {"pay_in": "Pay in", "pay_out": "Pay out", "drop": "Cash drop"}

    def __init__(self, drawer: Any, auth: Any, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.TITLES[kind])
        self._drawer, self._auth, self._kind = drawer, auth, kind
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.amount = QLineEdit(self)
        self.reason = QLineEdit(self)
        for edit in (self.amount, self.reason):
            edit.setMinimumHeight(TOUCH_MIN_PX)
        form.addRow("Amount", self.amount)
        form.addRow("Reason", self.reason)
        layout.addLayout(form)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = _buttons(self, self.TITLES[kind])
        buttons.accepted.connect(self._submit)
        layout.addWidget(buttons)
        self.amount.setFocus()

    def _submit(self) -> None:
        amount = parse_decimal(self.amount.text())
        if amount is None or amount <= 0:
            self.error.show_error("Enter an amount above zero.")
            return
        if not self.reason.text().strip():
            self.error.show_error("Enter a reason.")
            self.reason.setFocus()
            return
        try:
            done, _ = with_approval(self, self._auth, lambda approval: self._drawer.cash_move(
                self._kind, amount, self.reason.text().strip(), approval))
        except ServiceError as exc:
            self.error.show_error(str(exc))
            return
        if done:
            self.accept()


def describe_report(report: Any, currency: str) -> str:
    """The X report as the screen shows it: takings by tender and tax, never expected cash
    (the close stays blind)."""
    def m(value: Decimal) -> str:
        return money(value, currency)

    lines = [
        f"{report.kind} report, session opened {report.opened_at:%Y-%m-%d %H:%M}",
        f"Generated {report.generated_at:%H:%M}",
        "",
        f"Sales: {report.sales_count}   {m(report.sales_total)}  (tax {m(report.sales_tax)})",
        f"Discounts given: {m(report.discounts)}",
        f"Refunds: {report.refunds_count}   {m(report.refunds_total)}",
        "",
        "By tender:",
    ]
    for tender in report.by_tender:
        name = str(tender.tender).replace("_", " ").title()
        lines.append(f"  {name}: {tender.payments} taken {m(tender.taken)}, "
                     f"refunded {m(tender.refunded)}")
    lines.append("By tax rate:")
    for tax in report.by_tax_rate:
        lines.append(f"  {tax.name}: {m(tax.tax)} on {m(tax.taxable)}")
    return "\n".join(lines)


class ReportDialog(QDialog):
    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        self.text = QPlainTextEdit(text, self)
        self.text.setReadOnly(True)
        self.text.setMinimumSize(420, 320)
        layout.addWidget(self.text)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        close.accepted.connect(self.accept)
        layout.addWidget(close)


class CloseTillDialog(QDialog):
    """Blind close: the count comes first; expected and over/short appear only afterwards."""

    def __init__(self, drawer: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Close the till")
        self._drawer, self._currency = drawer, currency
        self.result: Any = None
        layout = QVBoxLayout(self)
        self.heading = heading("Count the drawer by denomination.", self)
        layout.addWidget(self.heading)
        self.counter = DenominationCounter(drawer.denominations(), currency, self)
        layout.addWidget(self.counter)
        self.outcome = QLabel(self)
        self.outcome.setObjectName("closeOutcome")
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.hide()
        layout.addWidget(self.outcome)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        self.buttons = _buttons(self, "Close till")
        self.buttons.accepted.connect(self._submit)
        layout.addWidget(self.buttons)

    def _submit(self) -> None:
        if self.result is not None:
            self.accept()
            return
        try:
            self.result = self._drawer.close(self.counter.counts())
        except ServiceError as exc:
            self.error.show_error(str(exc))
            return
        r, cur = self.result, self._currency
        word = "Over" if r.over_short > 0 else "Short" if r.over_short < 0 else "Balanced"
        self.outcome.setText(
            f"Counted: {money(r.counted, cur)}\nExpected: {money(r.expected, cur)}\n"
            f"{word}: {money(abs(r.over_short), cur)}\n\nZ report printed and saved to\n"
            f"{r.pdf_path}"
        )
        self.outcome.show()
        self.counter.setEnabled(False)
        self.heading.setText("Till closed.")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Done")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).hide()

"""Dialogs for the cart: discounts with quick percentages, customers, and parked sales."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import (
    TOUCH_MIN_PX,
    ErrorLabel,
    TouchButton,
    heading,
    money,
    parse_decimal,
)

QUICK_PERCENTS = (Decimal(5), Decimal(10), Decimal(15), Decimal(20))
# The store asks for a reason on every discount; the usual ones are one key away.
DISCOUNT_REASONS = ("Customer goodwill", "Damaged packaging", "Price match", "Staff discount",
                    "Loyal customer")


class DiscountDialog(QDialog):
    """Pick a quick percentage with one key (F1-F4), or type a percent or an amount."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.percent: Decimal | None = None
        self.amount: Decimal | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(heading(title, self))
        quick = QGridLayout()
        for index, percent in enumerate(QUICK_PERCENTS):
            key = f"F{index + 1}"
            button = TouchButton(f"{percent}%", self, key=key,
                                 on_click=lambda p=percent: self._choose(p, None))
            quick.addWidget(button, 0, index)
        layout.addLayout(quick)
        row = QHBoxLayout()
        self.as_percent = QRadioButton("Percent", self)
        self.as_amount = QRadioButton("Amount", self)
        self.as_percent.setChecked(True)
        self.value = QLineEdit(self)
        self.value.setPlaceholderText("or type a value, then Enter")
        self.value.setMinimumHeight(TOUCH_MIN_PX)
        row.addWidget(self.as_percent)
        row.addWidget(self.as_amount)
        row.addWidget(self.value, 1)
        layout.addLayout(row)
        reason_row = QHBoxLayout()
        reason_row.addWidget(QLabel("Reason", self))
        self.reason = QComboBox(self)
        self.reason.setEditable(True)
        self.reason.addItems(DISCOUNT_REASONS)
        self.reason.setMinimumHeight(TOUCH_MIN_PX)
        reason_row.addWidget(self.reason, 1)
        layout.addLayout(reason_row)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._typed)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.value.setFocus()

    def _typed(self) -> None:
        value = parse_decimal(self.value.text())
        if value is None or value <= 0:
            self.error.show_error("Pick a quick discount or type a value above zero.")
            return
        if self.as_percent.isChecked():
            self._choose(value, None)
        else:
            self._choose(None, value)

    def _choose(self, percent: Decimal | None, amount: Decimal | None) -> None:
        self.percent, self.amount = percent, amount
        self.accept()


class CustomerDialog(QDialog):
    """Find a customer as you type, or create one (works offline)."""

    def __init__(self, sales: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Customer")
        self._sales = sales
        self.customer_id: str | None = None
        layout = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Name, phone or email")
        self.search.setMinimumHeight(TOUCH_MIN_PX)
        self.search.textChanged.connect(self._update_results)
        layout.addWidget(self.search)
        self.results = QListWidget(self)
        self.results.itemActivated.connect(self._on_pick)
        layout.addWidget(self.results)
        form = QFormLayout()
        self.first = QLineEdit(self)
        self.last = QLineEdit(self)
        self.phone = QLineEdit(self)
        self.email = QLineEdit(self)
        for label, edit in (("First name", self.first), ("Last name", self.last),
                            ("Phone", self.phone), ("Email", self.email)):
            edit.setMinimumHeight(TOUCH_MIN_PX)
            form.addRow(label, edit)
        layout.addWidget(QLabel("New customer", self))
        layout.addLayout(form)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        create = TouchButton("Create and attach", self, on_click=self._create)
        layout.addWidget(create)
        QShortcut(QKeySequence("Down"), self.search, self.results.setFocus,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.search.returnPressed.connect(self._pick_first)

    def _update_results(self, text: str) -> None:
        self.results.clear()
        if len(text.strip()) < 2:
            return
        for customer in self._sales.find_customers(text.strip()):
            detail = " · ".join(part for part in (customer.phone, customer.email) if part)
            item = QListWidgetItem(f"{customer.name}   {detail}")
            item.setData(Qt.ItemDataRole.UserRole, customer.id)
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def _pick_first(self) -> None:
        if self.results.count():
            self._on_pick(self.results.item(0))

    def _on_pick(self, item: QListWidgetItem) -> None:
        self._attach(item.data(Qt.ItemDataRole.UserRole))

    def _create(self) -> None:
        if not self.first.text().strip():
            self.error.show_error("A new customer needs at least a first name.")
            self.first.setFocus()
            return
        try:
            customer_id = self._sales.create_customer(
                self.first.text().strip(), self.last.text().strip() or None,
                self.phone.text().strip() or None, self.email.text().strip() or None)
        except ServiceError as exc:
            self.error.show_error(str(exc))
            return
        self._attach(customer_id)

    def _attach(self, customer_id: str) -> None:
        try:
            self._sales.attach_customer(customer_id)
        except ServiceError as exc:
            self.error.show_error(str(exc))
            return
        self.customer_id = customer_id
        self.accept()


class RecallDialog(QDialog):
    """Parked sales, newest first; Enter recalls the highlighted one."""

    def __init__(self, sales: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recall a parked sale")
        self.park_id: str | None = None
        layout = QVBoxLayout(self)
        self.list = QListWidget(self)
        for parked in sales.parked():
            when = parked.parked_at.strftime("%H:%M") if parked.parked_at else ""
            item = QListWidgetItem(f"{parked.label}   {money(parked.total, currency)}   {when}")
            item.setData(Qt.ItemDataRole.UserRole, parked.park_id)
            item.setSizeHint(item.sizeHint().expandedTo(item.sizeHint().__class__(0, 48)))
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            layout.addWidget(QLabel("No parked sales.", self))
        self.list.itemActivated.connect(self._choose)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(lambda: self.list.currentItem() and self._choose(
            self.list.currentItem()))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.list.setFocus()

    def _choose(self, item: QListWidgetItem) -> None:
        self.park_id = item.data(Qt.ItemDataRole.UserRole)
        self.accept()

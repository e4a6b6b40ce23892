"""Returns: find the sale by its receipt barcode or a search, choose lines and quantities,
refund to the original tender or to cash, with restock and approval when needed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.domain.enums import RefundReason
from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.approval_dialog import with_approval
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, TouchButton, heading, money

COLUMNS = ("Item", "Sold", "Can return", "Unit", "Return")


class ReturnsScreen(QWidget):
    back_requested = Signal()

    def __init__(self, ctx: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.currency = ctx, currency
        self.sale: Any = None
        self.spins: dict[str, QDoubleSpinBox] = {}
        layout = QVBoxLayout(self)
        title = QLabel("Returns", self)
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        self.search = QLineEdit(self)
        self.search.setObjectName("searchEdit")
        self.search.setPlaceholderText("Scan the receipt barcode, or type a receipt number, "
                                       "customer or product")
        self.search.setMinimumHeight(TOUCH_MIN_PX)
        self.search.returnPressed.connect(lambda: self.lookup(self.search.text()))
        layout.addWidget(self.search)
        self.results = QListWidget(self)
        self.results.setMaximumHeight(150)
        self.results.hide()
        self.results.itemActivated.connect(self._on_result)
        layout.addWidget(self.results)
        self.sale_label = heading("", self)
        layout.addWidget(self.sale_label)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(TOUCH_MIN_PX)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._build_options())
        self.message = ErrorLabel(self)
        layout.addWidget(self.message)
        keys = QGridLayout()
        keys.addWidget(TouchButton("Return everything", self, key="F1",
                                   on_click=self.select_all), 0, 0)
        keys.addWidget(TouchButton("Find sale", self, key="F2", on_click=self.focus_search), 0, 1)
        self.refund_button = TouchButton("Refund", self, key="F12", on_click=self.refund)
        self.refund_button.setObjectName("payButton")
        keys.addWidget(self.refund_button, 0, 2)
        keys.addWidget(TouchButton("Back to selling", self, key="Esc",
                                   on_click=self.back_requested.emit), 0, 3)
        layout.addLayout(keys)

    def _build_options(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.to_original = QRadioButton("To the original tender", self)
        self.to_cash = QRadioButton("In cash", self)
        self.to_original.setChecked(True)
        self.reason = QComboBox(self)
        for reason in RefundReason:
            self.reason.addItem(reason.value.replace("_", " ").capitalize(), reason)
        self.restock = QCheckBox("Put the items back in stock", self)
        self.restock.setChecked(True)
        for widget in (self.to_original, self.to_cash, self.reason, self.restock):
            widget.setMinimumHeight(TOUCH_MIN_PX)
            row.addWidget(widget)
        return row

    def reset(self) -> None:
        self.sale = None
        self.search.clear()
        self.results.hide()
        self.sale_label.clear()
        self.table.setRowCount(0)
        self.spins = {}
        self.message.clear_message()
        self.search.setFocus()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def lookup(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        try:
            sale = self.ctx.returns.find_sale(text)
            matches = [] if sale is not None else self.ctx.returns.search_sales(text)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        self.results.clear()
        self.results.hide()
        if sale is not None:
            self.show_sale(sale)
        elif len(matches) == 1:
            self.show_sale(matches[0])
        elif matches:
            for match in matches:
                when = match.completed_at.strftime("%Y-%m-%d %H:%M")
                item = QListWidgetItem(f"{match.receipt_number}   {when}   "
                                       f"{money(match.total, self.currency)}")
                item.setData(Qt.ItemDataRole.UserRole, match)
                self.results.addItem(item)
            self.results.show()
            self.results.setCurrentRow(0)
            self.results.setFocus()
        else:
            self.message.show_error(f"No sale found for “{text}”.")

    def _on_result(self, item: QListWidgetItem) -> None:
        self.results.hide()
        self.show_sale(item.data(Qt.ItemDataRole.UserRole))

    def show_sale(self, sale: Any) -> None:
        self.sale = sale
        self.message.clear_message()
        self.sale_label.setText(
            f"Receipt {sale.receipt_number}  ·  {sale.completed_at:%Y-%m-%d %H:%M}  ·  "
            f"{money(sale.total, self.currency)}  ·  paid by {', '.join(sale.tenders)}")
        self.table.setRowCount(len(sale.lines))
        self.spins = {}
        for row, line in enumerate(sale.lines):
            cells = (line.name, f"{line.sold_qty.normalize():f}",
                     f"{line.refundable_qty.normalize():f}", money(line.unit_total, self.currency))
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
            spin = QDoubleSpinBox(self.table)
            spin.setDecimals(0 if line.refundable_qty == line.refundable_qty.to_integral() else 3)
            spin.setRange(0, float(line.refundable_qty))
            spin.setMinimumHeight(TOUCH_MIN_PX)
            spin.setEnabled(line.refundable_qty > 0)
            self.spins[line.order_item_id] = spin
            self.table.setCellWidget(row, 4, spin)
        if self.spins:
            next(iter(self.spins.values())).setFocus()

    def select_all(self) -> None:
        if self.sale is None:
            return
        for line in self.sale.lines:
            self.spins[line.order_item_id].setValue(float(line.refundable_qty))

    def quantities(self) -> dict[str, Decimal]:
        chosen = {}
        for item_id, spin in self.spins.items():
            if spin.value() > 0:
                chosen[item_id] = Decimal(spin.cleanText().replace(",", ""))
        return chosen

    def refund(self) -> None:
        if self.sale is None:
            self.message.show_error("Find the sale first: scan its receipt barcode.")
            return
        quantities = self.quantities()
        if not quantities:
            self.message.show_error("Choose what comes back: set a quantity (F1 for all).")
            return
        to = "cash" if self.to_cash.isChecked() else "original"
        order_id = self.sale.order_id

        def attempt(approval: Any) -> Any:
            return self.ctx.returns.refund(
                order_id, quantities, to=to, reason=self.reason.currentData(),
                restock=self.restock.isChecked(), approval=approval)

        try:
            done, result = with_approval(self, self.ctx.auth, attempt)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        if not done:
            return
        refreshed = self.ctx.returns.find_sale(self.sale.receipt_number)
        if refreshed is not None:
            self.show_sale(refreshed)
        self.message.show_info(f"Refunded {money(result.amount, self.currency)} "
                               f"({'cash' if to == 'cash' else 'original tender'}), "
                               f"refund receipt {result.receipt_number}.")

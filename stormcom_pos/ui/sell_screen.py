"""The sell screen: scan or search, the cart with its totals, quick keys and the F-key bar."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError, UnknownBarcode
from stormcom_pos.ui.cart_actions import CartActions
from stormcom_pos.ui.cart_table import CartTable
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, TouchButton, money

QUICK_KEY_COLUMNS = 6


class SellScreen(CartActions, QWidget):
    returns_requested = Signal()
    cash_requested = Signal()
    switch_cashier_requested = Signal()
    settings_requested = Signal()

    def __init__(self, ctx: Any, currency: str, parent: QWidget | None = None) -> None:
        QWidget.__init__(self, parent)
        self.ctx, self.currency = ctx, currency
        self.selected_line_id: str | None = None
        self.cart_view: Any = None
        root = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setObjectName("searchEdit")
        self.search.setPlaceholderText("F2  Search by name, SKU or barcode (or just scan)")
        self.search.setMinimumHeight(TOUCH_MIN_PX)
        self.search.textChanged.connect(self._update_results)
        self.search.returnPressed.connect(self._add_current_result)
        root.addWidget(self.search)
        middle = QHBoxLayout()
        left = QVBoxLayout()
        self.results = QListWidget(self)
        self.results.setObjectName("searchResults")
        self.results.setMaximumHeight(220)
        self.results.hide()
        self.results.itemActivated.connect(self._add_result)
        left.addWidget(self.results)
        self.table = CartTable(currency, self)
        self.table.itemSelectionChanged.connect(self._on_table_selection)
        left.addWidget(self.table, 1)
        middle.addLayout(left, 3)
        middle.addWidget(self._build_totals(), 2)
        root.addLayout(middle, 1)
        self.quick_tabs = QTabWidget(self)
        self.quick_tabs.setObjectName("quickKeys")
        self.quick_tabs.setMaximumHeight(190)
        root.addWidget(self.quick_tabs)
        root.addLayout(self._build_function_keys())
        QShortcut(QKeySequence("Down"), self.search, self._focus_results,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence("Escape"), self.search, self._clear_search,
                  context=Qt.ShortcutContext.WidgetShortcut)
        for key, step in (("PgUp", -1), ("PgDown", 1)):
            QShortcut(QKeySequence(key), self, lambda s=step: self.move_selection(s),
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Delete"), self, self.remove_line,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- layout -------------------------------------------------------------------------------
    def _build_totals(self) -> QFrame:
        panel = QFrame(self)
        panel.setObjectName("totalsPanel")
        layout = QVBoxLayout(panel)
        self.customer_label = QLabel(panel)
        self.customer_label.setObjectName("customerLabel")
        layout.addWidget(self.customer_label)
        self.totals_grid = QGridLayout()
        layout.addLayout(self.totals_grid)
        self.total_label = QLabel(panel)
        self.total_label.setObjectName("grandTotal")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.total_label)
        layout.addStretch(1)
        self.change_banner = QLabel(panel)
        self.change_banner.setObjectName("changeBanner")
        self.change_banner.setWordWrap(True)
        self.change_banner.hide()
        layout.addWidget(self.change_banner)
        self.print_warning = ErrorLabel(panel)
        self.print_warning.setObjectName("printWarning")
        layout.addWidget(self.print_warning)
        self.message = ErrorLabel(panel)
        self.message.setObjectName("sellMessage")
        layout.addWidget(self.message)
        return panel

    def _build_function_keys(self) -> QGridLayout:
        keys = [
            ("F2", "Search", self.focus_search), ("F3", "Quantity", self.change_quantity),
            ("F4", "Remove", self.remove_line), ("F5", "Line disc.", self.discount_line),
            ("F6", "Order disc.", self.discount_order), ("F7", "Price", self.override_price),
            ("F8", "Coupon", self.enter_coupon), ("F9", "Customer", self.choose_customer),
            ("F10", "Park", self.park), ("F11", "Recall", self.recall),
            ("F12", "Pay", self.pay),
            ("Shift+F1", "Returns", self.returns_requested.emit),
            ("Shift+F2", "Cash", self.cash_requested.emit),
            ("Shift+F3", "Receipts", self.open_receipts),
            ("Shift+F4", "Switch cashier", self.switch_cashier_requested.emit),
            ("Shift+F5", "Printer", self.settings_requested.emit),
            ("Shift+F6", "Void sale", self.void_sale),
        ]
        grid = QGridLayout()
        grid.setSpacing(4)
        self.function_buttons: dict[str, TouchButton] = {}
        for index, (key, label, slot) in enumerate(keys):
            button = TouchButton(label, self, key=key, on_click=slot)
            if key == "F12":
                button.setObjectName("payButton")
            self.function_buttons[key] = button
            grid.addWidget(button, index // 9, index % 9)
        return grid

    def load_quick_keys(self) -> None:
        self.quick_tabs.clear()
        for _category_id, name, hits in self.ctx.catalog.quick_keys():
            page = QWidget()
            grid = QGridLayout(page)
            grid.setSpacing(4)
            for column in range(QUICK_KEY_COLUMNS):
                grid.setColumnStretch(column, 1)
            for index, hit in enumerate(hits):
                price = money(getattr(hit, "price", None), self.currency)
                button = TouchButton(f"{hit.name}\n{price}", page)
                button.clicked.connect(lambda _=False, v=hit.variant_id: self.add_variant(v))
                grid.addWidget(button, index // QUICK_KEY_COLUMNS, index % QUICK_KEY_COLUMNS)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            self.quick_tabs.addTab(scroll, name)

    # --- scanning and searching ---------------------------------------------------------------
    def scan(self, code: str) -> None:
        self._begin_action()
        try:
            result = self.ctx.sales.scan(code)
        except UnknownBarcode as exc:
            QApplication.beep()
            text = str(exc)
            self.message.show_error(text if exc.code in text else f"Unknown barcode {exc.code}: "
                                                                  f"{text}")
            return
        except ServiceError as exc:
            QApplication.beep()
            self.message.show_error(str(exc))
            return
        self._after_add(result)

    def add_variant(self, variant_id: str, quantity: Decimal = Decimal(1)) -> None:
        self._begin_action()
        try:
            result = self.ctx.sales.add_variant(variant_id, quantity)
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        self._clear_search()
        self._after_add(result)

    def _after_add(self, result: Any) -> None:
        if result.line_id:
            self.selected_line_id = result.line_id
        self.refresh()
        if result.warning:
            self.message.show_error(f"{result.message}  ⚠ {result.warning}")
        else:
            self.message.show_info(result.message)

    def _begin_action(self) -> None:
        self.change_banner.hide()
        self.print_warning.clear_message()

    def _update_results(self, text: str) -> None:
        self.results.clear()
        text = text.strip()
        if not text:
            self.results.hide()
            return
        for hit in self.ctx.catalog.search(text, 30):
            sku = getattr(hit, "sku", "") or ""
            price = money(getattr(hit, "price", None), self.currency)
            item = QListWidgetItem(f"{hit.name}    {sku}    {price}")
            item.setData(Qt.ItemDataRole.UserRole, hit.variant_id)
            self.results.addItem(item)
        self.results.setVisible(self.results.count() > 0)
        if self.results.count():
            self.results.setCurrentRow(0)

    def _focus_results(self) -> None:
        if self.results.count():
            self.results.setFocus()

    def _add_current_result(self) -> None:
        item = self.results.currentItem() if self.results.isVisible() else None
        if item is not None:
            self._add_result(item)
        elif self.search.text().strip():
            self.scan(self.search.text().strip())
            self._clear_search()

    def _add_result(self, item: QListWidgetItem) -> None:
        self.add_variant(item.data(Qt.ItemDataRole.UserRole))
        self.search.setFocus()

    def _clear_search(self) -> None:
        self.search.clear()
        self.results.hide()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    # --- cart ---------------------------------------------------------------------------------
    def refresh(self) -> None:
        cart = self.cart_view = self.ctx.sales.cart()
        ids = [line.line_id for line in cart.lines]
        if self.selected_line_id not in ids:
            self.selected_line_id = ids[-1] if ids else None
        self.table.show_lines(cart.lines, self.selected_line_id)
        self._update_totals(cart)

    def _update_totals(self, cart: Any) -> None:
        rows = [("Items", f"{cart.item_count}"), ("Subtotal", money(cart.subtotal, self.currency))]
        if cart.discount_total:
            rows.append(("Discounts", f"-{money(cart.discount_total, self.currency)}"))
        for name, rate, amount in cart.tax_lines:
            rows.append((f"{name} ({rate * 100:.3f}".rstrip("0").rstrip(".") + "%)",
                         money(amount, self.currency)))
        # Labels are reused, not rebuilt: a scan must redraw within a frame (16 ms). They are
        # found through the layout rather than held in Python, which upsets PySide's teardown.
        grid = self.totals_grid
        owner = grid.parentWidget()
        for row in range(grid.rowCount() if grid.count() else 0, len(rows)):
            value = QLabel(owner)
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(QLabel(owner), row, 0)
            grid.addWidget(value, row, 1)
        for row in range(grid.rowCount() if grid.count() else 0):
            shown = row < len(rows)
            for column in (0, 1):
                item = grid.itemAtPosition(row, column)
                if item is None or item.widget() is None:
                    continue
                item.widget().setText(rows[row][column] if shown else "")
        self.total_label.setText(f"TOTAL  {money(cart.total, self.currency)}")
        extras = []
        if cart.customer_name:
            extras.append(f"Customer: {cart.customer_name}")
        if cart.coupon_codes:
            extras.append("Coupons: " + ", ".join(cart.coupon_codes))
        self.customer_label.setText("\n".join(extras))

    def _on_table_selection(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows and self.cart_view is not None and rows[0].row() < len(self.cart_view.lines):
            self.selected_line_id = self.cart_view.lines[rows[0].row()].line_id

    def move_selection(self, step: int) -> None:
        if not self.cart_view or not self.cart_view.lines:
            return
        ids = [line.line_id for line in self.cart_view.lines]
        index = ids.index(self.selected_line_id) if self.selected_line_id in ids else 0
        self.selected_line_id = ids[max(0, min(len(ids) - 1, index + step))]
        self.table.selectRow(ids.index(self.selected_line_id))

    def show_sale_done(self, result: Any) -> None:
        text = f"Sale {result.receipt_number}: {money(result.total, self.currency)}"
        text += f"\nCHANGE  {money(result.change, self.currency)}"
        if result.rounding_adjustment:
            text += f"\n(cash rounding {money(result.rounding_adjustment, self.currency)})"
        self.change_banner.setText(text)
        self.change_banner.show()
        if result.print_warning:
            self.print_warning.show_error(f"⚠ {result.print_warning}")
        self.message.clear_message()
        self.refresh()

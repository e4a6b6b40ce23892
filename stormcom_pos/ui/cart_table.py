"""The sell screen's cart table, kept up to date in place.

A scan appends one row or changes one, so only that row is written, measured and repainted;
the whole table is rebuilt only when lines were removed or reordered. A scan has a frame
(16 ms) to be on screen with its totals, and rebuilding every row and re-measuring every
column took 2-5 ms of it, more with every line in the cart.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from stormcom_pos.ui.widgets import TOUCH_MIN_PX, money

CART_COLUMNS = ("Item", "Qty", "Price", "Discount", "Total")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
# What the number columns are sized for at the start of a sale; a wider cell widens its column.
_SAMPLE_QUANTITY = "99.5"
_SAMPLE_AMOUNT = Decimal("999.99")
_PAD_PX = 16  # the delegate's text margins and the grid line, with room to spare


def line_cells(line: Any, currency: str) -> tuple[str, ...]:
    """What one cart line shows, column by column."""
    name = line.name + (f"\n⚠ {line.warning}" if line.warning else "")
    return (name, f"{line.quantity.normalize():f}", money(line.unit_price, currency),
            money(line.discount, currency) if line.discount else "",
            money(line.total, currency))


class CartTable(QTableWidget):
    def __init__(self, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(0, len(CART_COLUMNS), parent)
        self.currency = currency
        self._shown: list[Any] = []  # the line views the rows show, row by row
        self.setObjectName("cartTable")
        self.setHorizontalHeaderLabels(CART_COLUMNS)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(TOUCH_MIN_PX)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed, widened only when a cell needs it: fitting columns to their contents
        # re-measured every row on every scan.
        for column in range(1, len(CART_COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
        header.sectionResized.connect(self._on_section_resized)
        self._base_widths()

    # --- showing the cart ---------------------------------------------------------------------
    def show_lines(self, lines: Sequence[Any], selected_id: str | None) -> None:
        """Show these cart lines, selecting (and scrolling to) ``selected_id``'s row."""
        ids = [line.line_id for line in lines]
        kept = self._shown
        rebuild = [line.line_id for line in kept] != ids[:len(kept)]
        blocked = self.blockSignals(True)  # no itemSelectionChanged while rows are redone
        try:
            if rebuild:
                self._rebuild(lines)
            else:
                self.setRowCount(len(lines))
                for row, line in enumerate(lines):
                    if row >= len(kept) or kept[row] != line:
                        self._show_row(row, line)
                self._shown = list(lines)
            self._select(ids.index(selected_id) if selected_id in ids else None, rebuild)
        finally:
            self.blockSignals(blocked)

    def _rebuild(self, lines: Sequence[Any]) -> None:
        # Everything is redrawn anyway: one repaint once the rows are in, not one per row.
        self.setUpdatesEnabled(False)
        try:
            self.setRowCount(0)
            self._shown = []
            self._base_widths()
            self.setRowCount(len(lines))
            for row, line in enumerate(lines):
                self._show_row(row, line)
            self._shown = list(lines)
        finally:
            self.setUpdatesEnabled(True)

    def _show_row(self, row: int, line: Any) -> None:
        for column, text in enumerate(line_cells(line, self.currency)):
            item = self.item(row, column)
            if item is None:
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(_RIGHT)
                self.setItem(row, column, item)
            elif item.text() != text:
                item.setText(text)
            if column:
                self._fit_column(column, text)
        self._fit_row(row)

    def _select(self, row: int | None, rebuilt: bool) -> None:
        if row is None:
            return
        item = self.item(row, 0)
        if rebuilt or self.currentRow() != row or item is None or not item.isSelected():
            self.selectRow(row)
        self.scrollToItem(item)

    # --- sizes --------------------------------------------------------------------------------
    def _fit_row(self, row: int) -> None:
        wanted = max(self.sizeHintForRow(row), self.verticalHeader().sectionSizeHint(row),
                     TOUCH_MIN_PX)
        if self.rowHeight(row) != wanted:
            self.setRowHeight(row, wanted)

    def _fit_column(self, column: int, text: str) -> None:
        wanted = self.fontMetrics().horizontalAdvance(text) + _PAD_PX
        header = self.horizontalHeader()
        if wanted > header.sectionSize(column):
            header.resizeSection(column, wanted)

    def _base_widths(self) -> None:
        self.ensurePolished()  # the style sheet sets the table's font
        header = self.horizontalHeader()
        metrics = self.fontMetrics()
        amount = money(_SAMPLE_AMOUNT, self.currency)
        for column in range(1, len(CART_COLUMNS)):
            sample = _SAMPLE_QUANTITY if column == 1 else amount
            wanted = max(header.sectionSizeHint(column),
                         metrics.horizontalAdvance(sample) + _PAD_PX)
            if header.sectionSize(column) != wanted:
                header.resizeSection(column, wanted)

    def _on_section_resized(self, column: int, _old: int, _new: int) -> None:
        # The item column wraps long names: its width decides how tall each row must be.
        if column == 0:
            for row in range(self.rowCount()):
                self._fit_row(row)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt API
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._base_widths()
            for row in range(self.rowCount()):
                for column in range(1, len(CART_COLUMNS)):
                    item = self.item(row, column)
                    if item is not None:
                        self._fit_column(column, item.text())
                self._fit_row(row)

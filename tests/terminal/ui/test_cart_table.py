"""The sell screen's cart table is updated in place (a row per scan, not a rebuild): after every
kind of cart change its rows and the totals panel must still say exactly what the cart says."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from stormcom_pos.ui.widgets import TOUCH_MIN_PX, money
from tests.terminal.services.conftest import BREAD, COFFEE, MILK
from tests.terminal.ui.real_till import approve, sign_in_and_open

K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


def shown_rows(table: Any) -> list[tuple[str, ...]]:
    return [tuple(table.item(row, column).text() for column in range(table.columnCount()))
            for row in range(table.rowCount())]


def cart_rows(cart: Any) -> list[tuple[str, ...]]:
    return [(line.name + (f"\n⚠ {line.warning}" if line.warning else ""),
             f"{line.quantity.normalize():f}", money(line.unit_price, "USD"),
             money(line.discount, "USD") if line.discount else "", money(line.total, "USD"))
            for line in cart.lines]


def shown_totals(sell: Any) -> dict[str, str]:
    grid, shown = sell.totals_grid, {}
    for row in range(grid.rowCount()):
        label, value = (grid.itemAtPosition(row, column) for column in (0, 1))
        if label is not None and label.widget().text():
            shown[label.widget().text()] = value.widget().text()
    return shown


def assert_shows_the_cart(sell: Any, till: Any) -> Any:
    cart = till.sales.cart()
    table = sell.table
    assert shown_rows(table) == cart_rows(cart)
    assert all(table.rowHeight(row) >= TOUCH_MIN_PX for row in range(table.rowCount()))
    totals = shown_totals(sell)
    assert totals.pop("Items") == f"{cart.item_count}"
    assert totals.pop("Subtotal") == money(cart.subtotal, "USD")
    if cart.discount_total:
        assert totals.pop("Discounts") == f"-{money(cart.discount_total, 'USD')}"
    for name, _rate, amount in cart.tax_lines:
        label = next(text for text in totals if text.startswith(f"{name} ("))
        assert totals.pop(label) == money(amount, "USD")
    assert totals == {}  # nothing left over from an earlier, longer cart
    assert sell.total_label.text() == f"TOTAL  {money(cart.total, 'USD')}"
    ids = [line.line_id for line in cart.lines]
    if sell.selected_line_id is not None:
        row = ids.index(sell.selected_line_id)
        assert table.currentRow() == row and table.item(row, 0).isSelected()
    return cart


def test_the_table_and_totals_follow_every_cart_change(real_window, till, driver):
    sell = real_window.sell_screen
    sign_in_and_open(driver, real_window)
    assert_shows_the_cart(sell, till)

    driver.scan(MILK)
    driver.scan(BREAD)
    cart = assert_shows_the_cart(sell, till)
    assert [line.sku for line in cart.lines] == ["MILK-1L", "BREAD-SD"]
    assert sell.table.currentRow() == 1  # the line just scanned

    driver.scan(MILK)  # the same item again: one row, quantity 2, selected
    cart = assert_shows_the_cart(sell, till)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("MILK-1L", 2), ("BREAD-SD", 1)]
    assert sell.table.currentRow() == 0

    def quantity(dialog: Any) -> None:
        driver.type("3")
        driver.key(K.Key_Return)
    driver.when_dialog(quantity)
    driver.key(K.Key_F3)
    cart = assert_shows_the_cart(sell, till)
    assert cart.lines[0].quantity == 3

    driver.scan(COFFEE)
    driver.scan(COFFEE)  # only 1 in stock: the row grows a warning line
    cart = assert_shows_the_cart(sell, till)
    assert cart.lines[2].warning and "⚠" in sell.table.item(2, 0).text()

    driver.key(K.Key_PageUp)  # select the bread, then remove it: the rows after it move up
    driver.key(K.Key_F4)
    cart = assert_shows_the_cart(sell, till)
    assert [line.sku for line in cart.lines] == ["MILK-1L", "COF-500"]

    def line_discount(dialog: Any) -> None:
        driver.type("1.50")
        dialog.as_amount.setChecked(True)
        approve(driver, "dented")
        driver.key(K.Key_Return)
    driver.when_dialog(line_discount)
    driver.key(K.Key_F5)  # on the coffee, selected after the bread left
    cart = assert_shows_the_cart(sell, till)
    assert cart.lines[1].discount > 0 and sell.table.item(1, 3).text()

    def order_discount(dialog: Any) -> None:
        approve(driver)
        driver.key(K.Key_F4)  # quick pick: 20%, spread over every line
    driver.when_dialog(order_discount)
    driver.key(K.Key_F6)
    before = cart
    cart = assert_shows_the_cart(sell, till)
    assert cart.lines[0].total < before.lines[0].total  # an unselected row was updated too

    def park_label(dialog: Any) -> None:
        driver.type("blue bag")
        driver.key(K.Key_Return)
    driver.when_dialog(park_label)
    driver.key(K.Key_F10)
    assert sell.table.rowCount() == 0
    assert_shows_the_cart(sell, till)

    driver.scan(BREAD)  # another sale meanwhile, voided
    assert_shows_the_cart(sell, till)
    driver.key(K.Key_F6, SHIFT)
    assert sell.table.rowCount() == 0
    assert_shows_the_cart(sell, till)

    def recall(dialog: Any) -> None:
        assert "blue bag" in dialog.list.item(0).text()
        driver.key(K.Key_Return)
    driver.when_dialog(recall)
    driver.key(K.Key_F11)
    cart = assert_shows_the_cart(sell, till)
    assert [line.sku for line in cart.lines] == ["MILK-1L", "COF-500"]

    driver.key(K.Key_F6, SHIFT)  # void
    assert sell.table.rowCount() == 0
    assert_shows_the_cart(sell, till)


def test_a_scan_appends_its_row_and_leaves_the_others_in_place(real_window, till, driver):
    sell = real_window.sell_screen
    sign_in_and_open(driver, real_window)
    driver.scan(MILK)
    first = sell.table.item(0, 0)
    driver.scan(BREAD)
    driver.scan(BREAD)
    assert sell.table.item(0, 0) is first  # not rebuilt: no flicker, no re-measuring
    assert_shows_the_cart(sell, till)

    # A cart replaced behind the screen's back (same length, other lines) is shown as it is.
    till.sales.clear()
    till.sales.scan(COFFEE)
    till.sales.scan(MILK)
    sell.refresh()
    assert [line.sku for line in assert_shows_the_cart(sell, till).lines] == ["COF-500",
                                                                              "MILK-1L"]

"""Taking payment: cash with quick amounts, card-present with its reference, store credit, and
any split of them. ``SaleService.complete`` commits the sale before anything prints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, TouchButton, money, parse_decimal

METHOD_NAMES = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CARD_PRESENT: "Card",
    PaymentMethod.STORE_CREDIT: "Store credit",
}
QUICK_KEYS = ("F5", "F6", "F7", "F8")


def make_tender(method: PaymentMethod, amount: Decimal, reference: str | None) -> Any:
    from stormcom_pos.services.sales import Tender  # the contract's value type

    return Tender(method=method, amount=amount, reference=reference)


class TenderDialog(QDialog):
    def __init__(self, sales: Any, currency: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Payment")
        self._sales, self._currency = sales, currency
        self.total: Decimal = sales.cart().total
        self.tenders: list[Any] = []
        self.result: Any = None
        self.method = PaymentMethod.CASH
        quick = sales.quick_amounts()
        self._cash_exact = quick[0] if quick else self.total
        layout = QVBoxLayout(self)
        self.due_label = QLabel(self)
        self.due_label.setObjectName("dueLabel")
        layout.addWidget(self.due_label)
        methods = QHBoxLayout()
        self.method_buttons: dict[PaymentMethod, TouchButton] = {}
        for key, method in zip(("F1", "F2", "F3"), METHOD_NAMES, strict=True):
            button = TouchButton(METHOD_NAMES[method], self, key=key,
                                 on_click=lambda m=method: self.choose_method(m))
            button.setCheckable(True)
            self.method_buttons[method] = button
            methods.addWidget(button)
        layout.addLayout(methods)
        self.amount = QLineEdit(self)
        self.amount.setObjectName("amountEdit")
        self.amount.setMinimumHeight(TOUCH_MIN_PX + 8)
        self.amount.returnPressed.connect(self.add_tender)
        layout.addWidget(self.amount)
        self.reference = QLineEdit(self)
        self.reference.setPlaceholderText("Card terminal reference (approval code)")
        self.reference.setMinimumHeight(TOUCH_MIN_PX)
        self.reference.returnPressed.connect(self.add_tender)
        layout.addWidget(self.reference)
        grid = QGridLayout()
        self.quick_buttons: list[TouchButton] = []
        for index, (key, value) in enumerate(zip(QUICK_KEYS, quick, strict=False)):
            button = TouchButton(money(value, currency), self, key=key,
                                 on_click=lambda v=value: self._quick(v))
            self.quick_buttons.append(button)
            grid.addWidget(button, 0, index)
        layout.addLayout(grid)
        self.tender_list = QListWidget(self)
        self.tender_list.setMaximumHeight(110)
        layout.addWidget(self.tender_list)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        hint = QLabel("Enter: take this amount    Esc: back to the sale", self)
        hint.setObjectName("hint")
        layout.addWidget(hint)
        self.choose_method(PaymentMethod.CASH)

    @property
    def paid(self) -> Decimal:
        return sum((t.amount for t in self.tenders), Decimal(0))

    @property
    def remaining(self) -> Decimal:
        return max(self.total - self.paid, Decimal(0))

    def choose_method(self, method: PaymentMethod) -> None:
        self.method = method
        for each, button in self.method_buttons.items():
            button.setChecked(each == method)
        is_card = method == PaymentMethod.CARD_PRESENT
        self.reference.setVisible(is_card)
        for button in self.quick_buttons:
            # The quick amounts cover the whole sale, so they only make sense for the first tender.
            button.setVisible(method == PaymentMethod.CASH and not self.tenders)
        self._update_due()
        self.amount.setText(str(self._suggested()))
        self.amount.selectAll()
        (self.reference if is_card else self.amount).setFocus()

    def _suggested(self) -> Decimal:
        if self.method == PaymentMethod.CASH and not self.tenders:
            return self._cash_exact
        return self.remaining

    def _update_due(self) -> None:
        text = f"Total {money(self.total, self._currency)}"
        if self.tenders:
            text += f"    Paid {money(self.paid, self._currency)}"
        due = self._suggested()
        label = "Cash due (rounded)" if due != self.remaining else "Due"
        text += f"    {label} {money(due, self._currency)}"
        self.due_label.setText(text)

    def _quick(self, value: Decimal) -> None:
        self.amount.setText(str(value))
        self.add_tender()

    def add_tender(self) -> None:
        amount = parse_decimal(self.amount.text())
        if amount is None or amount <= 0:
            self.error.show_error("Enter the amount taken.")
            return
        reference = self.reference.text().strip() or None
        if self.method == PaymentMethod.CARD_PRESENT and not reference:
            self.error.show_error("Enter the reference shown on the card terminal.")
            self.reference.setFocus()
            return
        if self.method != PaymentMethod.CASH and amount > self.remaining:
            self.error.show_error(
                f"{METHOD_NAMES[self.method]} cannot exceed what is due "
                f"({money(self.remaining, self._currency)}).")
            return
        exact_cash = self.method == PaymentMethod.CASH and not self.tenders \
            and amount >= self._cash_exact
        self.tenders.append(make_tender(self.method, amount, reference))
        self.tender_list.addItem(
            f"{METHOD_NAMES[self.method]}  {money(amount, self._currency)}"
            + (f"  ref {reference}" if reference else ""))
        self.reference.clear()
        if exact_cash or self.paid >= self.total:
            self._complete()
        else:
            self.error.clear_message()
            self.choose_method(PaymentMethod.CASH)

    def _complete(self) -> None:
        try:
            self.result = self._sales.complete(list(self.tenders))
        except ServiceError as exc:
            self.tenders.pop()
            self.tender_list.takeItem(self.tender_list.count() - 1)
            self.error.show_error(str(exc))
            return
        self.accept()

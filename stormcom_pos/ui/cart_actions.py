"""What the sell screen's F-keys do to the cart. Mixed into SellScreen, which provides
``ctx``, ``currency``, ``selected_line_id``, ``message`` and ``refresh``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.approval_dialog import with_approval
from stormcom_pos.ui.cart_dialogs import CustomerDialog, DiscountDialog, RecallDialog
from stormcom_pos.ui.prompts import PromptDialog, ask_number, ask_text
from stormcom_pos.ui.receipts_dialog import ReceiptsDialog
from stormcom_pos.ui.tender_dialog import TenderDialog


class CartActions:
    ctx: Any
    currency: str
    selected_line_id: str | None
    message: Any

    def refresh(self) -> None:  # pragma: no cover - provided by SellScreen
        raise NotImplementedError

    def show_sale_done(self, result: Any) -> None:  # pragma: no cover - provided by SellScreen
        raise NotImplementedError

    def _run(self, action: Callable[[], object], done: str | None = None) -> bool:
        try:
            action()
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return False
        self.refresh()
        if done:
            self.message.show_info(done)
        return True

    def _need_line(self) -> str | None:
        if self.selected_line_id is None:
            self.message.show_error("Scan or pick an item first.")
        return self.selected_line_id

    def change_quantity(self) -> None:
        line_id = self._need_line()
        if line_id is None:
            return
        quantity = ask_number(self, "Quantity", "New quantity")  # type: ignore[arg-type]
        if quantity is not None:
            self._run(lambda: self.ctx.sales.set_quantity(line_id, quantity))

    def remove_line(self) -> None:
        line_id = self._need_line()
        if line_id is not None:
            self._run(lambda: self.ctx.sales.remove_line(line_id), "Line removed.")

    def discount_line(self) -> None:
        line_id = self._need_line()
        if line_id is not None:
            self._discount("Discount this line", lambda **kw: self.ctx.sales.discount_line(
                line_id, **kw))

    def discount_order(self) -> None:
        self._discount("Discount the whole sale", self.ctx.sales.discount_order)

    def _discount(self, title: str, apply: Callable[..., object]) -> None:
        dialog = DiscountDialog(title, self)  # type: ignore[arg-type]
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        reason = dialog.reason.currentText().strip()

        def attempt(approval: Any) -> object:
            return apply(percent=dialog.percent, amount=dialog.amount,
                         reason=reason or (approval.reason if approval else ""),
                         approval=approval)

        self._run_approved(attempt, "Discount applied.")

    def _run_approved(self, attempt: Callable[[Any], object], done: str) -> None:
        try:
            applied, _ = with_approval(self, self.ctx.auth, attempt)  # type: ignore[arg-type]
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return
        self.refresh()
        if applied:
            self.message.show_info(done)

    def override_price(self) -> None:
        line_id = self._need_line()
        if line_id is None:
            return
        price = ask_number(self, "Price override", "New unit price")  # type: ignore[arg-type]
        if price is None:
            return
        reason = ask_text(self, "Price override", "Reason for the new price")  # type: ignore[arg-type]
        if reason is None:
            return
        self._run_approved(lambda approval: self.ctx.sales.override_price(
            line_id, price, reason, approval), "Price changed.")

    def enter_coupon(self) -> None:
        dialog = PromptDialog("Coupon", "Coupon code", self,  # type: ignore[arg-type]
                              submit=self.ctx.sales.apply_coupon)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            self.message.show_info(str(dialog.outcome or "Coupon applied."))

    def choose_customer(self) -> None:
        if CustomerDialog(self.ctx.sales, self).exec() == QDialog.DialogCode.Accepted:  # type: ignore[arg-type]
            self.refresh()
            self.message.show_info("Customer attached.")

    def park(self) -> None:
        if not self.ctx.sales.cart().lines:
            self.message.show_error("The cart is empty; nothing to park.")
            return
        label = ask_text(self, "Park sale", "A name to find it again")  # type: ignore[arg-type]
        if label is not None:
            self._run(lambda: self.ctx.sales.park(label), f"Parked as “{label}”.")

    def recall(self) -> None:
        dialog = RecallDialog(self.ctx.sales, self.currency, self)  # type: ignore[arg-type]
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.park_id:
            self._run(lambda: self.ctx.sales.recall(dialog.park_id), "Sale recalled.")

    def pay(self) -> None:
        if not self.ctx.sales.cart().lines:
            self.message.show_error("The cart is empty.")
            return
        dialog = TenderDialog(self.ctx.sales, self.currency, self)  # type: ignore[arg-type]
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result is not None:
            self.show_sale_done(dialog.result)

    def open_receipts(self) -> None:
        ReceiptsDialog(self.ctx.receipts, self).exec()  # type: ignore[arg-type]

    def void_sale(self) -> None:
        if self.ctx.sales.cart().lines:
            self._run(self.ctx.sales.clear, "Sale voided.")

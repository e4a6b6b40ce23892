"""Manager approval in place: another staff member's PIN and a reason unlock one action."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ApprovalRefused, ApprovalRequired
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, heading

T = TypeVar("T")


class ApprovalDialog(QDialog):
    def __init__(self, auth: Any, request: ApprovalRequired, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Manager approval")
        self._auth = auth
        self._request = request
        self.approval: Any = None
        layout = QVBoxLayout(self)
        title = heading(request.message or "This needs a manager's approval.", self)
        title.setWordWrap(True)
        layout.addWidget(title)
        form = QFormLayout()
        self.approver = QComboBox(self)
        current = auth.current.user_id if auth.current else None
        for choice in auth.staff():
            if choice.user_id != current:
                self.approver.addItem(f"{choice.name} ({choice.role})", choice.user_id)
        self.pin = QLineEdit(self)
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("Approver's PIN")
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why (required)" if request.reason_needed else "Why")
        for widget in (self.approver, self.pin, self.reason):
            widget.setMinimumHeight(TOUCH_MIN_PX)
        form.addRow("Approver", self.approver)
        form.addRow("PIN", self.pin)
        form.addRow("Reason", self.reason)
        layout.addLayout(form)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Approve")
        buttons.accepted.connect(self._approve)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.pin.setFocus()

    def _approve(self) -> None:
        reason = self.reason.text().strip()
        if self._request.reason_needed and not reason:
            self.error.show_error("Enter a reason for the approval.")
            self.reason.setFocus()
            return
        try:
            self.approval = self._auth.approve(
                self._request.permission, self.approver.currentData(), self.pin.text(), reason
            )
        except ApprovalRefused as exc:
            self.error.show_error(str(exc))
            self.pin.clear()
            self.pin.setFocus()
            return
        self.accept()


def with_approval(
    parent: QWidget, auth: Any, action: Callable[[Any], T]
) -> tuple[bool, T | None]:
    """Run ``action(None)``; if it needs approval, ask for it in place and run it once more.

    Returns (done, result); done is False when the cashier cancelled the approval.
    """
    try:
        return True, action(None)
    except ApprovalRequired as request:
        dialog = ApprovalDialog(auth, request, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False, None
        return True, action(dialog.approval)

"""Tiny keyboard-first prompts: one text or number field, Enter to accept, Esc to cancel."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, heading, parse_decimal


class PromptDialog(QDialog):
    """Ask for one value; ``submit`` (if given) runs on Enter and may raise ServiceError,
    whose message is shown in place while the dialog stays open."""

    def __init__(
        self,
        title: str,
        label: str,
        parent: QWidget | None = None,
        *,
        text: str = "",
        numeric: bool = False,
        allow_empty: bool = False,
        submit: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._numeric, self._allow_empty, self._submit = numeric, allow_empty, submit
        self.value: str | Decimal | None = None
        self.outcome: object = None
        layout = QVBoxLayout(self)
        prompt = heading(label, self)
        layout.addWidget(prompt)
        self.edit = QLineEdit(text, self)
        self.edit.setMinimumHeight(TOUCH_MIN_PX)
        self.edit.selectAll()
        layout.addWidget(self.edit)
        self.error = ErrorLabel(self)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def _accept(self) -> None:
        raw = self.edit.text().strip()
        if not raw and not self._allow_empty:
            self.error.show_error("Please enter a value.")
            return
        value: str | Decimal | None = raw
        if self._numeric:
            value = parse_decimal(raw)
            if value is None:
                self.error.show_error(f"{raw!r} is not a number.")
                return
        if self._submit is not None:
            try:
                self.outcome = self._submit(raw)
            except ServiceError as exc:
                self.error.show_error(str(exc))
                self.edit.selectAll()
                return
        self.value = value
        self.accept()


def ask_text(parent: QWidget, title: str, label: str, text: str = "") -> str | None:
    dialog = PromptDialog(title, label, parent, text=text)
    return str(dialog.value) if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_number(parent: QWidget, title: str, label: str, text: str = "") -> Decimal | None:
    dialog = PromptDialog(title, label, parent, text=text, numeric=True)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    assert isinstance(dialog.value, Decimal)
    return dialog.value

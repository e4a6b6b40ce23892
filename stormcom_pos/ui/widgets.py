"""Small widgets every screen uses: touch-sized buttons, the PIN keypad, money labels."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from stormcom_pos.domain.money import format_money

TOUCH_MIN_PX = 48
DEFAULT_CURRENCY = "USD"


def money(amount: Decimal | None, currency: str = DEFAULT_CURRENCY) -> str:
    """Display an amount per the currency's locale rules (Babel via the domain)."""
    if amount is None:
        return ""
    return format_money(amount, currency)


def parse_decimal(text: str) -> Decimal | None:
    """A cashier's typed number, or None when it is not one."""
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class TouchButton(QPushButton):
    """A push button at least 48 px high, optionally bound to a key shortcut shown on its face."""

    def __init__(
        self,
        text: str,
        parent: QWidget | None = None,
        *,
        key: str | None = None,
        on_click: Callable[[], None] | None = None,
    ) -> None:
        label = f"{key}\n{text}" if key else text
        super().__init__(label, parent)
        self.setMinimumHeight(TOUCH_MIN_PX)
        self.setMinimumWidth(TOUCH_MIN_PX)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.shortcut: QShortcut | None = None
        if on_click is not None:
            # Not connected directly: ``clicked`` would pass ``checked`` as the first argument.
            self.clicked.connect(lambda _checked=False: on_click())
        if key:
            # Owned by the button: it fires only while the button is visible in the active
            # window, so each screen's and dialog's F-keys stay apart.
            self.shortcut = QShortcut(QKeySequence(key), self)
            self.shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            self.shortcut.activated.connect(self.click)


def heading(text: str, parent: QWidget) -> QLabel:
    """A dialog's or screen's heading line (styled as ``#dialogHeading``)."""
    label = QLabel(text, parent)
    label.setObjectName("dialogHeading")
    return label


def set_tone(widget: QWidget, tone: str) -> None:
    """Set the ``tone`` property the style sheet colours by. Re-polish only when it changes:
    each polish re-resolves the style sheet and re-lays the screen out, and the sell screen
    shows a message on every scan."""
    if widget.property("tone") != tone:
        widget.setProperty("tone", tone)
        widget.style().unpolish(widget)
        widget.style().polish(widget)


class ErrorLabel(QLabel):
    """An inline message line: red for errors, green for good news, hidden when empty."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.setMinimumHeight(TOUCH_MIN_PX)
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, "error")

    def show_info(self, text: str) -> None:
        self._show(text, "info")

    def _show(self, text: str, tone: str) -> None:
        self.setText(text)
        set_tone(self, tone)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class PinKeypad(QWidget):
    """A 3x4 touch keypad writing into a line edit; Enter emits ``submitted``."""

    submitted = Signal()

    def __init__(self, target: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._target = target
        grid = QGridLayout(self)
        grid.setSpacing(6)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "OK"]
        for index, key in enumerate(keys):
            button = TouchButton(key, self)
            button.setMinimumSize(72, 60)
            button.setObjectName("keypadKey")
            button.clicked.connect(lambda _=False, k=key: self._press(k))
            grid.addWidget(button, index // 3, index % 3)

    def _press(self, key: str) -> None:
        if key == "⌫":
            self._target.backspace()
        elif key == "OK":
            self.submitted.emit()
        else:
            self._target.insert(key)

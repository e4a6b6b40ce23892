"""Application-wide keyboard-wedge scanner detection.

A wedge scanner types its code as a burst of keys ending in Enter. Printable keys are held
back for at most ``max_gap_ms``: if the next key comes sooner the burst goes on, and an Enter
that ends a burst of at least ``min_length`` keys is a scan (emitted as ``scanned``, never
typed into the focused widget). Otherwise the held keys are replayed to the widget that had
focus, so human typing reaches its field a few milliseconds late but intact. This is why a
scan lands in the cart whatever has focus.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

_PASS_MODIFIERS = Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


@dataclass
class _HeldKey:
    target: QObject
    key: int
    modifiers: Qt.KeyboardModifier
    text: str


class ScannerEventFilter(QObject):
    """Install on the QApplication; connect ``scanned`` to whatever handles codes."""

    scanned = Signal(str)

    def __init__(
        self,
        max_gap_ms: int = 30,
        min_length: int = 6,
        *,
        clock_ms: Callable[[], float] | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self.enabled = True
        self._clock_ms = clock_ms or (lambda: time.monotonic() * 1000.0)
        self._held: list[_HeldKey] = []
        self._last_key_ms: float | None = None
        self._replaying = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self.flush)

    def configure(self, max_gap_ms: int, min_length: int) -> None:
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if self._replaying or not self.enabled or event.type() != QEvent.Type.KeyPress:
            return False
        if not (watched.isWidgetType() or watched.isWindowType()):
            return False
        assert isinstance(event, QKeyEvent)
        now = self._clock_ms()
        in_burst = self._last_key_ms is not None and now - self._last_key_ms <= self.max_gap_ms
        if event.key() in _ENTER_KEYS and not event.isAutoRepeat():
            return self._on_enter(in_burst)
        text = event.text()
        if not self._is_scannable(event, text):
            self.flush()
            return False
        if not in_burst:
            self.flush()
        self._held.append(
            _HeldKey(self._focus_target(watched), event.key(), event.modifiers(), text)
        )
        self._last_key_ms = now
        self._flush_timer.start(max(1, self.max_gap_ms))
        return True

    def _on_enter(self, in_burst: bool) -> bool:
        if in_burst and len(self._held) >= self.min_length:
            code = "".join(key.text for key in self._held)
            self._reset()
            self.scanned.emit(code)
            return True
        self.flush()
        return False

    @staticmethod
    def _is_scannable(event: QKeyEvent, text: str) -> bool:
        if len(text) != 1 or not text.isprintable() or event.isAutoRepeat():
            return False
        return not (event.modifiers() & ~_PASS_MODIFIERS)

    @staticmethod
    def _focus_target(watched: QObject) -> QObject:
        focused = QApplication.focusWidget()
        if focused is not None:
            return focused
        return watched

    def flush(self) -> None:
        """Give held keys to the widgets they were typed into (human typing, not a scan)."""
        held, self._held = self._held, []
        self._flush_timer.stop()
        self._last_key_ms = None if not held else self._last_key_ms
        self._replaying = True
        try:
            for key in held:
                if isinstance(key.target, QWidget) and not key.target.isVisible():
                    continue
                replay = QKeyEvent(QEvent.Type.KeyPress, key.key, key.modifiers, key.text)
                QApplication.sendEvent(key.target, replay)
        finally:
            self._replaying = False

    def _reset(self) -> None:
        self._held = []
        self._last_key_ms = None
        self._flush_timer.stop()

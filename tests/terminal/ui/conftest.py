"""Fixtures for driving the till's real widgets offscreen.

Key timing is made deterministic with a stepping clock for the scanner filter: between keys it
advances 150 ms (a person typing) unless a ``burst`` is on (4 ms, a wedge scanner)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from tests.terminal.services.conftest import Clock, Printers, catalog, open_till  # noqa: E402
from tests.terminal.ui.fakes import FakePos  # noqa: E402

HUMAN_MS = 150.0
SCANNER_MS = 4.0
WATCHDOG_MS = 20_000


class SteppingClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.step = HUMAN_MS

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    @contextmanager
    def burst(self) -> Iterator[None]:
        self.step = SCANNER_MS
        try:
            yield
        finally:
            self.step = HUMAN_MS


class Cashier:
    """Keyboard driver for a MainWindow; counts every input the way a cashier would."""

    def __init__(self, qtbot: Any, window: Any, clock: SteppingClock) -> None:
        self.qtbot, self.window, self.clock = qtbot, window, clock
        self.inputs = 0
        self.errors: list[BaseException] = []

    def target(self) -> QWidget:
        top = self._ensure_active()
        return top.focusWidget() or top

    def _ensure_active(self) -> QWidget:
        # The offscreen platform has no window manager to re-activate a window when a dialog
        # closes, so do what the WM would; F-key shortcuts need an active window.
        top = QApplication.activeModalWidget() or self.window
        if QApplication.activeWindow() is not top:
            top.activateWindow()
            self.qtbot.waitUntil(lambda: QApplication.activeWindow() is top, timeout=2000)
        return top

    def scan(self, code: str, into: QWidget | None = None) -> None:
        """A wedge scanner burst (one input) into whatever has focus."""
        self.inputs += 1
        widget = into or self.target()
        self._ensure_active()
        with self.clock.burst():
            self.qtbot.keyClicks(widget, code)
            self.qtbot.keyClick(widget, Qt.Key.Key_Return)
        self.raise_errors()

    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
            ) -> None:
        self.inputs += 1
        returned = False

        def watchdog() -> None:
            # A dialog nobody answers would block this test forever: fail it instead.
            if not returned:
                self.errors.append(TimeoutError(f"{key!r} left a dialog open with no handler"))
                while (stuck := QApplication.activeModalWidget()) is not None:
                    stuck.reject()
        QTimer.singleShot(WATCHDOG_MS, watchdog)
        self.qtbot.keyClick(self.target(), key, modifier)
        returned = True
        self.raise_errors()

    def raise_errors(self) -> None:
        if self.errors:
            error, self.errors = self.errors[0], []
            raise error

    def type(self, text: str, widget: QWidget | None = None) -> None:
        """Human typing: one input per key; held keys reach the field after the scan gap."""
        self.inputs += len(text)
        widget = widget or self.target()
        before = widget.text() if hasattr(widget, "text") else None
        self.qtbot.keyClicks(widget, text)
        if before is not None:
            self.qtbot.waitUntil(lambda: widget.text().endswith(text), timeout=2000)

    def when_dialog(self, action: Callable[[QWidget], None]) -> None:
        """Run ``action`` on the next modal dialog as soon as it is shown (exec() blocks)."""
        already_open = QApplication.activeModalWidget()

        def poll() -> None:
            dialog = QApplication.activeModalWidget()
            if dialog is None or dialog is already_open or not dialog.isVisible():
                QTimer.singleShot(5, poll)
                return
            try:
                action(dialog)
            except BaseException as exc:  # noqa: BLE001 - re-raised by the blocked caller
                self.errors.append(exc)
                while (stuck := QApplication.activeModalWidget()) is not None:
                    stuck.reject()
        QTimer.singleShot(0, poll)


@pytest.fixture
def pos() -> FakePos:
    return FakePos()


@pytest.fixture
def keys_clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def window(qtbot: Any, pos: FakePos, keys_clock: SteppingClock) -> Iterator[Any]:
    from stormcom_pos.ui.main_window import MainWindow

    main = MainWindow(pos, scanner_clock=keys_clock)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitExposed(main)
    main.start()
    yield main
    main.shutdown()


@pytest.fixture
def cashier(qtbot: Any, window: Any, keys_clock: SteppingClock) -> Cashier:
    return Cashier(qtbot, window, keys_clock)


# ---- the real till: a PosContext on an SQLite file with a small cached catalog ----------


@pytest.fixture
def printers() -> Printers:
    return Printers()


@pytest.fixture
def till(tmp_path: Path, printers: Printers) -> Iterator[Any]:
    context = open_till(tmp_path / "till", printers, Clock(), catalog())
    yield context
    context.close()


@pytest.fixture
def real_window(qtbot: Any, till: Any, keys_clock: SteppingClock) -> Iterator[Any]:
    from stormcom_pos.ui.main_window import MainWindow

    main = MainWindow(till, scanner_clock=keys_clock)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitExposed(main)
    main.show_login()  # the cache is loaded directly, so there is no pairing to do
    yield main
    main.shutdown()


@pytest.fixture
def driver(qtbot: Any, real_window: Any, keys_clock: SteppingClock) -> Cashier:
    return Cashier(qtbot, real_window, keys_clock)

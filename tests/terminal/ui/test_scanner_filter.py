"""The application-wide wedge-scanner filter: bursts become scans, typing reaches its field."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from stormcom_pos.ui.scanner_filter import ScannerEventFilter
from tests.terminal.ui.conftest import SteppingClock

pytestmark = pytest.mark.ui


@pytest.fixture
def setup(qtbot, qapp):
    clock = SteppingClock()
    scanner = ScannerEventFilter(30, 6, clock_ms=clock)
    qapp.installEventFilter(scanner)
    form = QWidget()
    layout = QVBoxLayout(form)
    first, second = QLineEdit(form), QLineEdit(form)
    layout.addWidget(first)
    layout.addWidget(second)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitExposed(form)
    scans: list[str] = []
    scanner.scanned.connect(scans.append)
    entered: list[str] = []
    first.returnPressed.connect(lambda: entered.append(first.text()))
    yield scanner, clock, first, second, scans, entered
    qapp.removeEventFilter(scanner)


def test_a_burst_ending_in_enter_is_a_scan_and_never_typed(setup, qtbot):
    scanner, clock, first, _, scans, entered = setup
    with clock.burst():
        qtbot.keyClicks(first, "0614141000012")
        qtbot.keyClick(first, Qt.Key.Key_Return)
    assert scans == ["0614141000012"]
    assert first.text() == "" and entered == []


def test_human_typing_reaches_the_field_intact(setup, qtbot):
    _, _, first, _, scans, entered = setup
    qtbot.keyClicks(first, "coffee 250")
    qtbot.keyClick(first, Qt.Key.Key_Return)
    assert first.text() == "coffee 250"
    assert entered == ["coffee 250"] and scans == []


def test_a_short_burst_is_typing_not_a_scan(setup, qtbot):
    _, clock, first, _, scans, entered = setup
    with clock.burst():
        qtbot.keyClicks(first, "12")
        qtbot.keyClick(first, Qt.Key.Key_Return)
    assert scans == [] and first.text() == "12" and entered == ["12"]


def test_typed_keys_held_for_the_gap_land_in_the_field_they_were_typed_into(setup, qtbot):
    _, _, first, second, _, _ = setup
    qtbot.keyClicks(first, "ab")
    second.setFocus()
    qtbot.waitUntil(lambda: first.text() == "ab", timeout=2000)
    assert second.text() == ""


def test_gap_and_min_length_are_configurable(setup, qtbot):
    scanner, clock, first, _, scans, _ = setup
    scanner.configure(max_gap_ms=200, min_length=3)
    qtbot.keyClicks(first, "A12")  # 150 ms apart: a burst for a 200 ms gap
    qtbot.keyClick(first, Qt.Key.Key_Return)
    assert scans == ["A12"] and first.text() == ""


def test_disabled_filter_lets_everything_through(setup, qtbot):
    scanner, clock, first, _, scans, _ = setup
    scanner.enabled = False
    with clock.burst():
        qtbot.keyClicks(first, "0614141000012")
    assert first.text() == "0614141000012" and scans == []

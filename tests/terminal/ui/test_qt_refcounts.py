"""The Qt binding must not leak references to ``None``.

PySide6 6.12.0 on Python 3.11 took one reference from ``None`` on every call that returns
nothing (``setText``, ``selectRow``, ...): ``None``'s count reached zero after some 50,000 such
calls, about 2,000 scans, and Python aborted with "none_dealloc". Python 3.12 made ``None``
immortal, so there the count says nothing and the check does not apply.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTableWidget, QTableWidgetItem

CALLS = 2_000

pytestmark = pytest.mark.skipif(
    sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 (PEP 683)")


def test_calls_that_return_nothing_keep_none_alive(qtbot) -> None:
    label = QLabel()
    table = QTableWidget(3, 3)
    qtbot.addWidget(label)
    qtbot.addWidget(table)
    item = QTableWidgetItem("a")
    table.setItem(0, 0, item)
    calls = (lambda: label.setText("x"), label.hide, lambda: table.selectRow(1),
             lambda: item.setText("b"),
             lambda: item.setTextAlignment(Qt.AlignmentFlag.AlignRight))
    for call in calls:
        call()
        before = sys.getrefcount(None)
        for _ in range(CALLS):
            call()
        assert sys.getrefcount(None) >= before - 10, (
            f"{CALLS} calls took {before - sys.getrefcount(None)} references from None")

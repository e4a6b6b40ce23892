"""The Qt entry point. The sell screen arrives with the POS issue; until then this says so."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel


def run(argv: list[str]) -> int:
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") \
            and not os.environ.get("QT_QPA_PLATFORM"):
        print("stormcom-pos: no display; the POS app needs a desktop session.")  # noqa: T201
        return 1
    app = QApplication(argv)
    label = QLabel(
        "StormCom POS\n\nThe till (sell, tender, receipts, till close) is not built yet.\n"
        "The server and the demo store are running; see README.md."
    )
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWindowTitle("StormCom POS")
    label.resize(520, 240)
    label.show()
    return app.exec()

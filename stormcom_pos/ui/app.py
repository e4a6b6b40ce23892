"""``stormcom-pos``: open the till's context (local database, sync, printer) and its window."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from platformdirs import user_data_dir


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stormcom-pos", description="The StormCom till.")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(user_data_dir("stormcom-pos", "StormCom")),
                        help="where the till keeps its database, PDFs and settings")
    return parser.parse_args(argv[1:])


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    if not _has_display():
        print("stormcom-pos: no display; the POS app needs a desktop session.")  # noqa: T201
        return 1
    from PySide6.QtWidgets import QApplication

    from stormcom_pos.services.context import PosContext
    from stormcom_pos.services.errors import ServiceError
    from stormcom_pos.ui.main_window import MainWindow

    app = QApplication(argv[:1])
    app.setApplicationName("StormCom POS")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        ctx = PosContext.open(args.data_dir)
    except ServiceError as exc:  # e.g. the till is already running
        print(f"stormcom-pos: {exc}")  # noqa: T201
        return 2
    try:
        window = MainWindow(ctx)
        window.start()
        window.showMaximized()
        return app.exec()
    finally:
        ctx.close()

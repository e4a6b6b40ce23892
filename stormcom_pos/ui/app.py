"""``stormcom-pos``: open the till's context (local database, sync, printer) and its window."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from platformdirs import user_data_dir


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def settle_heap() -> None:
    """Put what start-up built out of the cyclic garbage collector's reach.

    A full (generation 2) collection walks every tracked object. With the modules, Qt wrappers
    and services alive after start-up (~110,000 objects) one took ~80 ms on a 2-core till:
    five frames, at whatever moment the collector picks, a scan included. Frozen objects
    are skipped, so later collections only walk what the session allocated since. No collection
    first: at this point one finds nothing to free and would cost those same ~80 ms.
    """
    gc.freeze()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stormcom-pos", description="The StormCom till.")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(user_data_dir("stormcom-pos", "StormCom")),
                        help="where the till keeps its database, PDFs and settings")
    parser.add_argument("--server-url", default=os.environ.get("STORMCOM_POS_SERVER_URL", ""),
                        help="prefill the setup form's server address")
    parser.add_argument("--pairing-code", default=os.environ.get("STORMCOM_POS_PAIRING_CODE", ""),
                        help="prefill the setup form's pairing code")
    parser.add_argument("--credential-file", type=Path,
                        default=os.environ.get("STORMCOM_POS_CREDENTIAL_FILE") or None,
                        help="keep the device credential in this encrypted file instead of the "
                             "OS keyring (passphrase from STORMCOM_POS_CREDENTIAL_PASSPHRASE)")
    return parser.parse_args(argv[1:])


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    if not _has_display():
        print("stormcom-pos: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it in a "  # noqa: T201
              "desktop session, or on a headless machine under Xvfb: xvfb-run stormcom-pos")
        return 1
    from PySide6.QtWidgets import QApplication

    from stormcom_pos.services.context import PosContext, credential_store_for
    from stormcom_pos.services.errors import ServiceError
    from stormcom_pos.ui.main_window import MainWindow

    app = QApplication(argv[:1])
    app.setApplicationName("StormCom POS")
    args.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        store = credential_store_for(
            args.data_dir, credential_file=args.credential_file,
            passphrase=os.environ.get("STORMCOM_POS_CREDENTIAL_PASSPHRASE"))
        ctx = PosContext.open(args.data_dir, credential_store=store)
    except ServiceError as exc:  # e.g. the till is already running
        print(f"stormcom-pos: {exc}")  # noqa: T201
        return 2
    window = None
    try:
        window = MainWindow(ctx)
        window.setup_page.prefill(args.server_url, args.pairing_code)
        window.start()
        window.showMaximized()
        settle_heap()
        return app.exec()
    finally:
        if window is not None:
            window.shutdown()
        ctx.close()

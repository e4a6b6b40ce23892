"""Cold start of the till's window to a usable sell screen, and its resident memory, on a
200,000-variant cache.

Usage: .venv/bin/python bench/bench_ui.py [--variants 200000] [--runs 3]

A till (``PosContext`` on a real SQLite file) is built once with N products of one variant each
(bench_till's loader). Each run then starts a NEW Python process (Qt offscreen) that imports
the app, opens the till, builds the ``MainWindow``, signs the cashier in with the PIN (bcrypt
against the cached hash) and shows the sell screen with its quick keys, totals and status bar,
then processes the first events. The parent times from spawning the process to the child's
"ready" line; the child reports the phases and its resident memory (VmRSS, VmHWM) at ready.
Goals: cold start under 2 s, resident memory under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(data_dir: Path, variants: int) -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    from bench_till import fill

    from tests.terminal.services.conftest import (
        CASHIER_PIN,
        Clock,
        Printers,
        catalog,
        load_catalog,
        open_till,
    )

    till = open_till(data_dir, Printers(), Clock())
    load_catalog(till, catalog())
    started = time.perf_counter()
    fill(till, variants, random.Random(7))
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    till.drawer.open(Decimal("100.00"))
    till.close()
    print(f"cache filled with {variants:,} variants in {time.perf_counter() - started:.1f} s "
          f"({(data_dir / 'till.db').stat().st_size / 1e6:.0f} MB file)")


def _memory_mb() -> dict[str, float]:
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values


def child(data_dir: Path) -> None:
    t0 = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from stormcom_pos.hardware.printer_config import PrinterConfig
    from stormcom_pos.hardware.printers import ReceiptPrinter
    from stormcom_pos.services.context import PosContext
    from stormcom_pos.ui.main_window import MainWindow
    t_import = time.perf_counter()
    app = QApplication(["stormcom-pos"])
    ctx = PosContext.for_tests(data_dir, printer=ReceiptPrinter(PrinterConfig(
        connection="dummy")))
    t_context = time.perf_counter()
    window = MainWindow(ctx)
    window.resize(1280, 800)
    window.show()
    window.show_login()
    t_window = time.perf_counter()
    window.login_page.select_staff("u-cashier", "Cara Cashier")
    window.login_page.pin.setText("2468")
    window.login_page.pin_login()
    app.processEvents()
    assert window.stack.currentWidget() is window.sell_screen, "not on the sell screen"
    t_ready = time.perf_counter()
    print(json.dumps({"import_s": t_import - t0, "context_s": t_context - t_import,
                      "window_s": t_window - t_context, "login_to_sell_s": t_ready - t_window,
                      **_memory_mb()}), flush=True)
    window.shutdown()
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "till"
        build(data_dir, args.variants)
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            proc = subprocess.Popen([sys.executable, __file__, "--child", str(data_dir)],
                                    stdout=subprocess.PIPE, text=True, env=env)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            elapsed = time.perf_counter() - started
            proc.wait(timeout=60)
            phases = json.loads(line)
            verdict = "ok" if elapsed < 2 and phases["VmHWM"] < 300 else "OVER GOAL"
            print(f"run {run}: cold start to sell screen {elapsed:5.2f} s (imports "
                  f"{phases['import_s']:.2f}, till {phases['context_s']:.2f}, window "
                  f"{phases['window_s']:.2f}, PIN+sell {phases['login_to_sell_s']:.2f})  "
                  f"RSS {phases['VmRSS']:.0f} MB, peak {phases['VmHWM']:.0f} MB  "
                  f"goal <2 s, <300 MB  {verdict}")


if __name__ == "__main__":
    main()

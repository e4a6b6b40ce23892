"""Opening a receipt printer and running one job on it within a time limit.

Every job opens the device, sends, and closes it again: a printer that was switched off
between two sales is found out at the next job instead of holding a dead socket. The I/O runs
in a short-lived thread joined for at most ``timeout_s``; a printer that hangs is abandoned
(its connection shut down) and the caller gets a :class:`PrinterError`, never a frozen till.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.receipt import Receipt, ReportPrint

if TYPE_CHECKING:
    from escpos.escpos import Escpos

# Status bytes of DLE EOT 1 (printer) and DLE EOT 4 (paper roll sensor), Epson's layout.
_OFFLINE_BIT = 0x08
_PAPER_OUT_BITS = 0x60


def _render():  # type: ignore[no-untyped-def]
    from stormcom_pos.hardware import escpos_receipt

    return escpos_receipt


class PrinterError(Exception):
    """A print or drawer job failed; the message names the printer and the cause."""


def open_printer(config: PrinterConfig) -> Escpos:
    """A python-escpos printer for the configuration; it connects on first use."""
    # python-escpos and its transports load on the first job (on the print worker's thread),
    # not at start-up: they are a sixth of the till's cold start.
    from escpos.printer import Dummy, File, Network, Serial, Usb

    profile = config.profile
    match config.connection:
        case "network":
            return Network(config.host, port=config.port, timeout=config.timeout_s, profile=profile)
        case "usb":
            if not Usb.is_usable():
                raise PrinterError(f"{config.describe()}: USB printing needs the pyusb package")
            return Usb(
                config.usb_vendor,
                config.usb_product,
                timeout=int(config.timeout_s * 1000),
                profile=profile,
            )
        case "serial":
            if not Serial.is_usable():
                raise PrinterError(
                    f"{config.describe()}: serial printing needs the pyserial package"
                )
            return Serial(
                config.serial_device,
                baudrate=config.baudrate,
                timeout=config.timeout_s,
                profile=profile,
            )
        case "file":
            return File(config.file_path, profile=profile)
        case _:
            return Dummy(profile=profile)


class ReceiptPrinter:
    """Receipts, reports, the drawer kick and the test page on one configured printer.

    Each method blocks its caller for at most about ``config.timeout_s`` and raises
    :class:`PrinterError` on any failure. Call it from a worker (see ``PrintWorker``), not
    the UI thread. ``open_device`` replaces :func:`open_printer`, e.g. with a Dummy.
    """

    def __init__(
        self,
        config: PrinterConfig,
        open_device: Callable[[PrinterConfig], Escpos] = open_printer,
    ) -> None:
        self.config = config
        self._open_device = open_device
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """How messages name this printer."""
        return self.config.describe()

    def print_receipt(self, receipt: Receipt) -> None:
        """Print a sale or refund receipt."""
        what = f"printing receipt {receipt.receipt_number}"
        self._run(what, lambda p: _render().render_receipt(p, receipt, self.config))

    def print_report(self, report: ReportPrint) -> None:
        """Print an X or Z report."""
        what = f"printing the {report.report.kind.value} report"
        self._run(what, lambda p: _render().render_report(p, report, self.config))

    def open_drawer(self) -> None:
        """Kick the cash drawer connected to the printer."""
        self._run("opening the cash drawer", lambda p: _render().kick_drawer(p, self.config))

    def test_print(self) -> None:
        """Print the test page of the settings screen."""
        self._run("printing the test page", lambda p: _render().render_test_page(p, self.config))

    def _run(self, what: str, job: Callable[[Escpos], None]) -> None:
        with self._lock:
            outcome: list[BaseException] = []
            device: list[Escpos] = []

            def work() -> None:
                try:
                    printer = self._open_device(self.config)
                    device.append(printer)
                    self._check_status(printer)
                    job(printer)
                except BaseException as exc:  # handed to the caller's thread below
                    outcome.append(exc)
                finally:
                    if device:
                        _close_quietly(device[0])

            thread = threading.Thread(target=work, name="receipt-printer-io", daemon=True)
            thread.start()
            thread.join(self.config.timeout_s)
            if thread.is_alive():
                if device:
                    _close_quietly(device[0])  # wakes a send blocked on a full socket
                raise PrinterError(
                    f"{self.name} did not finish {what} within {self.config.timeout_s:g} s "
                    "(switched off, unplugged or jammed?)"
                )
            if outcome:
                error = outcome[0]
                if isinstance(error, PrinterError):
                    raise error
                cause = str(error).strip().replace("\n", " ") or type(error).__name__
                raise PrinterError(f"{self.name}: {what} failed: {cause}") from error

    def _check_status(self, printer: Escpos) -> None:
        if self.config.connection != "network" or not self.config.status_query:
            return
        try:
            status = printer.query_status(b"\x10\x04\x01")
        except TimeoutError as exc:
            raise PrinterError(f"{self.name} did not answer its status query") from exc
        if not status:
            raise PrinterError(f"{self.name} closed the connection without a status answer")
        if status[0] & _OFFLINE_BIT:
            raise PrinterError(f"{self.name} is offline (cover open, paper out or an error)")
        paper = printer.query_status(b"\x10\x04\x04")
        if paper and paper[0] & _PAPER_OUT_BITS == _PAPER_OUT_BITS:
            raise PrinterError(f"{self.name} is out of paper")


def _close_quietly(printer: Escpos) -> None:
    # Closing a broken device must not hide the error that broke it.
    with contextlib.suppress(Exception):
        printer.close()

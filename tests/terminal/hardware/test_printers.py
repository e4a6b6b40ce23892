"""ReceiptPrinter over real transports: a loopback TCP printer, dead printers, the drawer."""

from __future__ import annotations

import threading
import time

import pytest
from escpos.printer import Dummy

from stormcom_pos.hardware.escpos_receipt import render_receipt
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.printers import PrinterError, ReceiptPrinter, open_printer
from stormcom_pos.hardware.receipt import Receipt
from tests.terminal.hardware.conftest import (
    STATUS_ONLINE_QUERY,
    STATUS_PAPER_QUERY,
    LoopbackPrinter,
    make_report,
)

DRAWER_KICK_PIN2 = b"\x1bp\x00"
DRAWER_KICK_PIN5 = b"\x1bp\x01"


def network(port: int, **changes: object) -> PrinterConfig:
    return PrinterConfig(connection="network", host="127.0.0.1", port=port, **changes)


def dummy_printer(config: PrinterConfig) -> tuple[ReceiptPrinter, Dummy]:
    device = Dummy(profile=config.profile)
    return ReceiptPrinter(config, open_device=lambda _config: device), device


def test_network_printer_receives_the_same_receipt_bytes_as_the_dummy(
    loopback_printer: LoopbackPrinter, receipt: Receipt
) -> None:
    config = network(loopback_printer.port)
    ReceiptPrinter(config).print_receipt(receipt)

    expected = Dummy(profile=config.profile)
    render_receipt(expected, receipt, config)
    (job,) = loopback_printer.wait_for_jobs(1)
    assert job == STATUS_ONLINE_QUERY + STATUS_PAPER_QUERY + expected.output


def test_each_job_is_its_own_connection(loopback_printer: LoopbackPrinter) -> None:
    printer = ReceiptPrinter(network(loopback_printer.port))
    printer.print_report(make_report())
    printer.open_drawer()
    report, drawer = loopback_printer.wait_for_jobs(2)
    assert b"X REPORT" in report
    assert drawer.endswith(DRAWER_KICK_PIN2 + b"\x32\x32")


def test_open_drawer_sends_esc_p_on_the_configured_pin() -> None:
    printer, device = dummy_printer(PrinterConfig(connection="dummy", cash_drawer_pin=5))
    printer.open_drawer()
    assert device.output == DRAWER_KICK_PIN5 + b"\x32\x32"


def test_test_print_goes_to_the_device() -> None:
    printer, device = dummy_printer(PrinterConfig(connection="dummy"))
    printer.test_print()
    assert b"StormCom POS test print" in device.output


def test_closed_port_raises_printer_error_naming_the_printer(
    closed_port: int, receipt: Receipt
) -> None:
    printer = ReceiptPrinter(network(closed_port, timeout_s=2))
    with pytest.raises(PrinterError) as caught:
        printer.print_receipt(receipt)
    message = str(caught.value)
    assert f"network printer 127.0.0.1:{closed_port}" in message
    assert "refused" in message.lower()
    assert receipt.receipt_number in message


def test_printer_that_accepts_but_never_answers_fails_within_the_timeout(
    silent_printer: LoopbackPrinter, receipt: Receipt
) -> None:
    printer = ReceiptPrinter(network(silent_printer.port, timeout_s=0.5))
    started = time.monotonic()
    with pytest.raises(PrinterError, match="127.0.0.1"):
        printer.print_receipt(receipt)
    # Far below the 60 s python-escpos would wait by default; the bound is generous on purpose.
    assert time.monotonic() - started < 10


def test_offline_printer_is_reported() -> None:
    offline = LoopbackPrinter(status=b"\x1a")  # bit 3: offline
    try:
        with pytest.raises(PrinterError, match="offline"):
            ReceiptPrinter(network(offline.port)).open_drawer()
    finally:
        offline.close()


def test_status_query_can_be_turned_off(loopback_printer: LoopbackPrinter) -> None:
    ReceiptPrinter(network(loopback_printer.port, status_query=False)).open_drawer()
    (job,) = loopback_printer.wait_for_jobs(1)
    assert job == DRAWER_KICK_PIN2 + b"\x32\x32"


def test_a_device_that_hangs_is_abandoned_after_the_timeout(receipt: Receipt) -> None:
    release = threading.Event()

    class HangingPrinter(Dummy):
        def _raw(self, msg: bytes) -> None:
            release.wait(30)

    printer = ReceiptPrinter(
        PrinterConfig(connection="dummy", timeout_s=0.3), open_device=lambda _c: HangingPrinter()
    )
    try:
        with pytest.raises(PrinterError, match="did not finish printing receipt"):
            printer.print_receipt(receipt)
    finally:
        release.set()


def test_any_device_error_becomes_a_printer_error(receipt: Receipt) -> None:
    class BrokenPrinter(Dummy):
        def _raw(self, msg: bytes) -> None:
            raise OSError("[Errno 5] Input/output error")

    printer = ReceiptPrinter(
        PrinterConfig(connection="file", file_path="/dev/usb/lp0"),
        open_device=lambda _c: BrokenPrinter(),
    )
    with pytest.raises(PrinterError, match="printer device /dev/usb/lp0: .*Input/output error"):
        printer.print_receipt(receipt)


def test_a_missing_device_file_is_a_printer_error(tmp_path, receipt: Receipt) -> None:
    missing = tmp_path / "no-such-dir" / "lp0"
    printer = ReceiptPrinter(PrinterConfig(connection="file", file_path=str(missing)))
    with pytest.raises(PrinterError, match=str(missing)):
        printer.print_receipt(receipt)


def test_file_printer_writes_the_receipt(tmp_path, receipt: Receipt) -> None:
    target = tmp_path / "lp0"
    target.touch()
    config = PrinterConfig(connection="file", file_path=str(target))
    ReceiptPrinter(config).print_receipt(receipt)
    expected = Dummy(profile=config.profile)
    render_receipt(expected, receipt, config)
    assert target.read_bytes() == expected.output


def test_open_printer_builds_the_transport_for_each_connection() -> None:
    from escpos.printer import File, Network, Serial, Usb

    assert isinstance(open_printer(network(9100)), Network)
    assert isinstance(open_printer(PrinterConfig(connection="file", file_path="/x")), File)
    assert isinstance(open_printer(PrinterConfig(connection="dummy")), Dummy)
    serial = PrinterConfig(connection="serial", serial_device="/dev/ttyS0")
    assert isinstance(open_printer(serial), Serial)
    usb = PrinterConfig(connection="usb", usb_vendor=0x04B8, usb_product=0x0202)
    assert isinstance(open_printer(usb), Usb)

"""PrintWorker: printing in the background, failures handed to on_failed, never raised."""

from __future__ import annotations

import threading

import pytest
from escpos.printer import Dummy

from stormcom_pos.hardware.print_worker import PrintWorker
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.printers import PrinterError, ReceiptPrinter
from stormcom_pos.hardware.receipt import Receipt
from tests.terminal.hardware.conftest import make_report


class Failures:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object, PrinterError]] = []

    def __call__(self, job_id: str, kind: str, payload: object, error: PrinterError) -> None:
        self.calls.append((job_id, kind, payload, error))


def test_jobs_print_in_order_off_the_calling_thread(receipt: Receipt) -> None:
    device = Dummy()
    threads: list[str] = []

    def open_device(_config: PrinterConfig) -> Dummy:
        threads.append(threading.current_thread().name)
        return device

    failures = Failures()
    worker = PrintWorker(ReceiptPrinter(PrinterConfig(connection="dummy"), open_device), failures)
    futures = [
        worker.submit("job-1", "receipt", receipt),
        worker.submit("job-2", "drawer", None),
        worker.submit("job-3", "report", make_report()),
    ]
    assert [f.result(timeout=30) for f in futures] == [None, None, None]
    worker.close(timeout=30)

    output = device.output
    receipt_at = output.index(receipt.receipt_number.encode())
    drawer_at = output.index(b"\x1bp\x00")
    report_at = output.index(b"X REPORT")
    assert receipt_at < drawer_at < report_at
    assert failures.calls == []
    assert threading.main_thread().name not in threads


def test_dead_printer_calls_on_failed_and_does_not_raise(
    closed_port: int, receipt: Receipt
) -> None:
    failures = Failures()
    config = PrinterConfig(connection="network", host="127.0.0.1", port=closed_port, timeout_s=2)
    worker = PrintWorker(ReceiptPrinter(config), failures)

    future = worker.submit("sale-42", "receipt", receipt)
    error = future.result(timeout=30)
    worker.close(timeout=30)

    assert isinstance(error, PrinterError)
    (call,) = failures.calls
    assert call[:3] == ("sale-42", "receipt", receipt)
    assert call[3] is error and "127.0.0.1" in str(error)


def test_a_crashing_job_fails_alone_and_the_queue_goes_on(receipt: Receipt) -> None:
    attempts = iter([RuntimeError("driver bug"), None])
    device = Dummy()

    def open_device(_config: PrinterConfig) -> Dummy:
        problem = next(attempts)
        if problem is not None:
            raise problem
        return device

    failures = Failures()
    worker = PrintWorker(ReceiptPrinter(PrinterConfig(connection="dummy"), open_device), failures)
    first = worker.submit("a", "receipt", receipt)
    second = worker.submit("b", "receipt", receipt)
    assert isinstance(first.result(timeout=30), PrinterError)
    assert second.result(timeout=30) is None
    worker.close(timeout=30)
    assert [c[0] for c in failures.calls] == ["a"]
    assert "driver bug" in str(failures.calls[0][3])


def test_a_raising_failure_handler_does_not_stop_the_worker(closed_port: int) -> None:
    def on_failed(*_args: object) -> None:
        raise ValueError("ledger unavailable")

    config = PrinterConfig(connection="network", host="127.0.0.1", port=closed_port, timeout_s=2)
    worker = PrintWorker(ReceiptPrinter(config), on_failed)
    assert isinstance(worker.submit("x", "drawer").result(timeout=30), PrinterError)
    assert isinstance(worker.submit("y", "test").result(timeout=30), PrinterError)
    worker.close(timeout=30)


def test_jobs_after_close_fail_through_on_failed(receipt: Receipt) -> None:
    failures = Failures()
    worker = PrintWorker(ReceiptPrinter(PrinterConfig(connection="dummy")), failures)
    worker.close(timeout=30)
    error = worker.submit("late", "receipt", receipt).result(timeout=30)
    assert isinstance(error, PrinterError) and "stopped" in str(error)
    assert [c[0] for c in failures.calls] == ["late"]


def test_submit_refuses_an_unknown_kind_or_a_wrong_payload() -> None:
    worker = PrintWorker(ReceiptPrinter(PrinterConfig(connection="dummy")), Failures())
    with pytest.raises(ValueError, match="unknown print job kind"):
        worker.submit("j", "fax", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a Receipt"):
        worker.submit("j", "receipt", make_report())
    worker.close(timeout=30)

"""A background queue that prints, so the UI thread never waits for a printer.

Jobs run one at a time, in the order submitted, on one daemon thread. A failed job is handed
to ``on_failed`` (the services layer puts it in the ledger's reprint queue and shows the
warning); it never raises into whoever submitted it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal, get_args

from stormcom_pos.hardware.printers import PrinterError, ReceiptPrinter
from stormcom_pos.hardware.receipt import Receipt, ReportPrint

JobKind = Literal["receipt", "report", "drawer", "test"]
FailureHandler = Callable[[str, JobKind, object, PrinterError], None]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Job:
    job_id: str
    kind: JobKind
    payload: object
    future: Future[PrinterError | None]


class PrintWorker:
    """Runs print, report, drawer and test jobs on a :class:`ReceiptPrinter` in the background.

    ``submit`` returns a Future that resolves to ``None`` when the job printed, or to the
    :class:`PrinterError` when it failed (``result()`` does not raise it); ``on_failed`` is
    called with ``(job_id, kind, payload, error)`` on the worker thread before that.
    """

    def __init__(self, printer: ReceiptPrinter, on_failed: FailureHandler) -> None:
        self.printer = printer
        self._on_failed = on_failed
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="print-worker", daemon=True)
        self._thread.start()

    def submit(
        self, job_id: str, kind: JobKind, payload: object = None
    ) -> Future[PrinterError | None]:
        """Queue a job; ``payload`` is a Receipt, a ReportPrint, or None for drawer and test."""
        if kind not in get_args(JobKind):
            raise ValueError(f"unknown print job kind {kind!r}")
        expected = {"receipt": Receipt, "report": ReportPrint}.get(kind)
        if expected is not None and not isinstance(payload, expected):
            raise TypeError(
                f"a {kind} job needs a {expected.__name__}, got {type(payload).__name__}"
            )
        future: Future[PrinterError | None] = Future()
        job = _Job(job_id, kind, payload, future)
        if self._closed:
            future.set_running_or_notify_cancel()
            self._fail(job, PrinterError(f"{self.printer.name}: the print queue is stopped"))
        else:
            self._jobs.put(job)
        return future

    def pending(self) -> int:
        """Jobs queued and not started yet."""
        return self._jobs.qsize()

    def close(self, timeout: float | None = None) -> None:
        """Finish the queued jobs, then stop the thread (waiting at most ``timeout``)."""
        self._closed = True
        self._jobs.put(None)
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                self._print(job)
            except PrinterError as error:
                self._fail(job, error)
            except Exception as error:  # a bug must not kill the queue; it fails this job only
                _log.exception("print job %s (%s) crashed", job.job_id, job.kind)
                self._fail(
                    job, PrinterError(f"{self.printer.name}: {job.kind} job failed: {error}")
                )
            else:
                job.future.set_result(None)

    def _print(self, job: _Job) -> None:
        match job.kind:
            case "receipt":
                assert isinstance(job.payload, Receipt)
                self.printer.print_receipt(job.payload)
            case "report":
                assert isinstance(job.payload, ReportPrint)
                self.printer.print_report(job.payload)
            case "drawer":
                self.printer.open_drawer()
            case "test":
                self.printer.test_print()

    def _fail(self, job: _Job, error: PrinterError) -> None:
        try:
            self._on_failed(job.job_id, job.kind, job.payload, error)
        except Exception:
            _log.exception("on_failed handler raised for print job %s", job.job_id)
        job.future.set_result(error)

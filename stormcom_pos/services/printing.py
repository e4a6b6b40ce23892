"""Printing for the services: every job goes through the hardware PrintWorker (never on the
caller's thread for longer than the printer's timeout), and a job that fails lands in the
ledger's reprint queue with the printer's error, so nothing printed is ever lost."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from stormcom_pos.hardware.print_worker import PrintWorker
from stormcom_pos.hardware.printers import ReceiptPrinter
from stormcom_pos.local_db import ledger_repo
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.runtime import TillRuntime

QUEUED_WARNING = "The receipt did not print ({error}). It is in the reprint queue."
SLOW_WARNING = "The printer has not answered yet; if the receipt does not come out, reprint it."


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    job_id: str
    ok: bool | None  # None: still printing when we stopped waiting
    error: str | None


class Printing:
    """Submit print jobs and remember how to redo them if they fail."""

    def __init__(self, runtime: TillRuntime, printer: ReceiptPrinter | None, *,
                 factory_default: bool = False) -> None:
        self._runtime = runtime
        self._lock = threading.Lock()
        self._redo: dict[str, dict[str, Any]] = {}
        self._failed: dict[str, str] = {}
        # What a failed job printed, to reprint exactly the same in this run.
        self.failed_payloads: dict[str, Any] = {}
        self._outstanding: list[Future[Any]] = []
        self.printer_ok: bool | None = None
        self.printer_message: str | None = None if printer else "No printer configured"
        self._printer = printer
        self._worker = PrintWorker(printer, self._on_failed) if printer else None
        # True while the till prints to the factory default (python-escpos's Dummy, i.e.
        # nowhere) because nobody has set a printer up yet.
        self.factory_default = factory_default

    @property
    def printer(self) -> ReceiptPrinter | None:
        return self._printer

    def replace_printer(self, printer: ReceiptPrinter | None) -> None:
        """Use another printer from now on (the settings page saved a new one)."""
        old = self._worker
        self._printer = printer
        self._worker = PrintWorker(printer, self._on_failed) if printer else None
        self.factory_default = False
        self.printer_ok, self.printer_message = None, None if printer else "No printer configured"
        if old is not None:
            old.close(timeout=1.0)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until every job submitted so far has printed or failed."""
        with self._lock:
            pending = list(self._outstanding)
        for future in pending:
            future.result(timeout=timeout)

    def close(self) -> None:
        if self._worker is not None:
            self._worker.close(timeout=2.0)

    def _on_failed(self, job_id: str, kind: str, payload: Any, error: str) -> None:
        with self._lock:
            redo = self._redo.pop(job_id, None)
            self._failed[job_id] = str(error)
            if redo is not None:
                self.failed_payloads[job_id] = payload
        self.printer_ok, self.printer_message = False, str(error)
        if redo is None:  # a drawer kick or a test page: nothing to reprint
            return
        with self._runtime.db.write() as conn:
            ledger_repo.queue_print(conn, job_id, kind, redo, str(error))
        self._runtime.poke_status()

    def submit(self, kind: str, payload: Any, redo: dict[str, Any] | None,
               wait_s: float | None = None) -> PrintOutcome:
        """Queue a job; wait up to ``wait_s`` (default: the printer's timeout) for the result.

        ``redo`` is the JSON the reprint queue keeps to rebuild the job if it fails.
        """
        job_id = new_id()
        if self._worker is None or self._printer is None:
            if redo is not None:
                with self._runtime.db.write() as conn:
                    ledger_repo.queue_print(conn, job_id, kind, redo, "No printer configured")
            return PrintOutcome(job_id, False, "No printer configured")
        with self._lock:
            if redo is not None:
                self._redo[job_id] = redo
        future: Future[Any] = self._worker.submit(job_id, kind, payload)  # type: ignore[arg-type]
        with self._lock:
            self._outstanding = [f for f in self._outstanding if not f.done()] + [future]
        limit = wait_s if wait_s is not None else self._printer_timeout() + 1.0
        try:
            failure = future.result(timeout=limit)
        except FutureTimeout:
            return PrintOutcome(job_id, None, None)
        with self._lock:
            error = self._failed.pop(job_id, None)
            if failure is not None and error is None:
                error = str(failure)
            if error is None:
                self._redo.pop(job_id, None)
        if error is None:
            self.printer_ok, self.printer_message = True, None
            return PrintOutcome(job_id, True, None)
        return PrintOutcome(job_id, False, error)

    def _printer_timeout(self) -> float:
        config = getattr(self._printer, "config", None)
        return float(getattr(config, "timeout_s", self._runtime.config.printer.timeout_s))

"""What the status bar shows: online or offline, pending sync, printer state, reprint queue.

Listeners are called from background threads (the sync worker, the print worker): the UI must
hand the call over to its own thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.runtime import TillRuntime

log = logging.getLogger(__name__)
NO_PRINTER = "no receipt printer set up (Shift+F5)"


@dataclass(frozen=True, slots=True)
class TillStatus:
    online: bool | None
    pending: int
    quarantined: int
    last_success_at: datetime | None
    last_error: str | None
    printer_ok: bool | None
    printer_message: str | None
    reprint_count: int
    rejected: int = 0
    selling_ready: bool = True


class StatusService:
    def __init__(self, runtime: TillRuntime, printing: Printing,
                 engine: Callable[[], Any]) -> None:
        self._runtime = runtime
        self._printing = printing
        self._engine = engine
        self._listeners: list[Callable[[TillStatus], None]] = []

    def snapshot(self) -> TillStatus:
        engine = self._engine()
        with self._runtime.db.read() as conn:
            reprints = len(list(ledger_repo.print_queue(conn)))
            counts = outbox.counts(conn)
        sync = engine.status() if engine is not None else None
        # The factory default prints nowhere: say so rather than "Printer OK".
        no_printer = self._printing.factory_default
        return TillStatus(
            online=sync.online if sync else None,
            pending=counts.pending,
            quarantined=counts.quarantined,
            last_success_at=sync.last_success_at if sync else None,
            last_error=sync.last_error if sync else "Not paired with a server",
            printer_ok=None if no_printer else self._printing.printer_ok,
            printer_message=NO_PRINTER if no_printer else self._printing.printer_message,
            reprint_count=reprints,
            rejected=counts.rejected,
            selling_ready=sync.selling_ready if sync else False,
        )

    def add_listener(self, callback: Callable[[TillStatus], None]) -> None:
        self._listeners.append(callback)

    def notify(self, *_ignored: Any) -> None:
        """Tell every listener the new status (sync or printer changed)."""
        if not self._listeners:
            return
        status = self.snapshot()
        for callback in list(self._listeners):
            try:
                callback(status)
            except Exception:
                log.exception("status listener failed")

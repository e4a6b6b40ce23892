"""When the engine syncs: at start-up, shortly after each local commit, on a timer, and on
reconnect.

One background thread runs ``engine.sync_once()``. ``poke()`` (called after a sale commits)
schedules a run ``debounce_s`` later; pokes arriving before it fires join that run, so a burst
of commits costs one sync. While the last sync found the server unreachable the timer runs
every ``offline_retry_s`` instead of ``interval_s``, so the first sync after the network comes
back (the reconnect) happens within seconds and flips the status to online.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from stormcom_pos.sync.status import SyncStatus

log = logging.getLogger("stormcom.sync.scheduler")


class Syncable(Protocol):
    def sync_once(self) -> SyncStatus: ...


class SyncScheduler:
    def __init__(self, engine: Syncable, *, interval_s: float = 30.0, debounce_s: float = 1.0,
                 offline_retry_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.interval_s, self.debounce_s = interval_s, debounce_s
        self.offline_retry_s = min(offline_retry_s, interval_s)
        self._clock = clock
        self._cond = threading.Condition()
        self._timer_due = 0.0
        self._poke_due: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.runs = 0
        self.last_status: SyncStatus | None = None

    def start(self) -> None:
        """Start the thread; its first sync runs at once (start-up)."""
        with self._cond:
            if self._thread is not None:
                return
            self._stopping = False
            self._timer_due = self._clock()
            self._thread = threading.Thread(target=self._run, name="stormcom-sync",
                                            daemon=True)
            self._thread.start()

    def poke(self) -> None:
        """A local commit happened: sync within ``debounce_s``."""
        with self._cond:
            if self._poke_due is None:
                self._poke_due = self._clock() + self.debounce_s
                self._cond.notify()

    def wake(self) -> None:
        """Re-check the timers now (after the machine resumed from sleep, or a test moved
        the clock)."""
        with self._cond:
            self._cond.notify()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the sync in progress, if any, finishes."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _next_due(self) -> float:
        due = self._timer_due
        return due if self._poke_due is None else min(due, self._poke_due)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._clock() < self._next_due():
                    self._cond.wait(max(0.0, self._next_due() - self._clock()))
                if self._stopping:
                    return
                self._poke_due = None  # pokes from now on need another run
            status = self._sync()
            with self._cond:
                offline = status is not None and status.online is False
                wait = self.offline_retry_s if offline else self.interval_s
                self._timer_due = self._clock() + wait

    def _sync(self) -> SyncStatus | None:
        try:
            status = self.engine.sync_once()
        except Exception:  # noqa: BLE001 - keep the thread alive; the engine logs its errors
            log.exception("sync run failed")
            return None
        self.runs += 1
        self.last_status = status
        return status

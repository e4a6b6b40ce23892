"""The scheduler: a run at start-up, one debounced run per burst of commits, quick retries
while offline (the reconnect), the timer otherwise. Time is a fake monotonic clock."""

from __future__ import annotations

import threading

from stormcom_pos.sync.scheduler import SyncScheduler
from stormcom_pos.sync.status import SyncStatus

WAIT = 30.0


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeEngine:
    def __init__(self, online: list[bool]) -> None:
        self.online = online
        self.calls = 0
        self.ran = threading.Semaphore(0)

    def sync_once(self) -> SyncStatus:
        online = self.online[min(self.calls, len(self.online) - 1)]
        self.calls += 1
        self.ran.release()
        return SyncStatus(online=online, pending=0, quarantined=0, rejected=0,
                          last_success_at=None, last_error=None, clock_offset_seconds=None,
                          bootstrapping=False, selling_ready=True)


def test_startup_debounced_pokes_and_the_timer() -> None:
    clock, engine = FakeMonotonic(), FakeEngine([True])
    scheduler = SyncScheduler(engine, interval_s=30, debounce_s=1.0, clock=clock)
    scheduler.start()
    try:
        assert engine.ran.acquire(timeout=WAIT)  # start-up
        for _ in range(5):
            scheduler.poke()
        clock.now += 1.0
        scheduler.wake()
        assert engine.ran.acquire(timeout=WAIT)  # one run for the burst
        clock.now += 29.5
        scheduler.wake()
        assert not engine.ran.acquire(timeout=0.2)  # the timer is not due yet
        clock.now += 0.5
        scheduler.wake()
        assert engine.ran.acquire(timeout=WAIT)  # the timer
    finally:
        scheduler.stop()
    assert engine.calls == 3


def test_offline_retries_quickly_until_the_reconnect() -> None:
    clock, engine = FakeMonotonic(), FakeEngine([False, False, True])
    scheduler = SyncScheduler(engine, interval_s=30, offline_retry_s=5, clock=clock)
    scheduler.start()
    try:
        for _ in range(3):
            assert engine.ran.acquire(timeout=WAIT)
            clock.now += 5
            scheduler.wake()
        assert scheduler.last_status is not None and scheduler.last_status.online is True
        assert not engine.ran.acquire(timeout=0.2)  # online again: back to the 30 s timer
    finally:
        scheduler.stop()
    assert engine.calls == 3

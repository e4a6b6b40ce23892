"""A sliding-window rate limiter over a pluggable counter store.

Algorithm: the sliding window *counter* (as in Cloudflare's and nginx's limiters). Hits are
counted per fixed window of ``period`` seconds; the rate at instant ``t`` is estimated as
``previous_window * (1 - elapsed_fraction) + current_window``. That needs two counters per key
instead of one timestamp per hit, and it behaves like a true sliding window: a burst at the end
of one minute is still counted early in the next, so a client cannot send 2x the limit across a
window boundary.

A hit is counted first (an atomic increment), then undone if it is over the limit, so concurrent
workers sharing a store never admit more than the limit together. Refused hits do not count.

Headers (product-decisions §4): ``X-RateLimit-Limit`` (requests per period),
``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (Unix time, in seconds, at which the current
window ends, or on a 429, at which a request will next be accepted) and, on a 429,
``Retry-After`` (seconds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol


class CounterStore(Protocol):
    """Where the counters live: one process (memory) or shared by workers (database, Redis)."""

    def incr(self, key: str, window_start: int, period: int, amount: int = 1) -> int:
        """Add ``amount`` to the counter of ``key`` in the window starting at ``window_start``;
        return the new value. Must be atomic."""
        ...

    def get(self, key: str, window_start: int) -> int:
        """The counter of ``key`` in that window (0 when absent)."""
        ...


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # Unix seconds
    retry_after: int  # seconds; 0 when allowed

    def headers(self) -> dict[str, str]:
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


def _seconds_until_room(prev: int, curr: int, limit: int, start: float, period: int,
                        now: float) -> float:
    """How long until one more hit fits: ``prev*(1-f) + curr + 1 <= limit``."""
    need = limit - 1  # the estimate must drop to this
    if curr <= need:
        # Within this window, once prev's weight has decayed enough.
        if prev <= 0:
            return 0.0
        frac = 1.0 - (need - curr) / prev
        return max(0.0, start + frac * period - now)
    # Only in the next window, when this window's count becomes "previous" and decays.
    frac = 1.0 - need / curr if curr > 0 else 0.0
    return max(0.0, start + period + frac * period - now)


class SlidingWindowLimiter:
    """``hit(key, limit, period, now)`` counts one request and says whether it may pass."""

    def __init__(self, store: CounterStore) -> None:
        self.store = store

    def hit(self, key: str, limit: int, period: int, now: float) -> RateDecision:
        start = math.floor(now / period) * period
        frac = (now - start) / period
        curr = self.store.incr(key, start, period)
        prev = self.store.get(key, start - period)
        estimate = prev * (1.0 - frac) + curr
        if estimate <= limit:
            remaining = max(0, math.floor(limit - estimate))
            return RateDecision(True, limit, remaining, math.ceil(start + period), 0)
        self.store.incr(key, start, period, -1)  # refused hits do not count
        wait = _seconds_until_room(prev, curr - 1, limit, start, period, now)
        retry = max(1, math.ceil(wait))
        return RateDecision(False, limit, 0, math.ceil(now + retry), retry)

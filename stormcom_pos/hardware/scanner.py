"""Telling a keyboard-wedge barcode scanner from a person typing, by the timing of the keys.

A wedge scanner "types" a whole code in a few milliseconds and ends it with Enter; nobody
types that fast. The UI's event filter feeds every printable key here with its event time and
asks at Enter whether the keys since the last pause were such a burst. No Qt in this module.
"""

from __future__ import annotations


class WedgeDetector:
    """Finds scanner bursts in a key stream.

    A burst is at least ``min_length`` characters, each arriving at most ``max_gap_ms`` after
    the one before, with Enter at most ``max_gap_ms`` after the last. A longer gap is a pause:
    what came before it was typed by hand.

    After :meth:`enter`, whatever it answered, :meth:`pending_text` holds the hand-typed keys
    that belong to the focused widget (on a scan, the keys typed before the burst); the caller
    hands them over and calls :meth:`reset`.
    """

    def __init__(self, max_gap_ms: int = 30, min_length: int = 6) -> None:
        if max_gap_ms <= 0:
            raise ValueError(f"the scanner key gap must be above 0 ms, got {max_gap_ms}")
        if min_length < 1:
            raise ValueError(f"the minimum scan length must be 1 or more, got {min_length}")
        self.max_gap_ms = max_gap_ms
        self.min_length = min_length
        self._chars: list[str] = []
        self._burst_start = 0
        self._last_ms: float | None = None

    def feed(self, char: str, t_ms: float) -> None:
        """Record one printable key and the time it was pressed, in milliseconds."""
        if len(char) != 1:
            raise ValueError(f"feed one character at a time, got {char!r}")
        if self._last_ms is not None and t_ms - self._last_ms > self.max_gap_ms:
            self._burst_start = len(self._chars)
        self._chars.append(char)
        self._last_ms = t_ms

    def enter(self, t_ms: float) -> str | None:
        """The scanned code if the keys since the last pause were a burst, else None."""
        burst = self._chars[self._burst_start :]
        if (
            self._last_ms is None
            or t_ms - self._last_ms > self.max_gap_ms
            or len(burst) < self.min_length
        ):
            return None
        del self._chars[self._burst_start :]
        self._last_ms = None
        return "".join(burst)

    def pending_text(self) -> str:
        """Keys fed and not taken as a scan: they were typed by hand."""
        return "".join(self._chars)

    def reset(self) -> None:
        """Forget every key fed so far."""
        self._chars.clear()
        self._burst_start = 0
        self._last_ms = None

"""WedgeDetector: scanner bursts versus human typing."""

from __future__ import annotations

import pytest

from stormcom_pos.hardware.scanner import WedgeDetector


def feed(detector: WedgeDetector, text: str, start_ms: float, gap_ms: float) -> float:
    t = start_ms
    for char in text:
        detector.feed(char, t)
        t += gap_ms
    return t - gap_ms


def test_a_fast_burst_ending_in_enter_is_a_scan() -> None:
    detector = WedgeDetector()
    last = feed(detector, "0614141000012", 1000, 8)
    assert detector.enter(last + 8) == "0614141000012"
    assert detector.pending_text() == ""


def test_human_typing_is_not_a_scan_and_stays_pending() -> None:
    detector = WedgeDetector()
    last = feed(detector, "bananas", 1000, 140)
    assert detector.enter(last + 120) is None
    assert detector.pending_text() == "bananas"
    detector.reset()
    assert detector.pending_text() == ""


def test_a_burst_shorter_than_the_minimum_is_typing() -> None:
    detector = WedgeDetector(min_length=6)
    last = feed(detector, "12345", 0, 5)
    assert detector.enter(last + 5) is None
    assert detector.pending_text() == "12345"


def test_a_slow_enter_after_a_burst_is_typing() -> None:
    detector = WedgeDetector(max_gap_ms=30)
    last = feed(detector, "0614141000012", 0, 5)
    assert detector.enter(last + 200) is None


def test_keys_typed_before_a_pause_stay_for_the_widget() -> None:
    detector = WedgeDetector()
    last = feed(detector, "qty", 0, 150)
    last = feed(detector, "96385074", last + 900, 10)
    assert detector.enter(last + 10) == "96385074"
    assert detector.pending_text() == "qty"


def test_one_slow_key_inside_a_burst_breaks_it() -> None:
    detector = WedgeDetector(max_gap_ms=30, min_length=6)
    last = feed(detector, "0614", 0, 10)
    last = feed(detector, "141", last + 80, 10)
    assert detector.enter(last + 10) is None
    assert detector.pending_text() == "0614141"


@pytest.mark.parametrize(("gap", "scan"), [(45, True), (60, False)])
def test_the_gap_is_configurable(gap: int, scan: bool) -> None:
    detector = WedgeDetector(max_gap_ms=50, min_length=4)
    last = feed(detector, "ABCD1234", 0, gap)
    assert (detector.enter(last + gap) == "ABCD1234") is scan


@pytest.mark.parametrize(("length", "scan"), [(3, False), (4, True)])
def test_the_minimum_length_is_configurable(length: int, scan: bool) -> None:
    detector = WedgeDetector(max_gap_ms=30, min_length=4)
    last = feed(detector, "7" * length, 0, 5)
    assert (detector.enter(last + 5) is not None) is scan


def test_two_scans_in_a_row() -> None:
    detector = WedgeDetector()
    last = feed(detector, "0614141000012", 0, 5)
    assert detector.enter(last + 5) == "0614141000012"
    last = feed(detector, "DEMO-01-000123-X", last + 500, 5)
    assert detector.enter(last + 5) == "DEMO-01-000123-X"


def test_enter_with_nothing_fed_is_not_a_scan() -> None:
    assert WedgeDetector().enter(0) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_gap_ms": 0}, "above 0 ms"),
        ({"min_length": 0}, "1 or more"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WedgeDetector(**kwargs)

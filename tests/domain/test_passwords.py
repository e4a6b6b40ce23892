"""Password policy, reuse of the last 5, and the 2-year history purge."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from stormcom_pos.domain.passwords import (
    PasswordHistoryEntry,
    PasswordReused,
    WeakPassword,
    check_password_policy,
    check_password_reuse,
    history_purge_cutoff,
    history_to_purge,
    password_policy_failures,
)


@pytest.mark.parametrize("password", ["Passw0rd!", "Tr0ub4dor&3", "Ünïcødé-9x", "Aa1 aaaa"])
def test_good_passwords_pass(password: str) -> None:
    check_password_policy(password)


@pytest.mark.parametrize(
    ("password", "failures"),
    [
        ("Pa1!", ["at least 8 characters (it has 4)"]),
        ("password1!", ["upper-case"]),
        ("PASSWORD1!", ["lower-case"]),
        ("Password!!", ["digit"]),
        ("Password11", ["symbol"]),
        ("", ["at least 8", "upper-case", "lower-case", "digit", "symbol"]),
        ("abc", ["at least 8", "upper-case", "digit", "symbol"]),
        ("Aa1!" + "é" * 40, ["at most 72 bytes"]),  # bcrypt would silently truncate
    ],
)
def test_every_failed_rule_is_listed(password: str, failures: list[str]) -> None:
    found = password_policy_failures(password)
    assert len(found) == len(failures)
    for want, got in zip(failures, found, strict=True):
        assert want in got
    with pytest.raises(WeakPassword) as err:
        check_password_policy(password)
    assert err.value.failures == found
    assert all(f in err.value.message for f in found)
    assert err.value.code == "weak_password"


T0 = datetime(2025, 1, 1, tzinfo=UTC)


def history(n: int) -> list[PasswordHistoryEntry]:
    """Entries h0 (oldest) .. h{n-1} (newest), each 'hash:<password>'."""
    return [PasswordHistoryEntry(f"h{i}", f"hash:pw{i}", T0 + timedelta(days=30 * i))
            for i in range(n)]  # fmt: skip


def fake_matches(calls: list[str]) -> Callable[[str, str], bool]:
    def matches(candidate: str, stored: str) -> bool:
        calls.append(stored)
        return stored == f"hash:{candidate}"

    return matches


def test_last_five_may_not_be_reused() -> None:
    entries = history(7)  # pw2..pw6 are the last five
    calls: list[str] = []
    check = fake_matches(calls)
    for i in (2, 4, 6):
        with pytest.raises(PasswordReused, match="last 5 passwords"):
            check_password_reuse(f"pw{i}", reversed(entries), check)
    check_password_reuse("pw1", entries, check)  # the sixth-newest is fine
    check_password_reuse("brand-new", entries, check)


def test_reuse_check_stops_at_the_first_match_newest_first() -> None:
    calls: list[str] = []
    with pytest.raises(PasswordReused):
        check_password_reuse("pw6", history(7), fake_matches(calls))
    assert calls == ["hash:pw6"]
    calls.clear()
    check_password_reuse("x", history(7), fake_matches(calls))
    assert calls == ["hash:pw6", "hash:pw5", "hash:pw4", "hash:pw3", "hash:pw2"]


def test_history_older_than_two_years_is_purged() -> None:
    now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    entries = [
        PasswordHistoryEntry("old", "x", datetime(2025, 2, 28, 23, 59, tzinfo=UTC)),
        PasswordHistoryEntry("edge", "x", datetime(2025, 3, 1, 9, 0, tzinfo=UTC)),  # exactly 2y
        PasswordHistoryEntry("new", "x", datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    assert history_to_purge(entries, now) == ("old",)


def test_purge_cutoff_on_a_leap_day() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert history_purge_cutoff(leap) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)

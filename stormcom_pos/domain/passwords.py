"""Password policy, reuse check and history retention (product-decisions §4).

Hashing stays on the server: the reuse check takes a ``matches(candidate, stored_hash)``
callable so this package needs no bcrypt.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from stormcom_pos.domain.errors import DomainError

__all__ = [
    "HISTORY_DEPTH",
    "HISTORY_YEARS",
    "MAX_PASSWORD_BYTES",
    "MIN_PASSWORD_LENGTH",
    "PasswordHistoryEntry",
    "PasswordReused",
    "WeakPassword",
    "check_password_policy",
    "check_password_reuse",
    "history_purge_cutoff",
    "history_to_purge",
    "password_policy_failures",
]

MIN_PASSWORD_LENGTH = 8
# bcrypt silently ignores everything after 72 bytes, so a longer password would be weaker
# than it looks; refusing it is clearer than truncating.
MAX_PASSWORD_BYTES = 72
HISTORY_DEPTH = 5
HISTORY_YEARS = 2


class WeakPassword(DomainError):  # noqa: N818 - the package names errors without a suffix
    """The password breaks one or more rules; ``failures`` lists every one."""

    code = "weak_password"

    def __init__(self, failures: tuple[str, ...]) -> None:
        super().__init__("password " + "; ".join(failures))
        self.failures = failures


class PasswordReused(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "password_reused"


def password_policy_failures(password: str) -> tuple[str, ...]:
    """Every rule the password breaks, as readable phrases; empty when it passes."""
    failures: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        failures.append(
            f"must be at least {MIN_PASSWORD_LENGTH} characters (it has {len(password)})"
        )
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        failures.append(f"must be at most {MAX_PASSWORD_BYTES} bytes long")
    if not any(c.isupper() for c in password):
        failures.append("must contain an upper-case letter")
    if not any(c.islower() for c in password):
        failures.append("must contain a lower-case letter")
    if not any(c.isdigit() for c in password):
        failures.append("must contain a digit")
    # Anything that is neither a letter nor a digit counts as a symbol, spaces included.
    if not any(not c.isalnum() for c in password):
        failures.append("must contain a symbol such as ! @ # or -")
    return tuple(failures)


def check_password_policy(password: str) -> None:
    """Raise :class:`WeakPassword` listing every failed rule."""
    failures = password_policy_failures(password)
    if failures:
        raise WeakPassword(failures)


@dataclass(frozen=True, slots=True)
class PasswordHistoryEntry:
    """One PasswordHistory row."""

    id: str
    password_hash: str
    created_at: datetime


def check_password_reuse(
    candidate: str,
    history: Iterable[PasswordHistoryEntry],
    matches: Callable[[str, str], bool],
    depth: int = HISTORY_DEPTH,
) -> None:
    """Raise :class:`PasswordReused` if the candidate matches one of the last ``depth`` hashes.

    History holds the current password too, since every change stores its hash.
    """
    recent = sorted(history, key=lambda e: e.created_at, reverse=True)[:depth]
    # Newest first: the likeliest match comes first and each bcrypt check is slow.
    for entry in recent:
        if matches(candidate, entry.password_hash):
            raise PasswordReused(f"the new password must differ from your last {depth} passwords")


def history_purge_cutoff(now: datetime, years: int = HISTORY_YEARS) -> datetime:
    """The same calendar instant ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return now.replace(year=now.year - years)
    except ValueError:
        return now.replace(year=now.year - years, day=28)


def history_to_purge(
    history: Iterable[PasswordHistoryEntry], now: datetime, years: int = HISTORY_YEARS
) -> tuple[str, ...]:
    """Ids of history entries created before the cutoff, which must be deleted."""
    cutoff = history_purge_cutoff(now, years)
    return tuple(e.id for e in history if e.created_at < cutoff)

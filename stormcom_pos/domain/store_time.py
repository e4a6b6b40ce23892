"""The store's clock: times are kept and synced as UTC instants, and shown or printed as the
store's wall clock reads them."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def store_zone(name: str) -> ZoneInfo | None:
    """The store's time zone; None for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def display_zone(name: str) -> tzinfo:
    """The zone to show times in: the store's, or UTC (still exact) when it is unknown."""
    return store_zone(name) or UTC


def store_local(at: datetime, name: str) -> datetime:
    """The same instant as the store's clock reads it (a naive time is left as it is)."""
    return at.astimezone(display_zone(name)) if at.tzinfo is not None else at

"""How the local file stores values: JSON text, ISO 8601 UTC times, Decimals as text.

SQLite has no decimal or time type (its numbers are floats), so money and quantities are kept
as canonical decimal text and summed in Python, as the server does on SQLite.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(value: datetime) -> str:
    """A time as ISO 8601 in UTC; a naive time is taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat()


def from_iso(text: str | None) -> datetime | None:
    """An ISO 8601 time (the server's or ours) as an aware datetime in UTC."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def decimal_text(value: Decimal) -> str:
    return format(value, "f")


def to_decimal(text: Any) -> Decimal:
    """A stored or wire number (decimal text or int) as a Decimal; floats never get here."""
    return Decimal(str(text))


def optional_decimal(text: Any) -> Decimal | None:
    return None if text is None else to_decimal(text)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)

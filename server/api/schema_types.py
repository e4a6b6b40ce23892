"""Shared pydantic field types for wire schemas (no FastAPI here)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator

from server.clock import as_utc

# SQLite hands back naive datetimes (stored in UTC): label them, so every backend answers alike.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]

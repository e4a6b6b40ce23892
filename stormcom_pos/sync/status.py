"""What the sync engine tells the UI: a status snapshot and bootstrap progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SyncStatus:
    online: bool | None  # None: no sync has been tried yet
    pending: int
    quarantined: int
    rejected: int
    last_success_at: datetime | None
    last_error: str | None
    clock_offset_seconds: float | None  # server minus this till; recorded, decides nothing
    bootstrapping: bool
    selling_ready: bool
    revoked: bool = False


@dataclass(frozen=True)
class BootstrapProgress:
    entity_type: str
    loaded_rows: int
    total_estimate: int | None
    selling_ready: bool
    done: bool

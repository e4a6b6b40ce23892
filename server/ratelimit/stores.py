"""Counter stores for the limiter: in memory (one process) and the database (many workers)."""

from __future__ import annotations

import random
import threading

from sqlalchemy import Engine, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.ratelimit.models import RateLimitBucket


class MemoryCounterStore:
    """Counters in a dict guarded by a lock: right for one process (the default)."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], tuple[int, int]] = {}  # -> (count, expires_at)
        self._lock = threading.Lock()
        self._ops = 0

    def incr(self, key: str, window_start: int, period: int, amount: int = 1) -> int:
        with self._lock:
            count, _ = self._counts.get((key, window_start), (0, 0))
            count += amount
            self._counts[(key, window_start)] = (count, window_start + 2 * period)
            self._ops += 1
            if self._ops % 1000 == 0:
                self._purge(window_start - period)
            return count

    def get(self, key: str, window_start: int) -> int:
        with self._lock:
            return self._counts.get((key, window_start), (0, 0))[0]

    def _purge(self, before: int) -> None:
        for k in [k for k, (_, exp) in self._counts.items() if exp < before]:
            del self._counts[k]


class DatabaseCounterStore:
    """Counters in the ``rate_limit_bucket`` table, shared by every worker on the database.

    Each call is its own short transaction on its own connection (never the request's: a
    rolled-back request must still count). The increment is one atomic
    ``INSERT .. ON CONFLICT DO UPDATE .. RETURNING`` on both SQLite and PostgreSQL.
    """

    PURGE_PROBABILITY = 0.01

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert

    def incr(self, key: str, window_start: int, period: int, amount: int = 1) -> int:
        table = RateLimitBucket.__table__
        stmt = self._insert(table).values(
            key=key, window_start=window_start, count=amount,
            expires_at=window_start + 2 * period,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": table.c.count + amount},
        ).returning(table.c.count)
        with self.engine.begin() as conn:
            value = conn.execute(stmt).scalar_one()
            if random.random() < self.PURGE_PROBABILITY:  # noqa: S311 - not security
                conn.execute(delete(table).where(table.c.expires_at < window_start - period))
        return int(value)

    def get(self, key: str, window_start: int) -> int:
        table = RateLimitBucket.__table__
        with self.engine.connect() as conn:
            value = conn.execute(
                select(table.c.count).where(table.c.key == key,
                                            table.c.window_start == window_start)
            ).scalar()
        return int(value or 0)

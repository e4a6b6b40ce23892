"""What every till service shares: the database, this till's settings, the clock, and the hooks
that run after a local commit (sync poke) or a print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stormcom_pos.domain.tax import TaxRate
from stormcom_pos.local_db import catalog_repo
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.services import till_config
from stormcom_pos.services.store_rules import StoreRules, store_rules, tax_rate
from stormcom_pos.services.till_config import TillConfig


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class TillRuntime:
    """Shared by the services of one till; ``poke`` asks the sync scheduler to push soon."""

    db: LocalDb
    data_dir: Path
    config: TillConfig
    clock: Callable[[], datetime] = utc_now
    poke: Callable[[], None] = lambda: None
    status_changed: Callable[[], None] = lambda: None
    _rules: StoreRules | None = field(default=None, repr=False)
    _tax_rates: tuple[TaxRate, ...] | None = field(default=None, repr=False)

    def now(self) -> datetime:
        return self.clock()

    def poke_status(self) -> None:
        """Tell status listeners something they show changed (printer, reprint queue)."""
        self.status_changed()

    def rules(self) -> StoreRules:
        """The store's rules from the cache; re-read after every sync that may change them."""
        if self._rules is None:
            with self.db.read() as conn:
                self._rules = store_rules(catalog_repo.store(conn) or {})
        return self._rules

    def tax_rates(self) -> tuple[TaxRate, ...]:
        """The store's tax rates from the cache."""
        if self._tax_rates is None:
            with self.db.read() as conn:
                self._tax_rates = tuple(tax_rate(r) for r in catalog_repo.tax_rates(conn))
        return self._tax_rates

    def forget_rules(self) -> None:
        """Drop the cached store rules and tax rates (a sync may have changed them)."""
        self._rules = None
        self._tax_rates = None

    def save_config(self, config: TillConfig) -> None:
        till_config.save(self.data_dir, config)
        self.config = config

    @property
    def terminal_number(self) -> int:
        return self.config.terminal_number or 1

    @property
    def terminal_name(self) -> str:
        return self.config.terminal_name or f"Till {self.terminal_number}"

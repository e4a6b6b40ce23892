"""First run: pair the till with a pairing code, then load the catalog with real progress.

Both steps can be repeated: pairing again replaces the credential, and the bootstrap resumes
where an interrupted one stopped (the sync engine keeps its place in the ledger).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from stormcom_pos.domain.sync_protocol import SNAPSHOT_LATER, SNAPSHOT_SELLING
from stormcom_pos.local_db import sync_state
from stormcom_pos.services.errors import SetupError
from stormcom_pos.services.runtime import TillRuntime
from stormcom_pos.sync.credentials import DeviceCredential
from stormcom_pos.sync.errors import SyncError
from stormcom_pos.sync.status import BootstrapProgress

if TYPE_CHECKING:
    from stormcom_pos.services.sync_link import SyncLink


@dataclass(frozen=True, slots=True)
class SetupProgress:
    phase: str
    loaded: int
    total: int | None
    fraction: float | None
    eta_seconds: float | None
    selling_ready: bool
    done: bool


ORDER = (*SNAPSHOT_SELLING, *SNAPSHOT_LATER)
PHASES = {"store": "Store", "tax_rate": "Taxes", "category": "Categories",
          "product": "Products", "product_category": "Products", "variant": "Prices and stock",
          "coupon": "Coupons", "flash_sale": "Promotions", "user_store": "Staff",
          "staff": "Staff", "customer": "Customers", "address": "Customers",
          "shipping_zone": "Shipping", "shipping_rate": "Shipping"}


class SetupService:
    def __init__(self, runtime: TillRuntime, link: SyncLink,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._runtime = runtime
        self._link = link
        self._monotonic = monotonic

    def enrol(self, server_url: str, pairing_code: str, terminal_name: str) -> None:
        """Pair with the server; raises SetupError saying what went wrong."""
        url = (server_url or "").strip().rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise SetupError(f"{server_url!r} is not a server address; it looks like "
                             "https://pos.example.com")
        if not (pairing_code or "").strip():
            raise SetupError("Enter the pairing code from the back office (Devices page).")
        client = self._link.new_client(url)
        try:
            enrolment = client.enrol(pairing_code.strip(), terminal_name or None)
        except SyncError as exc:
            client.close()
            raise SetupError(f"Pairing failed: {exc.message}") from exc
        credential = DeviceCredential(url, enrolment.device_id, enrolment.store_id,
                                      enrolment.credential)
        try:
            self._link.credentials.save(credential)
        except SyncError as exc:
            client.close()
            raise SetupError(exc.message) from exc
        with self._runtime.db.write() as conn:
            sync_state.update_state(conn, device_id=enrolment.device_id,
                                    store_id=enrolment.store_id, server_url=url)
        self._runtime.save_config(self._runtime.config.model_copy(update={
            "terminal_number": enrolment.terminal_number,
            "terminal_name": enrolment.name or terminal_name}))
        self._link.attach(client, credential)

    def bootstrap(self, progress: Callable[[SetupProgress], None]) -> None:
        """Load the server's data into the cache, reporting progress with an ETA."""
        engine = self._link.engine
        if engine is None:
            raise SetupError("Pair the till with the server first.")
        started = self._monotonic()

        def report(p: BootstrapProgress) -> None:
            if p.total_estimate:
                fraction: float | None = min(1.0, p.loaded_rows / p.total_estimate)
            elif p.entity_type in ORDER:
                # Without a row estimate, progress is how far through the entity types we are.
                fraction = (ORDER.index(p.entity_type) + 0.5) / len(ORDER)
            else:
                fraction = None
            if p.done:
                fraction = 1.0
            eta = None
            elapsed = self._monotonic() - started
            if fraction is not None and 0 < fraction < 1 and elapsed > 0:
                eta = elapsed * (1 - fraction) / fraction
            elif p.done:
                eta = 0.0
            progress(SetupProgress(PHASES.get(p.entity_type, p.entity_type), p.loaded_rows,
                                   p.total_estimate, fraction, eta, p.selling_ready, p.done))

        try:
            engine.bootstrap(report)
        except SyncError as exc:
            raise SetupError(f"Loading the store's data stopped: {exc.message}. "
                             "Try again; it resumes where it stopped.") from exc
        self._runtime.forget_rules()
        self._link.start()

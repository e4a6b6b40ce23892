"""The composition root of the till: one ``PosContext`` wires the database, the sync link, the
printer and every service the UI calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from stormcom_pos.hardware.printers import ReceiptPrinter
from stormcom_pos.local_db import sync_state
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.services import till_config
from stormcom_pos.services.auth import AuthService
from stormcom_pos.services.catalog import CatalogService
from stormcom_pos.services.drawer import DrawerService
from stormcom_pos.services.errors import ServiceError
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.receipts import ReceiptService
from stormcom_pos.services.returns import ReturnsService
from stormcom_pos.services.runtime import TillRuntime, utc_now
from stormcom_pos.services.sales import SaleService
from stormcom_pos.services.settings import SettingsService
from stormcom_pos.services.setup import SetupService
from stormcom_pos.services.status import StatusService
from stormcom_pos.services.sync_link import SyncLink
from stormcom_pos.sync.credentials import (
    CredentialStore,
    EncryptedFileCredentialStore,
    KeyringCredentialStore,
    MemoryCredentialStore,
)
from stormcom_pos.sync.errors import AlreadyRunning, SyncError
from stormcom_pos.sync.instance_lock import InstanceLock

DB_NAME = "till.db"


class PosContext:
    """Everything one running till needs. Build it with :meth:`open`; ``close()`` at exit."""

    def __init__(self, runtime: TillRuntime, link: SyncLink, printing: Printing,
                 lock: InstanceLock | None) -> None:
        self.runtime = runtime
        self.link = link
        self.printing = printing
        self._lock = lock
        self.auth = AuthService(runtime, online_login=link.staff_login)
        self.drawer = DrawerService(runtime, self.auth, printing)
        self.sales = SaleService(runtime, self.auth, printing, self.drawer.session_id)
        self.returns = ReturnsService(runtime, self.auth, printing)
        self.receipts = ReceiptService(runtime, self.auth, printing,
                                       lambda: self.sales.last_receipt_number)
        self.catalog = CatalogService(runtime)
        self.status = StatusService(runtime, printing, lambda: link.engine)
        self.settings = SettingsService(runtime, printing, ReceiptPrinter)
        self.setup = SetupService(runtime, link)
        runtime.poke = link.poke
        runtime.status_changed = self.status.notify

    @classmethod
    def open(cls, data_dir: Path, *, transport: httpx.BaseTransport | None = None,
             credential_store: CredentialStore | None = None, printer: Any = None,
             clock: Callable[[], datetime] | None = None, start_sync: bool = True) -> PosContext:
        """Open (or create) the till in ``data_dir``; start syncing if it is paired."""
        data_dir = Path(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        db_path = data_dir / DB_NAME
        lock = InstanceLock(db_path)
        try:
            lock.acquire()
        except AlreadyRunning as exc:
            raise ServiceError(f"StormCom POS is already running on this till ({exc.message}).") \
                from exc
        try:
            db = LocalDb(db_path)
            db.open()
            runtime = TillRuntime(db, data_dir, till_config.load(data_dir),
                                  clock=clock or utc_now)
            store = credential_store or KeyringCredentialStore(account=str(db_path))
            printing = Printing(runtime, printer or ReceiptPrinter(runtime.config.printer),
                                factory_default=(printer is None
                                                 and runtime.config.printer.connection == "dummy"))
            holder: list[PosContext] = []
            link = SyncLink(runtime, store, transport=transport, start_sync=start_sync,
                            on_status=lambda status: holder[0]._on_sync(status))
            context = cls(runtime, link, printing, lock)
            holder.append(context)
            context._connect()
            return context
        except BaseException:
            lock.release()
            raise

    @classmethod
    def for_tests(cls, data_dir: Path, *, printer: Any = None,
                  clock: Callable[[], datetime] | None = None,
                  transport: httpx.BaseTransport | None = None,
                  credential_store: CredentialStore | None = None) -> PosContext:
        """A till that keeps its credential in memory and syncs only when asked."""
        return cls.open(data_dir, transport=transport, printer=printer, clock=clock,
                        credential_store=credential_store or MemoryCredentialStore(),
                        start_sync=False)

    @property
    def currency(self) -> str:
        """The store's currency (ISO 4217) once its row is in the cache; USD before that."""
        return self.runtime.rules().currency or "USD"

    def _connect(self) -> None:
        try:
            credential = self.link.credentials.load()
        except SyncError as exc:
            self.credential_error: str | None = exc.message
            credential = None
        else:
            self.credential_error = None
        if credential is None:
            return
        self.link.attach(self.link.new_client(credential.server_url), credential)
        if not self.needs_setup:
            self.link.start()

    def _on_sync(self, _status: Any) -> None:
        self.runtime.forget_rules()  # the pull may have changed the store, taxes or staff
        self.status.notify()

    def _state(self) -> sync_state.SyncState:
        with self.runtime.db.read() as conn:
            return sync_state.get_state(conn)

    @property
    def needs_setup(self) -> bool:
        """True until the till is paired and holds enough data to sell."""
        return self.link.engine is None or not self._state().selling_ready

    @property
    def selling_ready(self) -> bool:
        return self._state().selling_ready

    def sync_now(self) -> Any:
        """One sync round now (push, then pull); None when the till is not paired."""
        return self.link.engine.sync_once() if self.link.engine else None

    def close(self) -> None:
        self.link.close()
        self.printing.close()
        self.runtime.db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def credential_store_for(data_dir: Path, *, credential_file: Path | None = None,
                         passphrase: str | None = None) -> CredentialStore:
    """Where this till keeps its device credential: the OS keyring, or, only when the operator
    names a file, that file encrypted with ``passphrase`` (never plaintext)."""
    if credential_file is None:
        return KeyringCredentialStore(account=str(Path(data_dir) / DB_NAME))
    if not passphrase:
        raise ServiceError("An encrypted credential file needs its passphrase in "
                           "STORMCOM_POS_CREDENTIAL_PASSPHRASE.")
    return EncryptedFileCredentialStore(Path(credential_file), passphrase)

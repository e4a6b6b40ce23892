"""The till's link to its server: the HTTP client, the sync engine and its scheduler, created
once the till is paired (at start-up, or by the setup wizard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from stormcom_pos.services.runtime import TillRuntime
from stormcom_pos.sync.client import ServerClient
from stormcom_pos.sync.credentials import CredentialStore, DeviceCredential
from stormcom_pos.sync.engine import SyncEngine
from stormcom_pos.sync.scheduler import SyncScheduler


class SyncLink:
    def __init__(self, runtime: TillRuntime, credentials: CredentialStore, *,
                 transport: httpx.BaseTransport | None, start_sync: bool,
                 on_status: Callable[[Any], None]) -> None:
        self._runtime = runtime
        self.credentials = credentials
        self._transport = transport
        self._start_sync = start_sync
        self._on_status = on_status
        self.client: ServerClient | None = None
        self.engine: SyncEngine | None = None
        self.scheduler: SyncScheduler | None = None

    def new_client(self, url: str) -> ServerClient:
        return ServerClient(url, transport=self._transport)

    def attach(self, client: ServerClient, credential: DeviceCredential) -> None:
        """Use this client (with its credential) for syncing from now on."""
        self.stop()
        if self.client is not None and self.client is not client:
            self.client.close()
        client.set_credential(credential)
        self.client = client
        self.engine = SyncEngine(self._runtime.db, client, now=self._runtime.clock)
        self.engine.add_listener(self._on_status)

    def start(self) -> None:
        """Start background syncing (start-up, timer, after each commit, on reconnect)."""
        if self._start_sync and self.engine is not None and self.scheduler is None:
            self.scheduler = SyncScheduler(self.engine)
            self.scheduler.start()

    def poke(self) -> None:
        if self.scheduler is not None:
            self.scheduler.poke()

    def staff_login(self, email: str, password: str, totp: str | None) -> Any:
        if self.client is None:
            raise RuntimeError("This till is not paired with a server yet.")
        return self.client.staff_login(email, password, totp)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None

    def close(self) -> None:
        self.stop()
        if self.client is not None:
            self.client.close()
            self.client = None

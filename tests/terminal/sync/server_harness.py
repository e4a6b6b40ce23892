"""The real server app, in-process on an SQLite file, behind a :class:`FaultTransport`.

``ServerHarness.restart()`` builds a new app on the same database file (a server restart);
``backup()``/``restore()`` copy the file (a restore from backup), optionally with a new epoch.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.engine import make_url

from server.app import create_app
from server.clock import FakeClock
from server.config import Settings
from server.db.base import new_id
from server.db.engine import make_engine
from server.identity.principal import Principal
from server.pos import devices_service
from server.stores.models import Store
from server.sync import mirror
from server.sync.models import StoreSyncState
from tests.server.conftest import Tenant, World
from tests.server.security_helpers import service_session
from tests.terminal.sync.faults import FaultTransport

BASE_URL = "http://testserver"


class ServerHarness:
    def __init__(self, settings: Settings, clock: FakeClock, world: World) -> None:
        self.settings, self.clock, self.world = settings, clock, world
        self.url = settings.database_url
        self.app: FastAPI = create_app(settings, clock=clock)
        self.transport = FaultTransport(self._inner())

    def _inner(self) -> Any:
        return TestClient(self.app, raise_server_exceptions=False)._transport

    @property
    def path(self) -> Path:
        database = make_url(self.url).database
        assert database
        return Path(database)

    def http(self) -> TestClient:
        """A plain client on the current app (back-office calls in tests)."""
        return TestClient(self.app)

    def restart(self) -> None:
        """A new app process on the same database; in-flight state is gone."""
        self.app.state.engine.dispose()
        self.app = create_app(self.settings, clock=self.clock)
        self.transport.inner = self._inner()

    def backup(self, to: Path) -> None:
        self.app.state.engine.dispose()
        shutil.copyfile(self.path, to)

    def restore(self, backup: Path, *, new_epoch: bool) -> None:
        """Put an older copy of the database back (and, as an operator would, a new epoch)."""
        self.app.state.engine.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, self.path)
        if new_epoch:
            engine = make_engine(self.url)
            with engine.begin() as conn:
                conn.execute(update(StoreSyncState).values(epoch=new_id()))
            engine.dispose()
        self.restart()

    def pairing_code(self, tenant: Tenant, name: str = "Till") -> str:
        actor = Principal(kind="user", user_id=tenant.users["owner"], store_id=tenant.store_id)
        with service_session(self.url, tenant.store_id) as db:
            store = db.get(Store, tenant.store_id)
            assert store is not None
            pairing = devices_service.create_pairing(
                db, actor=actor, store=store, name=name, now=self.clock.now,
                lifetime=timedelta(hours=1))
            db.commit()
            return pairing.code

    def revoke(self, tenant: Tenant, device_id: str) -> None:
        actor = Principal(kind="user", user_id=tenant.users["owner"], store_id=tenant.store_id)
        with service_session(self.url, tenant.store_id) as db:
            devices_service.revoke(db, actor=actor, store_id=tenant.store_id,
                                   device_id=device_id, now=self.clock.now, reason="test")
            db.commit()

    def mirror_rows(self, store_id: str, entity_type: str) -> dict[str, dict[str, Any]]:
        """The store's rows of a mirrored type as the feed serves them, by id."""
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                rows = mirror.page_rows(conn, store_id, entity_type, None, 1_000_000)
        finally:
            engine.dispose()
        return {str(r["id"]): r for r in rows}

    def scalar(self, sql: str, **params: Any) -> Any:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str, **params: Any) -> list[Any]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql), params).all())
        finally:
            engine.dispose()

    def store_code(self, store_id: str) -> str:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(select(Store.code).where(Store.id == store_id))
                           .scalar_one())
        finally:
            engine.dispose()

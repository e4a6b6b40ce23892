"""The terminal's sync engine: push the outbox, pull the change feed, keep the status.

Push (sync-anchors §2.6): pending outbox entries go in ``device_seq`` order, at most
``MAX_PUSH_OPS`` a batch; the client resends a failed batch unchanged (same bytes). Each
answer is applied per op in one local transaction (applied, duplicate, quarantined, rejected:
quarantined and rejected entries stay in the outbox, visible, and the queue moves on). A gap
answer (``expected_device_seq``) puts every entry after the server's last applied seq back to
pending and the loop resends from there.

Pull (§2.7): each page's changes and its cursor are stored in one local transaction. A 410
means the cache must be rebuilt: after the outbox was pushed (``sync_once`` pushes first), the
server is asked how far it has applied this till's ops (an empty push); anything after that is
queued again (a server restored from a backup lost it), then the cache (never the ledger) is
cleared and bootstrapped again. A push answer from another server epoch does the same.

Time: each answer's ``server_time`` against the midpoint of the request on this till's clock
gives ``clock_offset_seconds``, shown to people. Nothing is ordered or decided by it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from stormcom_pos import __version__
from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.local_db import cache_apply, outbox, sync_state
from stormcom_pos.local_db.cache_tables import CACHE_SCHEMA_VERSION
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.sync import bootstrap as bootstrap_module
from stormcom_pos.sync.client import Enrolment, ServerClient
from stormcom_pos.sync.credentials import CredentialStore
from stormcom_pos.sync.errors import DeviceRevoked, Offline, ResyncRequired, SyncError
from stormcom_pos.sync.status import BootstrapProgress, SyncStatus

log = logging.getLogger("stormcom.sync")

T = TypeVar("T")
Listener = Callable[[SyncStatus], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class PushStalled(SyncError):
    """The server answered a batch without taking any op and there is nothing to resend."""


class SyncEngine:
    """Push, pull and bootstrap for one till database (one engine per process; see
    :class:`~stormcom_pos.sync.instance_lock.InstanceLock`). Thread-safe: one sync at a time."""

    def __init__(self, db: LocalDb, client: ServerClient, *,
                 now: Callable[[], datetime] = _utcnow, app_version: str = __version__,
                 pull_limit: int = proto.DEFAULT_PULL_LIMIT,
                 snapshot_limit: int = proto.MAX_SNAPSHOT_LIMIT) -> None:
        self.db, self.client, self.now = db, client, now
        self.app_version = app_version
        self.pull_limit, self.snapshot_limit = pull_limit, snapshot_limit
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._online: bool | None = None
        self._revoked = False
        self._bootstrapping = False
        self._offset: float | None = None

    # ---- listeners and status ----------------------------------------------------------------

    def add_listener(self, callback: Listener) -> None:
        self._listeners.append(callback)

    def _notify(self) -> None:
        status = self.status()
        for callback in list(self._listeners):
            try:
                callback(status)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop syncing
                log.exception("sync status listener failed")

    def status(self) -> SyncStatus:
        with self.db.read() as conn:
            state = sync_state.get_state(conn)
            counts = outbox.counts(conn)
        return SyncStatus(
            online=self._online, pending=counts.pending, quarantined=counts.quarantined,
            rejected=counts.rejected, last_success_at=state.last_success_at,
            last_error=state.last_error, clock_offset_seconds=state.clock_offset_seconds,
            bootstrapping=self._bootstrapping, selling_ready=state.selling_ready,
            revoked=self._revoked)

    # ---- pairing -----------------------------------------------------------------------------

    def enrol(self, pairing_code: str, credentials: CredentialStore,
              name: str | None = None) -> Enrolment:
        """Pair this till database with the server: keep the credential in ``credentials`` and
        the device in the sync state. A database that already recorded ops as one terminal can
        only be paired again as that terminal (its device_seq goes on): the back office makes
        the code for it ("re-pair")."""
        with self._lock:
            with self.db.read() as conn:
                state = sync_state.get_state(conn)
                recorded = outbox.last_device_seq(conn)
            enrolment = self.client.enrol(pairing_code, name)
            if recorded and state.device_id and enrolment.device_id != state.device_id:
                self.client.set_credential(None)
                raise SyncError(
                    f"This till database holds {recorded} operations of terminal "
                    f"{state.device_id}; the code paired a different terminal "
                    f"({enrolment.device_id}). Ask for a re-pairing code for terminal "
                    f"{state.device_id} instead.")
            credential = self.client.credential
            assert credential is not None
            credentials.save(credential)
            with self.db.write() as conn:
                sync_state.update_state(conn, device_id=enrolment.device_id,
                                        store_id=enrolment.store_id,
                                        server_url=self.client.base_url, last_error=None)
            self._revoked = False
            return enrolment

    # ---- the three jobs ----------------------------------------------------------------------

    def bootstrap(self, progress: Callable[[BootstrapProgress], None] | None = None) -> None:
        """Load the snapshot into the cache (or finish a load that was interrupted)."""
        with self._lock:
            self._bootstrapping = True
            try:
                bootstrap_module.run(self.db, self.client, limit=self.snapshot_limit,
                                     progress=progress)
            finally:
                self._bootstrapping = False

    def _timed(self, call: Callable[[], T], server_time: Callable[[T], datetime]) -> T:
        sent = self.now()
        result = call()
        received = self.now()
        midpoint = sent + (received - sent) / 2
        self._offset = (server_time(result) - midpoint).total_seconds()
        return result

    def push_pending(self) -> int:
        """Push every pending outbox entry; returns how many op results were applied."""
        with self._lock:
            handled = 0
            while True:
                with self.db.read() as conn:
                    batch = outbox.next_batch(conn, proto.MAX_PUSH_OPS)
                if not batch:
                    return handled
                try:
                    response = self._push([entry.to_push_op() for entry in batch])
                except SyncError:
                    with self.db.write() as conn:
                        outbox.mark_attempt(conn, [entry.op_id for entry in batch])
                    raise
                requeued = self._store_push(response)
                handled += len(response.results)
                if not response.results and not requeued:
                    raise PushStalled(
                        f"The server took none of ops {batch[0].device_seq}.."
                        f"{batch[-1].device_seq} (it expects {response.expected_device_seq}, "
                        f"last applied {response.last_applied_device_seq}).")

    def _push(self, ops: list[proto.PushOp]) -> proto.PushResponse:
        request = proto.PushRequest(app_version=self.app_version,
                                    cache_schema_version=CACHE_SCHEMA_VERSION, ops=ops)
        return self._timed(lambda: self.client.push(request), lambda r: r.server_time)

    def _store_push(self, response: proto.PushResponse) -> int:
        """The batch's results, in one transaction; returns how many entries were requeued."""
        with self.db.write() as conn:
            outbox.apply_results(conn, response.results)
            state = sync_state.get_state(conn)
            new_epoch = state.epoch is not None and response.server_epoch != state.epoch
            requeued = 0
            server_behind = response.last_applied_device_seq < outbox.last_device_seq(conn)
            if (response.expected_device_seq is not None or new_epoch) and server_behind:
                requeued = outbox.requeue_after(conn, response.last_applied_device_seq)
            fields: dict[str, object] = {
                "server_last_applied_seq": response.last_applied_device_seq,
                "clock_offset_seconds": self._offset}
            if new_epoch:
                log.warning("server epoch changed (%s -> %s): cache resync, %d ops requeued",
                            state.epoch, response.server_epoch, requeued)
                bootstrap_module.restart(conn)
            sync_state.update_state(conn, **fields)
        return requeued

    def pull(self) -> int:
        """Pull the change feed up to its head; returns how many changes were applied."""
        with self._lock:
            applied = 0
            while True:
                with self.db.read() as conn:
                    state = sync_state.get_state(conn)
                if not state.bootstrap_done:
                    self.bootstrap()
                    continue
                response = self._timed(partial(self.client.pull, state.cursor, self.pull_limit),
                                       lambda r: r.server_time)
                if state.epoch is not None and response.server_epoch != state.epoch:
                    raise ResyncRequired("The server's data epoch changed.",
                                         server_epoch=response.server_epoch)
                with self.db.write() as conn:
                    cache_apply.apply_changes(conn, response.changes)
                    sync_state.update_state(conn, cursor=response.next_cursor,
                                            epoch=response.server_epoch,
                                            clock_offset_seconds=self._offset)
                applied += len(response.changes)
                if not response.has_more:
                    return applied

    def resync(self) -> None:
        """Rebuild the cache from a snapshot; first requeue what the server lost, if anything."""
        with self._lock:
            response = self._push([])  # how far has the server applied this till's ops?
            with self.db.write() as conn:
                if response.last_applied_device_seq < outbox.last_device_seq(conn):
                    count = outbox.requeue_after(conn, response.last_applied_device_seq)
                    log.warning("server is behind this till: %d ops requeued", count)
                bootstrap_module.restart(conn)
                sync_state.update_state(conn, server_last_applied_seq=(
                    response.last_applied_device_seq))
            self.push_pending()
            self.bootstrap()

    def sync_once(self) -> SyncStatus:
        """Push, then bootstrap if needed and pull. Never raises for network or server trouble:
        the status says what happened (``online``, ``last_error``, ``revoked``)."""
        with self._lock:
            error: str | None = None
            try:
                if self._revoked:
                    raise DeviceRevoked("This till was revoked; pair it again to sync.")
                self._sync()
                self._online = True
            except Offline as exc:
                self._online, error = False, exc.message
            except DeviceRevoked as exc:
                self._online, self._revoked, error = True, True, exc.message
            except SyncError as exc:
                self._online, error = True, exc.message
            except Exception as exc:  # noqa: BLE001 - the sync thread must survive a bug
                log.exception("sync failed")
                error = f"Sync failed unexpectedly: {type(exc).__name__}: {exc}"
            fields: dict[str, object] = {"last_error": error}
            if error is None:
                fields["last_success_at"] = self.now()
            with self.db.write() as conn:
                sync_state.update_state(conn, **fields)
        self._notify()
        return self.status()

    def _sync(self) -> None:
        self.push_pending()  # the till's own facts first: they never wait for the cache
        try:
            self.pull()
        except ResyncRequired as exc:
            log.warning("resync: %s", exc.message)
            self.resync()
            self.pull()

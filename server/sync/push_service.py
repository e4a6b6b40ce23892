"""Push: a terminal's outbox ops applied exactly once (sync-anchors §2.6).

The batch runs in the request's one transaction:

1. The device row is locked first (``UPDATE device ... RETURNING``): two pushes of one device
   run one after the other, on PostgreSQL by the row lock, on SQLite because it is the
   transaction's first write. A revoked device gets 403 ``device_revoked``.
2. Per op, in ``device_seq`` order:
   - an ``op_id`` already in the inbox: the same request hash returns the stored result
     (``duplicate``); a different one is a client bug, 422 ``idempotency_key_reused``, and the
     whole request rolls back;
   - ``device_seq`` at or below the device's last applied one: ``duplicate``;
   - beyond the next one: the batch stops and reports ``expected_device_seq``;
   - the next one: its handler runs in a SAVEPOINT and its ``PushInbox`` row (APPLIED) and
     audit row are written with its effects. A handler that fails deterministically (an op
     version with no decoder, a payload that does not validate, a refused input, a bug) rolls
     its SAVEPOINT back and the op is recorded QUARANTINED with its error, flagged in the
     anomaly list, and the sequence still advances (the queue keeps moving). Transient
     database errors (lost connection, deadlock, serialization failure) propagate: 5xx, nothing
     committed, the till resends the same batch.
   Several new ops are first tried in one go, under one SAVEPOINT: their reads are prefetched
   once (``ingest_batch.prefetch``) and each table's rows written in one statement. If any
   op fails there, that SAVEPOINT rolls back and the batch runs op by op as above, so the
   outcome is the same; only the cost differs.
3. ``Device.last_pushed_seq`` moves to the last op handled; the batch's changes are sequenced
   (``changes.allocate``) and that seq is every new inbox row's ``server_seq`` and the
   response's ``write_checkpoint``.

Every outcome of an op answers 200 with a result per op; ``server_time`` is the server's
clock; the till's ``occurred_at`` is recorded and decides nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import (
    DataError,
    DisconnectionError,
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server.audit import service as audit_service
from server.audit.models import AuditLog
from server.db import bulk
from server.db.base import new_id
from server.errors import Forbidden, Invalid, ServiceError
from server.identity.principal import Principal, RequestMeta
from server.inventory.models import InventoryAdjustment
from server.orders.models import Order, OrderItem
from server.payments.models import Payment
from server.pos import (
    ingest_batch,
    ingest_customers,
    ingest_drawer,
    ingest_refunds,
    ingest_sales,
    ingest_stock,
)
from server.pos import ingest_common as common
from server.pos.anomaly_models import AnomalyKind, PosAnomaly
from server.pos.models import Device, DeviceStatus
from server.stores.models import Store
from server.sync import changes, feed_service
from server.sync.models import PushInbox, PushOpStatus
from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.sync_payloads import PAYLOADS

log = logging.getLogger("stormcom.sync")

TRANSIENT = (OperationalError, InterfaceError, InternalError, DisconnectionError, PoolTimeout)
Handler = Callable[[common.OpContext, Any], common.Outcome]
HANDLERS: dict[proto.OpKind, Handler] = {
    proto.OpKind.ORDER_SUBMIT: ingest_sales.submit,
    proto.OpKind.REFUND_SUBMIT: ingest_refunds.submit,
    proto.OpKind.DRAWER_OPEN: ingest_drawer.open_,
    proto.OpKind.CASH_MOVE: ingest_drawer.move,
    proto.OpKind.DRAWER_CLOSE: ingest_drawer.close,
    proto.OpKind.DRAWER_NO_SALE: ingest_drawer.no_sale,
    proto.OpKind.STOCK_ADJUST: ingest_stock.adjust,
    proto.OpKind.STOCK_COUNT: ingest_stock.count,
    proto.OpKind.CUSTOMER_CREATE: ingest_customers.create,
}
SUPPORTED_VERSIONS = {1}
# The rows a shared batch writes without the unit of work (``server.db.bulk``): nothing in the
# push reads them back; the ledger rows' levels are settled by ``ingest_batch.write_stock``.
SALE_ROWS = (Order, OrderItem, Payment, InventoryAdjustment, PosAnomaly)


class DeviceRevoked(ServiceError):
    status = 403
    default_code = "device_revoked"
    default_title = "Device revoked"


class IdempotencyKeyReused(Invalid):
    default_code = "idempotency_key_reused"
    default_title = "Operation id reused"


def request_hash(op: proto.PushOp) -> str:
    """SHA-256 of the op as sent, minus its id: what "the same op" means."""
    body = op.model_dump(mode="json", exclude={"op_id"})
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def decode(op: proto.PushOp) -> BaseModel:
    """The op's payload as its typed model (upcasters for older versions would go here)."""
    if op.op_version not in SUPPORTED_VERSIONS:
        raise common.OpRefused("unsupported_op_version",
                               f"{op.kind} version {op.op_version} is not supported")
    return PAYLOADS[op.kind].model_validate(op.payload)


def _describe(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, common.OpRefused):
        return exc.code, exc.message
    if isinstance(exc, ValidationError):
        return "invalid_payload", str(exc)[:2000]
    if isinstance(exc, DomainError):
        return exc.code, exc.message
    if isinstance(exc, ServiceError):
        return exc.code, exc.detail
    if isinstance(exc, IntegrityError):
        return "constraint_violation", str(exc.orig)[:2000]
    if isinstance(exc, DataError):
        return "invalid_value", str(exc.orig)[:2000]
    log.exception("push handler failed", exc_info=exc)
    return "handler_error", f"{type(exc).__name__}: {exc}"[:2000]


class _Batch:
    """One push: applies ops; their inbox, audit and quarantine rows are written at the end,
    once the batch's changes are sequenced, so each carries its ``server_seq``."""

    def __init__(self, session: Session, actor: Principal, device: Device,
                 store: common.StoreRef,
                 now: datetime, meta: RequestMeta | None, *, shared: bool = False) -> None:
        self.session, self.actor, self.device, self.store = session, actor, device, store
        self.now, self.meta = now, meta
        self.cache = common.BatchCache(shared=shared)
        self.results: list[proto.OpResult] = []
        self.recorded: list[tuple[proto.PushOp, str, proto.OpResult, dict[str, Any]]] = []
        self.receipt_counter = device.last_receipt_counter

    def apply(self, op: proto.PushOp, digest: str) -> proto.OpResult:
        ctx = common.OpContext(self.session, self.store, self.device, op, self.now, self.cache)
        if self.cache.shared:  # any failure sends the whole batch back op by op
            outcome = HANDLERS[op.kind](ctx, decode(op))
            self.session.add_all(ctx.deferred)  # later ops may read them (a refund's ledger)
            self.cache.movements.extend(ctx.moves)
            return self._applied(op, digest, ctx, outcome)
        try:
            with self.session.begin_nested():
                outcome = HANDLERS[op.kind](ctx, decode(op))
                self.session.add_all(ctx.deferred)
                self.session.flush()
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - any deterministic failure quarantines
            return self._quarantine(op, digest, exc)
        return self._applied(op, digest, ctx, outcome)

    def _applied(self, op: proto.PushOp, digest: str, ctx: common.OpContext,
                 outcome: common.Outcome) -> proto.OpResult:
        result = proto.OpResult(op_id=op.op_id, device_seq=op.device_seq,
                                status=proto.OpStatus.APPLIED, anomalies=ctx.kinds(),
                                result=outcome.result)
        self.receipt_counter = max(self.receipt_counter, outcome.receipt_counter or 0)
        self.recorded.append((op, digest, result, {
            "action": f"pos.{op.kind.value}", "entity_type": outcome.entity_type,
            "entity_id": outcome.entity_id}))
        return result

    def _quarantine(self, op: proto.PushOp, digest: str, exc: Exception) -> proto.OpResult:
        code, message = _describe(exc)
        result = proto.OpResult(op_id=op.op_id, device_seq=op.device_seq,
                                status=proto.OpStatus.QUARANTINED, error_code=code,
                                error=message, anomalies=[AnomalyKind.QUARANTINED.value])
        self.recorded.append((op, digest, result, {"action": "sync.op_quarantined",
                                                   "entity_type": "push_inbox"}))
        return result

    def prepare(self) -> None:
        """Build the inbox rows of the applied and quarantined ops, and write their audit rows
        and quarantine flags, before the change sequence is taken: its lock is held until
        commit. The inbox rows are written by ``stamp``, under it, once they have their
        ``server_seq``."""
        self.inbox: list[tuple[PushInbox, proto.OpResult]] = []
        for op, digest, result, audit in self.recorded:
            quarantined = result.status is proto.OpStatus.QUARANTINED
            row = PushInbox(
                id=new_id(), store_id=self.store.id, device_id=self.device.id, op_id=op.op_id,
                device_seq=op.device_seq, kind=op.kind.value, op_version=op.op_version,
                request_hash=digest, payload=op.payload,
                staff_id=(op.staff_id or "")[:32] or None, occurred_at=op.occurred_at,
                status=PushOpStatus.QUARANTINED if quarantined else PushOpStatus.APPLIED,
                result=result.model_dump(mode="json"), error=result.error,
                received_at=self.now, created_at=self.now, updated_at=self.now)
            self.inbox.append((row, result))
            detail: dict[str, Any] = {"op_id": op.op_id, "kind": op.kind.value,
                                      "device_seq": op.device_seq, "staff_id": op.staff_id}
            if quarantined:
                detail |= {"error_code": result.error_code, "error": result.error}
                self.session.add(PosAnomaly(
                    store_id=self.store.id, kind=AnomalyKind.QUARANTINED,
                    entity_type="push_inbox", entity_id=row.id, device_id=self.device.id,
                    op_id=op.op_id, detail=detail, occurred_at=op.occurred_at,
                    created_at=self.now, updated_at=self.now))
            else:
                detail |= {"anomalies": result.anomalies, "result": result.result}
            audit_service.record(
                self.session, actor=self.actor, action=audit["action"],
                entity_type=audit["entity_type"], entity_id=audit.get("entity_id", row.id),
                after=detail, request_meta=self.meta)
        bulk.insert_new(self.session, (AuditLog, PosAnomaly))

    def stamp(self, server_seq: int) -> list[proto.OpResult]:
        """Write the prepared inbox rows with their ``server_seq``; the results in request
        order."""
        done: dict[str, proto.OpResult] = {}
        for row, result in self.inbox:
            row.server_seq = server_seq
            row.result = {**row.result, "server_seq": server_seq}
            done[row.op_id] = result.model_copy(update={"server_seq": server_seq})
        self.session.add_all(row for row, _ in self.inbox)
        bulk.insert_new(self.session, (PushInbox,))
        return [done.get(r.op_id, r) if r.status is not proto.OpStatus.DUPLICATE else r
                for r in self.results]


def _duplicate(stored: PushInbox, op: proto.PushOp) -> proto.OpResult:
    before = proto.OpResult.model_validate(stored.result) if stored.result else None
    return proto.OpResult(
        op_id=op.op_id, device_seq=op.device_seq, status=proto.OpStatus.DUPLICATE,
        server_seq=stored.server_seq, error_code=before.error_code if before else None,
        error=before.error if before else None, anomalies=before.anomalies if before else [],
        result=before.result if before else {},
        original_status=before.status if before else None)


def _lock_device(session: Session, device_id: str, request: proto.PushRequest,
                 now: datetime) -> tuple[Device, common.StoreRef]:
    # The locking UPDATE returns the whole row, the device as it is now, and its store's
    # currency (a subquery: SQLite's RETURNING sees only the updated table): no SELECTs.
    currency = select(Store.currency).where(Store.id == Device.store_id).scalar_subquery()
    row = session.execute(
        update(Device).where(Device.id == device_id)
        .values(last_seen_at=now, app_version=request.app_version[:64] or None,
                cache_schema_version=request.cache_schema_version)
        .returning(Device, currency)
        .execution_options(synchronize_session=False, populate_existing=True)).first()
    if row is None:
        raise Forbidden("This terminal is not enrolled in this store.", code="device_unknown")
    device, currency = row
    audit_service.mark_housekeeping(session, Device)
    if device.status is DeviceStatus.REVOKED:
        raise DeviceRevoked("This terminal was revoked. Keep its outbox and pair it again.")
    return device, common.StoreRef(id=device.store_id, currency=currency)


def push(session: Session, *, actor: Principal, request: proto.PushRequest, now: datetime,
         meta: RequestMeta | None = None) -> proto.PushResponse:
    """Apply a batch of a terminal's ops (see the module docstring)."""
    if actor.kind != "device" or not actor.device_id or not actor.store_id:
        raise Forbidden("Only a paired terminal can push operations.", code="device_only")
    device, store = _lock_device(session, actor.device_id, request, now)
    ops = sorted(request.ops, key=lambda o: o.device_seq)
    fresh = [o for o in ops if o.device_seq > device.last_pushed_seq]
    ingest_batch.lock_rows(session, fresh, variants=False)
    stored = {row.op_id: row for row in session.scalars(select(PushInbox).where(
        PushInbox.op_id.in_({o.op_id for o in ops})))} if ops else {}
    start = device.last_pushed_seq
    if fresh:
        # One SAVEPOINT for the batch instead of one per op: the ops' reads come from one
        # prefetch, their rows are written together, and the variants every till sells are
        # locked last (write_stock). Any failure (an op to quarantine, a constraint, stock
        # that moved under the batch) rolls it all back and the batch is applied op by op
        # below, as if this had never run.
        batch = _Batch(session, actor, device, store, now, meta, shared=True)
        try:
            with session.begin_nested():
                ingest_batch.prefetch(session, store.id, fresh, batch.cache)
                last, expected = _walk(session, batch, ops, stored)
                bulk.insert_new(session, SALE_ROWS)
                ingest_batch.write_stock(session, batch.cache, now)
                session.flush()
        except TRANSIENT:
            raise
        except Exception as exc:  # noqa: BLE001 - retried op by op, which sorts out each op
            log.info("push batch of %d ops applied op by op (%r)", len(fresh), exc)
        else:
            return _finish(session, batch, start, last, expected)
        ingest_batch.lock_rows(session, fresh)  # op by op takes the variants' locks up front
    batch = _Batch(session, actor, device, store, now, meta)
    last, expected = _walk(session, batch, ops, stored)
    return _finish(session, batch, start, last, expected)


def _walk(session: Session, batch: _Batch, ops: list[proto.PushOp],
          stored: dict[str, PushInbox]) -> tuple[int, int | None]:
    """Apply the ops in ``device_seq`` order: (last seq handled, expected seq at a gap)."""
    device = batch.device
    seen: dict[str, str] = {}
    last = device.last_pushed_seq
    expected: int | None = None
    for op in ops:
        digest = request_hash(op)
        before = stored.get(op.op_id)
        if seen.get(op.op_id, digest) != digest or (
                before is not None and before.device_id == device.id
                and before.request_hash != digest):
            raise IdempotencyKeyReused(
                f"Operation {op.op_id} was already received with different content.",
                op_id=op.op_id)
        if before is not None and before.device_id == device.id:
            batch.results.append(_duplicate(before, op))
            continue
        if op.op_id in seen or op.device_seq <= last:
            batch.results.append(_duplicate_seq(session, batch, op))
            continue
        if op.device_seq > last + 1:
            expected = last + 1
            break
        seen[op.op_id] = digest
        if before is not None:  # the same op id from another terminal of this store
            batch.results.append(_rejected(op))
        else:
            batch.results.append(batch.apply(op, digest))
        last = op.device_seq
    return last, expected


def _rejected(op: proto.PushOp) -> proto.OpResult:
    """The op id belongs to an op of another terminal: not ours to record."""
    return proto.OpResult(op_id=op.op_id, device_seq=op.device_seq,
                          status=proto.OpStatus.REJECTED, error_code="op_id_conflict",
                          error="This operation id is already used by another terminal.")


def _duplicate_seq(session: Session, batch: _Batch, op: proto.PushOp) -> proto.OpResult:
    """An op at a sequence number already applied: the stored result of that number."""
    for earlier, _, result, _ in batch.recorded:
        if earlier.device_seq == op.device_seq:
            return result.model_copy(update={"op_id": op.op_id, "original_status": result.status,
                                             "status": proto.OpStatus.DUPLICATE})
    row = session.scalar(select(PushInbox).where(PushInbox.device_id == batch.device.id,
                                                 PushInbox.device_seq == op.device_seq))
    if row is not None:
        return _duplicate(row, op)
    return proto.OpResult(op_id=op.op_id, device_seq=op.device_seq,
                          status=proto.OpStatus.DUPLICATE)


def _finish(session: Session, batch: _Batch, start: int, last: int,
            expected: int | None) -> proto.PushResponse:
    values: dict[str, Any] = {}
    if last != start:
        values["last_pushed_seq"] = last
    if batch.receipt_counter > batch.device.last_receipt_counter:
        values["last_receipt_counter"] = batch.receipt_counter
    if values:
        session.execute(update(Device).where(Device.id == batch.device.id).values(**values)
                        .execution_options(synchronize_session=False))
        for name, value in values.items():
            set_committed_value(batch.device, name, value)
    batch.prepare()
    allocated = changes.allocate(session)
    epoch = changes.epoch_of(session, batch.store.id)
    if batch.store.id in allocated and epoch is not None:
        checkpoint = allocated[batch.store.id]
    else:
        feed = feed_service.state(session.connection(), batch.store.id)
        assert feed is not None
        checkpoint, epoch = feed.last_seq, feed.epoch
    results = batch.stamp(checkpoint)  # now, not at commit: nothing else runs under the lock
    return proto.PushResponse(results=results, last_applied_device_seq=last,
                              expected_device_seq=expected, server_time=batch.now,
                              server_epoch=epoch, write_checkpoint=checkpoint)

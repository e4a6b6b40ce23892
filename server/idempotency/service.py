"""Idempotency-Key semantics (Stripe's, sync-anchors §1.6), free of any web framework.

A client sends ``Idempotency-Key: <unique string>`` on a POST that moves money or stock. Keys
are scoped to the store and the principal (a staff user or a device), and expire 24 hours
after first use. For a key already seen:

- same request (method, path and body) and the first one finished: its stored outcome
  (status and JSON body) is returned again, and nothing runs twice;
- different request: 422 ``idempotency_key_reused``;
- the first request is still running: 409 ``idempotency_key_in_use``.

The claim is a unique-constraint insert (never check-then-insert). It is committed on its
own, before the work, so a concurrent retry sees the key in flight; the outcome is written in
the same transaction as the work's effects, so the two commit together. If the work fails
with a 4xx the refusal is stored like any outcome (Stripe caches those too); if it fails
with a 5xx, or the process dies, nothing was committed, so the claim is released (or goes
stale after :data:`LEASE`) and a retry runs the work again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.clock import as_utc
from server.errors import Conflict, Invalid
from server.idempotency.models import IdempotencyKey, IdempotencyStatus

__all__ = [
    "LEASE",
    "TTL",
    "KeyInFlight",
    "KeyReused",
    "Replay",
    "claim",
    "complete",
    "fingerprint",
    "purge_expired",
    "release",
]

TTL = timedelta(hours=24)
# A PENDING claim older than this belongs to a request that died; the next retry takes it over.
LEASE = timedelta(minutes=5)
_ATTEMPTS = 4


class KeyInFlight(Conflict):
    default_code = "idempotency_key_in_use"
    default_title = "Request in progress"


class KeyReused(Invalid):
    default_code = "idempotency_key_reused"
    default_title = "Idempotency key reused"


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored outcome of the first request with this key."""

    status: int
    body: dict[str, Any]


def fingerprint(method: str, path: str, body: Any) -> str:
    """SHA-256 of the method, the path and the canonical JSON of the (parsed) body."""
    canonical = json.dumps([method.upper(), path, body], sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(db: Session, *, store_id: str, principal: str, key: str) -> IdempotencyKey | None:
    return db.scalar(
        select(IdempotencyKey)
        .where(IdempotencyKey.store_id == store_id, IdempotencyKey.principal == principal,
               IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def claim(
    db: Session,
    *,
    store_id: str,
    principal: str,
    key: str,
    request_hash: str,
    method: str,
    path: str,
    now: datetime,
) -> str | Replay:
    """Take ``key`` for this request and return the claim's id, or the stored outcome.

    Raises :class:`KeyReused` (422) or :class:`KeyInFlight` (409). The caller commits.
    """
    audit.mark_housekeeping(db, IdempotencyKey)
    for _ in range(_ATTEMPTS):
        row = _find(db, store_id=store_id, principal=principal, key=key)
        if row is None:
            new = IdempotencyKey(
                store_id=store_id, principal=principal, key=key, request_hash=request_hash,
                method=method.upper(), path=path[:500], status=IdempotencyStatus.PENDING,
                locked_at=now, expires_at=now + TTL,
            )
            try:
                with db.begin_nested():
                    db.add(new)
                    db.flush()
            except IntegrityError:
                continue  # someone else inserted it first: look again
            return new.id
        if as_utc(row.expires_at) <= now:
            with db.begin_nested():
                db.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
            continue
        if row.request_hash != request_hash:
            raise KeyReused(
                "This Idempotency-Key was already used for a different request "
                f"({row.method} {row.path} with other parameters). Use a new key.")
        if row.status is IdempotencyStatus.COMPLETED and row.response_status is not None:
            return Replay(row.response_status, row.response_body or {})
        if now - as_utc(row.locked_at) < LEASE:
            raise KeyInFlight(
                "A request with this Idempotency-Key is still being processed. "
                "Retry after it finishes.")
        taken = db.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.locked_at == row.locked_at)
            .values(locked_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) == 1:
            return row.id
    raise KeyInFlight("This Idempotency-Key is contended; retry in a moment.")


def complete(
    db: Session, *, claim_id: str, status: int, body: dict[str, Any], now: datetime
) -> None:
    """Store the outcome of the request that holds the claim."""
    db.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id)
        .values(status=IdempotencyStatus.COMPLETED, response_status=status,
                response_body=body, completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def release(db: Session, *, claim_id: str) -> None:
    """Drop a claim whose request failed without effects, so a retry runs it again."""
    db.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.id == claim_id,
               IdempotencyKey.status == IdempotencyStatus.PENDING)
        .execution_options(synchronize_session=False)
    )


def purge_expired(db: Session, *, now: datetime) -> int:
    """Delete expired keys of every store (a system job; the caller commits)."""
    result = db.execute(
        delete(IdempotencyKey)
        .where(IdempotencyKey.expires_at <= now)
        .execution_options(all_stores=True, synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)

"""The terminal <-> server sync wire protocol: one definition both sides import.

Design: ``shared/reference/sync-anchors.md`` §2 and product-decisions §6.

- **Push** uploads commands (not row diffs) from the terminal's outbox. Each op has an ``op_id``
  (cuid2, the idempotency key) and a gap-free per-device ``device_seq``. The server answers
  200 with a result per op: ``applied``, ``duplicate`` (stored result returned),
  ``quarantined`` (kept, visible in the back office, never dropped) or ``rejected`` (malformed
  or unauthorised input only; business anomalies are flagged, never rejected). A gap stops the
  batch and reports ``expected_device_seq``.
- **Pull** serves the per-store change sequence after a cursor; the order of ``seq`` is commit
  order. Deletes come as tombstones. A cursor from another epoch or below the compaction
  horizon gets 410 ``resync_required``.
- **Snapshot** serves keyset pages, all consistent as of one ``as_of_seq``, for first start.
- Every response carries ``server_time``; device clocks decide nothing.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stormcom_pos.domain.errors import DomainError

PROTOCOL_VERSION = 1
MAX_PUSH_OPS = 100
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 2000
DEFAULT_SNAPSHOT_LIMIT = 1000
MAX_SNAPSHOT_LIMIT = 5000


class BadCursor(DomainError):
    code = "bad_cursor"


class OpKind(StrEnum):
    ORDER_SUBMIT = "order.submit"
    REFUND_SUBMIT = "refund.submit"
    DRAWER_OPEN = "drawer.open"
    CASH_MOVE = "cash.move"
    DRAWER_CLOSE = "drawer.close"
    DRAWER_NO_SALE = "drawer.no_sale"
    STOCK_ADJUST = "stock.adjust"
    STOCK_COUNT = "stock.count"
    CUSTOMER_CREATE = "customer.create"


class OpStatus(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    REJECTED = "rejected"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- push -----------------------------------------------------------------------------------


class PushOp(_Wire):
    op_id: str = Field(min_length=1, max_length=64)
    device_seq: int = Field(ge=1)
    kind: OpKind
    op_version: int = Field(default=1, ge=1)
    occurred_at: datetime  # the till's clock: recorded, never used for ordering
    staff_id: str | None = None
    payload: dict[str, Any]


class PushRequest(_Wire):
    app_version: str = Field(max_length=64)
    cache_schema_version: int = Field(ge=0)
    ops: list[PushOp] = Field(max_length=MAX_PUSH_OPS)


class OpResult(_Wire):
    op_id: str
    device_seq: int
    status: OpStatus
    server_seq: int | None = None
    error_code: str | None = None
    error: str | None = None
    anomalies: list[str] = Field(default_factory=list)
    result: dict[str, Any] = Field(default_factory=dict)
    # For a duplicate: what the op's first arrival did (applied, quarantined or rejected).
    original_status: OpStatus | None = None


class PushResponse(_Wire):
    results: list[OpResult]
    last_applied_device_seq: int
    expected_device_seq: int | None = None  # set when the batch stopped at a gap
    server_time: datetime
    server_epoch: str
    # The store's change seq once this batch's effects are sequenced: a pull that reaches it
    # has seen them (the till's "write checkpoint", sync-anchors §1.1).
    write_checkpoint: int | None = None


# ---- pull and snapshot ----------------------------------------------------------------------


class Change(_Wire):
    seq: int
    entity_type: str  # the server table name, e.g. "variant", "tax_rate"
    id: str
    op: Literal["upsert", "delete"]
    data: dict[str, Any] | None = None  # the row as JSON for upserts; None for tombstones


class PullResponse(_Wire):
    changes: list[Change]
    next_cursor: str
    has_more: bool
    server_time: datetime
    server_epoch: str


class SnapshotPage(_Wire):
    entity_type: str
    rows: list[dict[str, Any]]
    as_of_seq: int  # pull from cursor(epoch, as_of_seq) once every scope is loaded
    next_after: str | None  # keyset resume key; None when this entity type is done
    server_time: datetime
    server_epoch: str


# Mirrored entity types in load order: selling can start once the first group is in.
SNAPSHOT_SELLING = ("store", "tax_rate", "category", "product", "product_category", "variant",
                    "coupon", "flash_sale", "user_store", "staff")
SNAPSHOT_LATER = ("customer", "address", "shipping_zone", "shipping_rate")


def encode_cursor(epoch: str, seq: int) -> str:
    """An opaque cursor: base64 of ``{"e": epoch, "s": seq}``."""
    raw = json.dumps({"e": epoch, "s": seq}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    """``(epoch, seq)`` from a cursor; raise BadCursor if it is not one of ours."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        epoch, seq = data["e"], data["s"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCursor(f"cursor {cursor[:40]!r} is not a sync cursor") from exc
    if not isinstance(epoch, str) or not isinstance(seq, int) or seq < 0:
        raise BadCursor(f"cursor {cursor[:40]!r} is not a sync cursor")
    return epoch, seq


def money_json(value: Decimal) -> str:
    """Money on the wire is a decimal string, never a JSON float."""
    return format(value, "f")

"""External platforms: the seed's ``ExternalPlatformIntegration`` (#38) and ``SyncQueue`` (#39),
with ``ExternalPlatform``, ``SyncDirection``, ``ConflictResolution``, ``SyncStatus``,
``SyncOperation`` and ``SyncQueueStatus``.

``SyncQueue`` is the server's transactional outbox towards WooCommerce/Shopify
(sync-anchors §2.15): an item is enqueued in the same transaction as the domain change.

Deviations from ``data-model.md`` and why:

- ``SyncQueue`` has ``store_id`` (tenancy on child tables, product-decisions §2).
- ``SyncQueue`` gains the worker's lease and backoff fields (sync-anchors §2.15):
  ``next_attempt_at`` (exponential backoff with jitter, or the platform's ``Retry-After``;
  NULL = due now), ``locked_by`` and ``locked_until`` (a claimed item whose lease expires
  goes back to PENDING after a worker crash), with an index on ``(status,
  next_attempt_at)`` for the claim query.
- A partial unique index allows at most one PENDING item per ``(integration_id,
  entity_type, entity_id, operation)``: enqueueing coalesces, and the worker always sends
  the entity's current state (sync-anchors §2.15). PROCESSING/COMPLETED/FAILED/CONFLICT
  items are not constrained. Partial indexes work on both PostgreSQL and SQLite.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import ID_LENGTH, Entity, StoreOwnedMixin, enum_column, fk
from server.db.encrypted import EncryptedString


class ExternalPlatform(enum.StrEnum):
    WOOCOMMERCE = "WOOCOMMERCE"
    SHOPIFY = "SHOPIFY"


class SyncDirection(enum.StrEnum):
    INBOUND = "INBOUND"  # external -> StormCom
    OUTBOUND = "OUTBOUND"  # StormCom -> external
    BIDIRECTIONAL = "BIDIRECTIONAL"


class ConflictResolution(enum.StrEnum):
    LAST_WRITE_WINS = "LAST_WRITE_WINS"
    MANUAL_QUEUE = "MANUAL_QUEUE"
    PRIORITY_RULES = "PRIORITY_RULES"


class SyncStatus(enum.StrEnum):
    IDLE = "IDLE"
    SYNCING = "SYNCING"
    ERROR = "ERROR"


class SyncOperation(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class SyncQueueStatus(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # retry_count reached max_retries: dead letter, re-drivable
    CONFLICT = "CONFLICT"  # needs a human decision


class ExternalPlatformIntegration(StoreOwnedMixin, Entity):
    """A store's connection to a WooCommerce or Shopify shop."""

    __table_args__ = (
        Index("ix_external_platform_integration_store_id_is_active", "store_id", "is_active"),
    )

    platform: Mapped[ExternalPlatform] = mapped_column(enum_column(ExternalPlatform))

    sync_direction: Mapped[SyncDirection] = mapped_column(
        enum_column(SyncDirection), default=SyncDirection.BIDIRECTIONAL
    )

    # Authentication (encrypted at application level)
    api_url: Mapped[str]
    api_key: Mapped[str] = mapped_column(EncryptedString())
    api_secret: Mapped[str | None] = mapped_column(EncryptedString())
    webhook_secret: Mapped[str | None] = mapped_column(EncryptedString())

    # Entity-level direction overrides: {"products": "inbound", "orders": "outbound"}
    entity_overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)

    conflict_resolution: Mapped[ConflictResolution] = mapped_column(
        enum_column(ConflictResolution), default=ConflictResolution.LAST_WRITE_WINS
    )

    is_active: Mapped[bool] = mapped_column(default=True)
    last_sync_at: Mapped[datetime | None]
    sync_status: Mapped[SyncStatus] = mapped_column(
        enum_column(SyncStatus), default=SyncStatus.IDLE
    )

    sync_queue: Mapped[list[SyncQueue]] = relationship(
        back_populates="integration", cascade="all, delete-orphan", passive_deletes=True
    )


class SyncQueue(StoreOwnedMixin, Entity):
    """One pending or finished sync operation towards (or from) an external platform."""

    __table_args__ = (
        Index("ix_sync_queue_integration_id_status", "integration_id", "status"),
        Index("ix_sync_queue_entity_type_entity_id", "entity_type", "entity_id"),
        Index("ix_sync_queue_status_next_attempt_at", "status", "next_attempt_at"),
        Index(
            "ix_sync_queue_integration_id_entity_type_entity_id_operation",
            "integration_id",
            "entity_type",
            "entity_id",
            "operation",
            unique=True,
            postgresql_where=text("status = 'PENDING'"),
            sqlite_where=text("status = 'PENDING'"),
        ),
    )

    integration_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), fk("external_platform_integration", ondelete="CASCADE")
    )

    # Entity details
    entity_type: Mapped[str] = mapped_column(String(64))  # product, order, customer, inventory
    entity_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    operation: Mapped[SyncOperation] = mapped_column(enum_column(SyncOperation))
    direction: Mapped[SyncDirection] = mapped_column(enum_column(SyncDirection))

    data: Mapped[dict[str, Any]]  # entity data to sync

    # Processing
    status: Mapped[SyncQueueStatus] = mapped_column(
        enum_column(SyncQueueStatus), default=SyncQueueStatus.PENDING
    )
    retry_count: Mapped[int] = mapped_column(default=0)
    max_retries: Mapped[int] = mapped_column(default=3)
    next_attempt_at: Mapped[datetime | None]  # backoff; NULL = due now
    locked_by: Mapped[str | None] = mapped_column(String(128))  # worker holding the lease
    locked_until: Mapped[datetime | None]  # lease expiry

    # Results
    processed_at: Mapped[datetime | None]
    error_message: Mapped[str | None] = mapped_column(Text)

    integration: Mapped[ExternalPlatformIntegration] = relationship(back_populates="sync_queue")

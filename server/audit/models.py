"""Audit: the seed's ``AuditLog`` (#40), an immutable trail of actions.

Deviations from ``data-model.md`` and why:

- ``store_id`` is nullable: some audited events have no store. Logins and logouts happen
  before a store is chosen (a user may work in several stores), and a Super Admin manages
  plans and users at platform level; every cross-store Super Admin action is audited
  (FR-004A, FR-094). A store-level event always carries its store. Deleting a store
  still cascades, as in the seed.
- ``updated_at`` exists only because every ``Entity`` has it; it always equals
  ``created_at``. Immutability is enforced in the ORM: flushing an update or a delete of
  an ``AuditLog`` raises ``AuditLogImmutableError`` ("Audit logs are immutable"). Retention
  (1 year, then cold storage) purges with a Core ``DELETE``, which is deliberate.
- Added ``device_id``: actions taken at a till (drawer opened without a sale, refund
  approvals, voids) record the terminal, as the IP does for a browser.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import ID_LENGTH, Entity, fk


class AuditLogImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit log row through the ORM."""

    def __init__(self) -> None:
        super().__init__("Audit logs are immutable")


class AuditLog(Entity):
    """One audited action, with before/after snapshots. Insert-only."""

    __table_args__ = (
        Index("ix_audit_log_store_id_created_at", "store_id", "created_at"),
        Index("ix_audit_log_user_id", "user_id"),
        Index("ix_audit_log_entity_type_entity_id", "entity_type", "entity_id"),
    )

    # NULL for platform-level events (logins, plans, Super Admin user management)
    store_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("store", ondelete="CASCADE"))

    # Actor
    user_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), fk("user", ondelete="SET NULL"))
    actor_email: Mapped[str]  # snapshot in case the user is deleted ("system" for jobs)
    device_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), fk("device", ondelete="SET NULL")
    )

    # Action
    action: Mapped[str]  # create, update, delete, login, logout, ...
    entity_type: Mapped[str]  # order, product, customer, ...
    entity_id: Mapped[str | None]

    # Changes
    before_snapshot: Mapped[dict[str, Any] | None]
    after_snapshot: Mapped[dict[str, Any] | None]

    # Metadata
    ip_address: Mapped[str | None]
    user_agent: Mapped[str | None]


@event.listens_for(AuditLog, "before_update")
@event.listens_for(AuditLog, "before_delete")
def _refuse_change(mapper: Any, connection: Any, target: AuditLog) -> None:
    raise AuditLogImmutableError()

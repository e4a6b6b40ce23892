"""Wire schemas of the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from server.api.schema_types import UtcDateTime


class AuditLogRead(BaseModel):
    id: str
    created_at: UtcDateTime
    store_id: str | None
    user_id: str | None
    actor_email: str
    device_id: str | None
    action: str
    entity_type: str
    entity_id: str | None
    before_snapshot: dict[str, Any] | None
    after_snapshot: dict[str, Any] | None
    ip_address: str | None
    user_agent: str | None


class AuditLogPage(BaseModel):
    items: list[AuditLogRead]
    total: int
    page: int
    page_size: int

"""The current store's settings."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from sqlalchemy.orm import Session

from server.audit import service as audit
from server.errors import Invalid
from server.identity.principal import Principal, RequestMeta
from server.stores.models import Store

UPDATABLE = (
    "name", "email", "phone", "address", "tax_id", "timezone", "language", "logo_url",
    "primary_color", "secondary_color", "allow_coupons_with_flash_sale",
)


def update(
    db: Session, *, actor: Principal, store: Store, changes: dict[str, Any], meta: RequestMeta
) -> Store:
    """Apply the given changes (``settings`` keys merged; a null value removes a key)."""
    if "timezone" in changes and changes["timezone"] not in available_timezones():
        raise Invalid(f"Unknown time zone {changes['timezone']!r}.", code="unknown_timezone")
    before = audit.snapshot(store)
    for key in UPDATABLE:
        if key in changes and changes[key] is not None:
            setattr(store, key, changes[key])
    if changes.get("settings") is not None:
        merged = dict(store.settings or {})
        for key, value in changes["settings"].items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        store.settings = merged
    db.flush()
    audit.record(db, actor=actor, action="store.update", entity_type="store", entity_id=store.id,
                 before=before, after=audit.snapshot(store), request_meta=meta)
    return store

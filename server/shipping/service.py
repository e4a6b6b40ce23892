"""Shipping zones and rates: CRUD, and the zones as the shared shipping rules see them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, with_loader_criteria

from server.audit import service as audit
from server.errors import Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.shipping.models import ShippingRate, ShippingZone
from server.shipping.schemas import (
    RateConditionsIn,
    ShippingRateCreate,
    ShippingRateUpdate,
    ShippingZoneCreate,
    ShippingZoneUpdate,
)
from stormcom_pos.domain import shipping as rules
from stormcom_pos.domain.enums import ShippingRateType

_CAMEL = {"min_weight": "minWeight", "max_weight": "maxWeight", "min_price": "minPrice",
          "max_price": "maxPrice"}
_HUNDRED = Decimal(100)


def _live_rates() -> Any:
    return with_loader_criteria(ShippingRate, ShippingRate.deleted_at.is_(None))


def get_zone(session: Session, *, zone_id: str) -> ShippingZone:
    """A live zone of the current store (with its live rates), or 404."""
    zone = session.scalar(
        select(ShippingZone).where(ShippingZone.id == zone_id, ShippingZone.deleted_at.is_(None))
        .options(selectinload(ShippingZone.rates), _live_rates())
    )
    if zone is None:
        raise NotFound("There is no such shipping zone.", code="shipping_zone_not_found")
    return zone


def get_rate(session: Session, *, zone: ShippingZone, rate_id: str) -> ShippingRate:
    """A live rate of the zone, or 404."""
    rate = session.get(ShippingRate, rate_id)
    if rate is None or rate.deleted_at is not None or rate.zone_id != zone.id:
        raise NotFound("There is no such shipping rate in this zone.",
                       code="shipping_rate_not_found")
    return rate


def list_zones(session: Session, *, is_active: bool | None, q: str | None, page: int,
               page_size: int) -> tuple[Sequence[ShippingZone], int]:
    """One page of the store's zones, by name."""
    stmt = select(ShippingZone).where(ShippingZone.deleted_at.is_(None))
    if is_active is not None:
        stmt = stmt.where(ShippingZone.is_active.is_(is_active))
    if q:
        stmt = stmt.where(func.lower(ShippingZone.name).contains(q.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ShippingZone.name, ShippingZone.id).offset((page - 1) * page_size)
        .limit(page_size).options(selectinload(ShippingZone.rates), _live_rates())
    ).all()
    return rows, int(total)


def _zone_values(data: ShippingZoneCreate | ShippingZoneUpdate) -> dict[str, Any]:
    changes = data.model_dump(exclude_unset=True)
    for key in ("countries", "states", "postal_codes"):
        if key in changes and changes[key] is None:
            changes[key] = []
    if changes.get("name", "") is None or ("is_active" in changes
                                            and changes["is_active"] is None):
        raise Invalid("name and is_active cannot be null.", code="invalid_field")
    return changes


def _record(session: Session, actor: Principal, action: str, obj: Any, kind: str,
            meta: RequestMeta, before: dict[str, Any] | None = None) -> None:
    audit.record(session, actor=actor, action=action, entity_type=kind, entity_id=obj.id,
                 before=before, after=audit.snapshot(obj), request_meta=meta)


def create_zone(session: Session, *, actor: Principal, data: ShippingZoneCreate,
                meta: RequestMeta) -> ShippingZone:
    """Add a zone (no rates yet)."""
    zone = ShippingZone(**_zone_values(data))
    session.add(zone)
    session.flush()
    _record(session, actor, "shipping_zone.create", zone, "shipping_zone", meta)
    return zone


def update_zone(session: Session, *, actor: Principal, zone: ShippingZone,
                data: ShippingZoneUpdate, meta: RequestMeta) -> ShippingZone:
    """Change the fields sent (a null list means "any")."""
    before = audit.snapshot(zone)
    for key, value in _zone_values(data).items():
        setattr(zone, key, value)
    session.flush()
    _record(session, actor, "shipping_zone.update", zone, "shipping_zone", meta, before)
    return zone


def delete_zone(session: Session, *, actor: Principal, zone: ShippingZone, now: datetime,
                meta: RequestMeta) -> None:
    """Soft-delete a zone and its rates."""
    before = audit.snapshot(zone)
    zone.deleted_at, zone.is_active = now, False
    for rate in zone.rates:
        rate.deleted_at, rate.is_active = now, False
    session.flush()
    _record(session, actor, "shipping_zone.delete", zone, "shipping_zone", meta, before)


def conditions_json(conditions: RateConditionsIn | None) -> dict[str, str]:
    """The stored form of rate conditions: ``{"minWeight": "1.5"}`` (exact decimals)."""
    if conditions is None:
        return {}
    return {_CAMEL[k]: str(v) for k, v in conditions.model_dump().items() if v is not None}


def _check_rate(rate: ShippingRate) -> None:
    if rate.rate_type is ShippingRateType.PERCENTAGE and rate.cost > _HUNDRED:
        raise Invalid("A PERCENTAGE rate's cost is a percent of the subtotal: at most 100.",
                      code="invalid_shipping_rate")


def create_rate(session: Session, *, actor: Principal, zone: ShippingZone,
                data: ShippingRateCreate, meta: RequestMeta) -> ShippingRate:
    """Add a rate to a zone."""
    values = data.model_dump(exclude_unset=True, exclude={"conditions"})
    values = {k: v for k, v in values.items() if v is not None}
    rate = ShippingRate(zone_id=zone.id, conditions=conditions_json(data.conditions), **values)
    rate.rate_type = rate.rate_type or ShippingRateType.FLAT_RATE
    _check_rate(rate)
    session.add(rate)
    session.flush()
    _record(session, actor, "shipping_rate.create", rate, "shipping_rate", meta)
    return rate


def update_rate(session: Session, *, actor: Principal, rate: ShippingRate,
                data: ShippingRateUpdate, meta: RequestMeta) -> ShippingRate:
    """Change the fields sent."""
    before = audit.snapshot(rate)
    changes = data.model_dump(exclude_unset=True, exclude={"conditions"})
    for key in ("name", "cost", "rate_type", "is_active"):
        if key in changes and changes[key] is None:
            raise Invalid(f"{key} cannot be null.", code="invalid_field")
    for key, value in changes.items():
        setattr(rate, key, value)
    if "conditions" in data.model_fields_set:
        rate.conditions = conditions_json(data.conditions)
    low, high = rate.min_delivery_days, rate.max_delivery_days
    if low is not None and high is not None and low > high:
        raise Invalid("min_delivery_days cannot exceed max_delivery_days.",
                      code="invalid_field")
    _check_rate(rate)
    session.flush()
    _record(session, actor, "shipping_rate.update", rate, "shipping_rate", meta, before)
    return rate


def delete_rate(session: Session, *, actor: Principal, rate: ShippingRate, now: datetime,
                meta: RequestMeta) -> None:
    """Soft-delete a rate."""
    before = audit.snapshot(rate)
    rate.deleted_at, rate.is_active = now, False
    session.flush()
    _record(session, actor, "shipping_rate.delete", rate, "shipping_rate", meta, before)


def rate_rule(rate: ShippingRate) -> rules.ShippingRate:
    return rules.ShippingRate(
        id=rate.id, name=rate.name, rate_type=rate.rate_type, cost=rate.cost,
        free_shipping_threshold=rate.free_shipping_threshold,
        conditions=rules.RateConditions.from_json(rate.conditions or {}),
        min_delivery_days=rate.min_delivery_days, max_delivery_days=rate.max_delivery_days,
        is_active=rate.is_active,
    )


def zone_rules(session: Session) -> tuple[rules.ShippingZone, ...]:
    """The store's live zones with their live rates, in creation order (ties go first)."""
    zones = session.scalars(
        select(ShippingZone).where(ShippingZone.deleted_at.is_(None))
        .order_by(ShippingZone.created_at, ShippingZone.id)
        .options(selectinload(ShippingZone.rates), _live_rates())
    ).all()
    return tuple(
        rules.ShippingZone(
            id=z.id, name=z.name, countries=tuple(z.countries or ()),
            states=tuple(z.states or ()), postal_codes=tuple(z.postal_codes or ()),
            rates=tuple(rate_rule(r) for r in sorted(z.rates, key=lambda r: (r.created_at,
                                                                              r.id))),
            is_active=z.is_active,
        )
        for z in zones
    )


def quote(session: Session, *, address: rules.ShippingAddress, subtotal: Decimal,
          weight_kg: Decimal, currency: str) -> tuple[rules.ShippingQuote, ...]:
    """Every rate offered for an address and cart, cheapest first (shared rules)."""
    return rules.quote_rates(zone_rules(session), address, subtotal, weight_kg, currency)

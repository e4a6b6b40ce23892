"""Shipping zones, their rates, and rate quotes for an address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from server.api.deps import CurrentStore, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.identity.principal import Principal
from server.shipping import service as shipping_service
from server.shipping.models import ShippingRate, ShippingZone
from server.shipping.schemas import (
    QuoteRead,
    QuoteRequest,
    RateConditionsRead,
    ShippingRateCreate,
    ShippingRateRead,
    ShippingRateUpdate,
    ShippingZoneCreate,
    ShippingZonePage,
    ShippingZoneRead,
    ShippingZoneUpdate,
)
from stormcom_pos.domain.shipping import RateConditions, ShippingAddress

router = APIRouter(tags=["shipping"])
Reader = Annotated[Principal, require_permission("settings.read")]
Writer = Annotated[Principal, require_permission("shipping.write")]
ZONES = "/shipping-zones"


def _rate(rate: ShippingRate) -> ShippingRateRead:
    cond = RateConditions.from_json(rate.conditions or {})
    return ShippingRateRead(
        id=rate.id, zone_id=rate.zone_id, name=rate.name, rate_type=rate.rate_type,
        cost=rate.cost, free_shipping_threshold=rate.free_shipping_threshold,
        conditions=RateConditionsRead(min_weight=cond.min_weight, max_weight=cond.max_weight,
                                      min_price=cond.min_price, max_price=cond.max_price),
        min_delivery_days=rate.min_delivery_days, max_delivery_days=rate.max_delivery_days,
        is_active=rate.is_active,
    )


def _zone(zone: ShippingZone) -> ShippingZoneRead:
    rates = sorted((r for r in zone.rates if r.deleted_at is None),
                   key=lambda r: (r.created_at, r.id))
    return ShippingZoneRead(
        id=zone.id, name=zone.name, countries=list(zone.countries or []),
        states=list(zone.states or []), postal_codes=list(zone.postal_codes or []),
        is_active=zone.is_active, rates=[_rate(r) for r in rates], created_at=zone.created_at,
        updated_at=zone.updated_at,
    )


@router.get(ZONES, response_model=ShippingZonePage,
            responses=problem_responses(400, 401, 403, 422))
def list_shipping_zones(
    _: Reader,
    db: SessionDep,
    is_active: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ShippingZonePage:
    """The store's shipping zones with their rates, by name."""
    rows, total = shipping_service.list_zones(db, is_active=is_active, q=q, page=page,
                                              page_size=page_size)
    return ShippingZonePage(items=[_zone(z) for z in rows], total=total, page=page,
                            page_size=page_size)


@router.post(ZONES, response_model=ShippingZoneRead, status_code=201,
             responses=problem_responses(400, 401, 403, 422))
def create_shipping_zone(body: ShippingZoneCreate, actor: Writer, db: SessionDep,
                         meta: MetaDep) -> ShippingZoneRead:
    """Add a shipping zone (countries, states and postal patterns; empty lists mean any)."""
    zone = shipping_service.create_zone(db, actor=actor, data=body, meta=meta)
    return _zone(shipping_service.get_zone(db, zone_id=zone.id))


@router.get(ZONES + "/{zone_id}", response_model=ShippingZoneRead,
            responses=problem_responses(400, 401, 403, 404))
def get_shipping_zone(zone_id: str, _: Reader, db: SessionDep) -> ShippingZoneRead:
    """One zone with its rates."""
    return _zone(shipping_service.get_zone(db, zone_id=zone_id))


@router.patch(ZONES + "/{zone_id}", response_model=ShippingZoneRead,
              responses=problem_responses(400, 401, 403, 404, 422))
def update_shipping_zone(zone_id: str, body: ShippingZoneUpdate, actor: Writer,
                         db: SessionDep, meta: MetaDep) -> ShippingZoneRead:
    """Change a zone (only the fields sent)."""
    zone = shipping_service.get_zone(db, zone_id=zone_id)
    return _zone(shipping_service.update_zone(db, actor=actor, zone=zone, data=body, meta=meta))


@router.delete(ZONES + "/{zone_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404))
def delete_shipping_zone(zone_id: str, actor: Writer, db: SessionDep, now: NowDep,
                         meta: MetaDep) -> Response:
    """Retire a zone and its rates."""
    zone = shipping_service.get_zone(db, zone_id=zone_id)
    shipping_service.delete_zone(db, actor=actor, zone=zone, now=now, meta=meta)
    return Response(status_code=204)


@router.post(ZONES + "/{zone_id}/rates", response_model=ShippingRateRead, status_code=201,
             responses=problem_responses(400, 401, 403, 404, 422))
def create_shipping_rate(zone_id: str, body: ShippingRateCreate, actor: Writer,
                         db: SessionDep, meta: MetaDep) -> ShippingRateRead:
    """Add a rate to a zone."""
    zone = shipping_service.get_zone(db, zone_id=zone_id)
    return _rate(shipping_service.create_rate(db, actor=actor, zone=zone, data=body, meta=meta))


@router.patch(ZONES + "/{zone_id}/rates/{rate_id}", response_model=ShippingRateRead,
              responses=problem_responses(400, 401, 403, 404, 422))
def update_shipping_rate(zone_id: str, rate_id: str, body: ShippingRateUpdate, actor: Writer,
                         db: SessionDep, meta: MetaDep) -> ShippingRateRead:
    """Change a rate (only the fields sent)."""
    zone = shipping_service.get_zone(db, zone_id=zone_id)
    rate = shipping_service.get_rate(db, zone=zone, rate_id=rate_id)
    return _rate(shipping_service.update_rate(db, actor=actor, rate=rate, data=body, meta=meta))


@router.delete(ZONES + "/{zone_id}/rates/{rate_id}", status_code=204,
               responses=problem_responses(400, 401, 403, 404))
def delete_shipping_rate(zone_id: str, rate_id: str, actor: Writer, db: SessionDep,
                         now: NowDep, meta: MetaDep) -> Response:
    """Retire a rate."""
    zone = shipping_service.get_zone(db, zone_id=zone_id)
    rate = shipping_service.get_rate(db, zone=zone, rate_id=rate_id)
    shipping_service.delete_rate(db, actor=actor, rate=rate, now=now, meta=meta)
    return Response(status_code=204)


@router.post("/shipping/quote", response_model=list[QuoteRead],
             responses=problem_responses(400, 401, 403, 422))
def quote_shipping(body: QuoteRequest, _: Reader, db: SessionDep,
                   store: CurrentStore) -> list[QuoteRead]:
    """The rates offered for an address and cart, cheapest first (422 when none covers it)."""
    address = ShippingAddress(body.address.country, body.address.state,
                              body.address.postal_code)
    quotes = shipping_service.quote(db, address=address, subtotal=body.subtotal,
                                    weight_kg=body.weight_kg, currency=store.currency)
    return [QuoteRead(zone_id=q.zone_id, rate_id=q.rate_id, name=q.name, cost=q.cost,
                      is_free=q.is_free, min_delivery_days=q.min_delivery_days,
                      max_delivery_days=q.max_delivery_days) for q in quotes]

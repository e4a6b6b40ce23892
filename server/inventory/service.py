"""Stock: the append-only movement ledger and the ``Variant.stock_quantity`` projection.

Every change of stock goes through :func:`move_stock`: one atomic
``UPDATE variant SET stock_quantity = stock_quantity + :delta ... RETURNING stock_quantity``
and one ``InventoryAdjustment`` row, in the caller's transaction (services never commit).
The relative update cannot lose a concurrent movement (no read-modify-write), and the row it
locks until commit orders concurrent movers of the same variant on PostgreSQL.

``move_stock`` records no audit row: the caller audits its own action (an adjustment, an
order, a pushed till operation); the ledger row itself says who moved what and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server.audit import service as audit
from server.catalog.models import Product, Variant
from server.db.base import utcnow
from server.errors import Conflict, Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.inventory.models import AdjustmentReason, InventoryAdjustment

__all__ = ["InsufficientStock", "adjust", "count", "low_stock", "move_stock", "movements"]


class InsufficientStock(Conflict):
    """``allow_negative=False`` and the movement would take stock below zero."""

    default_code = "insufficient_stock"
    default_title = "Not enough stock"


def move_stock(
    session: Session,
    *,
    store_id: str,
    variant_id: str,
    delta: int,
    reason: AdjustmentReason | str,
    order_id: str | None = None,
    user_id: str | None = None,
    note: str | None = None,
    allow_negative: bool = True,
    now: datetime | None = None,
    ip_address: str | None = None,
    user_agent: str | None = None,
) -> InventoryAdjustment:
    """Add ``delta`` (signed) to a variant's stock and append the ledger row; returns the row.

    - ``allow_negative=False`` makes the update conditional (``stock_quantity + delta >= 0``,
      untracked variants exempt) and raises :class:`InsufficientStock` when it would not hold;
      the default lets stock go negative (a till's offline sale is never refused, §3).
    - Raises ``NotFound`` for a variant that is not the store's (or deleted).
    - ``now`` dates the ledger row (pass the app clock's time); the database default otherwise.
    """
    reason = AdjustmentReason(reason)
    stmt = (
        update(Variant)
        .where(Variant.id == variant_id, Variant.store_id == store_id,
               Variant.deleted_at.is_(None))
        .values(stock_quantity=Variant.stock_quantity + delta,
                updated_at=now if now is not None else utcnow())
        .returning(Variant.stock_quantity)
        .execution_options(synchronize_session=False)
    )
    if not allow_negative and delta < 0:
        stmt = stmt.where((Variant.stock_quantity + delta >= 0)
                          | Variant.track_inventory.is_(False))
    new_quantity = session.execute(stmt).scalar_one_or_none()
    if new_quantity is None:
        variant = session.get(Variant, variant_id)
        if variant is None or variant.store_id != store_id or variant.deleted_at is not None:
            raise NotFound("There is no such variant in this store.", code="variant_not_found")
        raise InsufficientStock(
            f"Only {variant.stock_quantity} of SKU {variant.sku} in stock; "
            f"{-delta} requested.", sku=variant.sku, available=variant.stock_quantity)
    # Keep an already-loaded Variant in step without expiring its other attributes.
    loaded = session.identity_map.get(session.identity_key(Variant, variant_id))
    if loaded is not None:
        set_committed_value(loaded, "stock_quantity", new_quantity)
    row = InventoryAdjustment(
        store_id=store_id, variant_id=variant_id, quantity_change=delta,
        new_quantity=new_quantity, reason=reason, notes=note, user_id=user_id,
        order_id=order_id, ip_address=ip_address, user_agent=user_agent,
    )
    if now is not None:
        row.created_at = now
        row.updated_at = now
    session.add(row)
    session.flush()
    return row


# ---- back-office stock work -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountResult:
    variant_id: str
    sku: str
    on_hand_before: int
    counted: int
    delta: int
    new_quantity: int
    movement_id: str


@dataclass(frozen=True, slots=True)
class MovementFilter:
    variant_id: str | None = None
    product_id: str | None = None
    reason: AdjustmentReason | None = None
    order_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _variant_ref(session: Session, variant_id: str, field: str, *, lock: bool = False
                 ) -> Variant:
    stmt = (select(Variant).join(Product, Product.id == Variant.product_id)
            .where(Variant.id == variant_id, Variant.deleted_at.is_(None),
                   Product.deleted_at.is_(None)))
    variant = session.scalar(stmt.with_for_update(of=Variant) if lock else stmt)
    if variant is None:
        raise Invalid(f"{field}: there is no variant {variant_id} in this store",
                      code="unknown_reference",
                      errors=[{"location": ["body", *field.split(".")], "field": field,
                               "message": f"there is no variant {variant_id} in this store",
                               "type": "unknown_reference"}])
    return variant


def adjust(
    session: Session, *, actor: Principal, store_id: str, variant_id: str, delta: int,
    reason: AdjustmentReason | str, note: str | None, now: datetime, meta: RequestMeta,
) -> InventoryAdjustment:
    """A manual stock movement (received, damaged, stolen, corrected...)."""
    variant = _variant_ref(session, variant_id, "variant_id")
    row = move_stock(session, store_id=store_id, variant_id=variant.id, delta=delta,
                     reason=reason, user_id=actor.user_id, note=note, now=now,
                     ip_address=meta.ip, user_agent=meta.user_agent)
    audit.record(session, actor=actor, action="inventory.adjust", entity_type="variant",
                 entity_id=variant.id, request_meta=meta,
                 after={"movement_id": row.id, "sku": variant.sku, "delta": delta,
                        "reason": row.reason, "new_quantity": row.new_quantity})
    return row


def count(
    session: Session, *, actor: Principal, store_id: str,
    items: Sequence[tuple[str, int, int | None]], note: str | None, now: datetime,
    meta: RequestMeta,
) -> list[CountResult]:
    """Record counted quantities ``(variant_id, counted, seen)``: each line becomes a
    CORRECTION movement of ``counted - seen`` (or ``counted - on hand`` without ``seen``),
    zero included, so the ledger shows every count."""
    seen_ids: dict[str, int] = {}
    for i, (variant_id, _, _) in enumerate(items):
        if variant_id in seen_ids:
            raise Invalid(f"items.{i}.variant_id: is counted twice (also items."
                          f"{seen_ids[variant_id]})", code="duplicate_variant",
                          errors=[{"location": ["body", "items", str(i), "variant_id"],
                                   "field": f"items.{i}.variant_id",
                                   "message": "counted twice in this request",
                                   "type": "duplicate_variant"}])
        seen_ids[variant_id] = i
    results: dict[str, CountResult] = {}
    # Lock in a fixed order (by id) so two concurrent counts cannot deadlock on PostgreSQL.
    for variant_id, counted, seen in sorted(items, key=lambda it: it[0]):
        variant = _variant_ref(session, variant_id, f"items.{seen_ids[variant_id]}.variant_id",
                               lock=True)
        on_hand = variant.stock_quantity
        delta = counted - (seen if seen is not None else on_hand)
        text = f"Stock count: counted {counted}" + (
            f", {seen} shown" if seen is not None else f", {on_hand} on hand")
        row = move_stock(session, store_id=store_id, variant_id=variant.id, delta=delta,
                         reason=AdjustmentReason.CORRECTION, user_id=actor.user_id,
                         note=f"{text}. {note}" if note else text, now=now,
                         ip_address=meta.ip, user_agent=meta.user_agent)
        results[variant_id] = CountResult(variant.id, variant.sku, on_hand, counted, delta,
                                          row.new_quantity, row.id)
    ordered = [results[variant_id] for variant_id, _, _ in items]
    audit.record(session, actor=actor, action="inventory.count", entity_type="stock_count",
                 entity_id=None, request_meta=meta,
                 after={"note": note, "lines": [
                     {"variant_id": r.variant_id, "sku": r.sku, "counted": r.counted,
                      "delta": r.delta, "movement_id": r.movement_id} for r in ordered]})
    return ordered


def movements(
    session: Session, *, flt: MovementFilter, page: int, page_size: int
) -> tuple[Sequence[InventoryAdjustment], int]:
    """One page of the ledger, newest first, and the total that match."""
    stmt = select(InventoryAdjustment)
    if flt.variant_id:
        stmt = stmt.where(InventoryAdjustment.variant_id == flt.variant_id)
    if flt.product_id:
        stmt = stmt.where(InventoryAdjustment.variant_id.in_(
            select(Variant.id).where(Variant.product_id == flt.product_id)))
    if flt.reason:
        stmt = stmt.where(InventoryAdjustment.reason == flt.reason)
    if flt.order_id:
        stmt = stmt.where(InventoryAdjustment.order_id == flt.order_id)
    if flt.since:
        stmt = stmt.where(InventoryAdjustment.created_at >= flt.since)
    if flt.until:
        stmt = stmt.where(InventoryAdjustment.created_at < flt.until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(InventoryAdjustment.created_at.desc(),
                                         InventoryAdjustment.id.desc())
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return rows, int(total)


def low_stock(
    session: Session, *, page: int, page_size: int
) -> tuple[list[tuple[Variant, str]], int]:
    """Tracked, active, live variants at or below their threshold, emptiest first."""
    stmt = (select(Variant, Product.name).join(Product, Product.id == Variant.product_id)
            .where(Variant.deleted_at.is_(None), Product.deleted_at.is_(None),
                   Variant.track_inventory.is_(True), Variant.is_active.is_(True),
                   Variant.stock_quantity <= Variant.low_stock_threshold))
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Variant.id).subquery())) or 0
    rows = session.execute(stmt.order_by(Variant.stock_quantity, Variant.sku, Variant.id)
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return [(v, name) for v, name in rows], int(total)

"""``stock.adjust`` and ``stock.count``: stock work done at a till, as ledger deltas.

Stock is a ledger of deltas, never last-write-wins (product-decisions §6):

- ``stock.adjust`` applies the till's signed change with its reason (RESTOCK, DAMAGE, THEFT,
  CORRECTION, RETURN, MANUAL; anything else is recorded as MANUAL with the till's reason in
  the note);
- ``stock.count`` turns an absolute count into a delta relative to what the counter saw:
  ``counted - seen_on_hand``. Sales pushed by other tills after the count stay counted
  (sync-anchors §2.10). A count that matches what was seen is still recorded (a zero
  movement: the ledger shows the count happened).

Both keep the till's movement id as the ``InventoryAdjustment`` id and flag stock below zero.
An unknown variant cannot be stored: the op is quarantined.
"""

from __future__ import annotations

from sqlalchemy import select

from server.catalog.models import Variant
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.pos import ingest_common as common
from stormcom_pos.domain.sync_payloads import StockAdjust, StockCount


def _variant(ctx: common.OpContext, variant_id: str) -> Variant:
    variant = ctx.session.scalar(select(Variant).where(Variant.id == variant_id))
    if variant is None:
        raise common.OpRefused("unknown_variant", f"variant {variant_id} is not in this store")
    return variant


def _recorded(ctx: common.OpContext, movement_id: str) -> InventoryAdjustment | None:
    return ctx.session.get(InventoryAdjustment, movement_id)


def adjust(ctx: common.OpContext, data: StockAdjust) -> common.Outcome:
    if (done := _recorded(ctx, data.movement_id)) is not None:
        return common.Outcome("inventory_adjustment", done.id,
                              {"movement_id": done.id, "already_recorded": True})
    variant = _variant(ctx, data.variant_id)
    user_id = common.staff(ctx, ctx.op.staff_id, "inventory_adjustment", data.movement_id)
    try:
        reason = AdjustmentReason(data.reason.upper())
        note = data.note
    except ValueError:
        reason = AdjustmentReason.MANUAL
        note = f"{data.reason}: {data.note}" if data.note else data.reason
    level = common.move_stock(ctx, variant, data.quantity_change, reason=reason,
                              movement_id=data.movement_id, user_id=user_id,
                              note=f"POS: {note}" if note else "POS adjustment",
                              entity=("inventory_adjustment", data.movement_id),
                              reported=True)
    return common.Outcome("inventory_adjustment", data.movement_id,
                          {"movement_id": data.movement_id, "stock_quantity": level})


def count(ctx: common.OpContext, data: StockCount) -> common.Outcome:
    if (done := _recorded(ctx, data.count_id)) is not None:
        return common.Outcome("inventory_adjustment", done.id,
                              {"movement_id": done.id, "already_recorded": True})
    variant = _variant(ctx, data.variant_id)
    user_id = common.staff(ctx, ctx.op.staff_id, "inventory_adjustment", data.count_id)
    delta = data.counted - data.seen_on_hand
    level = common.move_stock(
        ctx, variant, delta, reason=AdjustmentReason.CORRECTION, movement_id=data.count_id,
        user_id=user_id, note=f"POS count: {data.counted} counted, {data.seen_on_hand} seen",
        entity=("inventory_adjustment", data.count_id), reported=True)
    return common.Outcome("inventory_adjustment", data.count_id, {
        "movement_id": data.count_id, "delta": delta, "stock_quantity": level})

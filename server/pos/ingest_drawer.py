"""``drawer.open``, ``cash.move`` and ``drawer.close``: the cash drawer's facts.

- ``drawer.open`` records the session with the till's id, float and time. If an op of the same
  session arrived first (pushed from another terminal), the placeholder it created is filled
  in now.
- ``cash.move`` records a PAY_IN, PAY_OUT or DROP with the till's id. After the close it is
  flagged ``late_after_close`` and the session's expected cash and variance are recomputed.
- ``drawer.no_sale`` records that the drawer was opened without a sale: the push service's
  audit row (action ``pos.drawer.no_sale``) is the record, with who, who approved and why;
  after the close it is flagged ``late_after_close`` like any drawer op.
- ``drawer.close`` recomputes expected cash from the facts the server holds, with the shared
  rule (``stormcom_pos.domain.cash``: float + cash sales - cash refunds + pay-ins - pay-outs -
  drops), checks the count by denomination, and stores the till's counted total. A till
  figure that differs from the server's is flagged ``cash_drift`` (the server's is stored); an
  over/short ``cash_variance``; a total that differs from the denominations ``count_mismatch``.
"""

from __future__ import annotations

from sqlalchemy import select

from server.pos import ingest_common as common
from server.pos.anomaly_models import AnomalyKind
from server.pos.models import PosCashMovement, PosSession
from stormcom_pos.domain import cash
from stormcom_pos.domain.enums import PosSessionStatus
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.sync_payloads import CashMove, DrawerClose, DrawerNoSale, DrawerOpen


def open_(ctx: common.OpContext, data: DrawerOpen) -> common.Outcome:
    if data.opening_float < ZERO:
        raise common.OpRefused("invalid_float", "an opening float cannot be negative")
    common.check_clock(ctx, data.opened_at, "pos_session", data.pos_session_id)
    user_id = common.required_staff(ctx, data.cashier_id, "pos_session", data.pos_session_id)
    existing = ctx.session.scalar(select(PosSession).where(PosSession.id == data.pos_session_id)
                                  .with_for_update())
    result = {"pos_session_id": data.pos_session_id}
    if existing is not None:
        if existing.notes == common.PLACEHOLDER_NOTE:
            existing.user_id = user_id
            existing.opening_cash = data.opening_float
            existing.opened_at = data.opened_at
            existing.notes = None
            if existing.status is PosSessionStatus.CLOSED:
                common.recompute_closed(ctx, existing)
            return common.Outcome("pos_session", existing.id, {**result, "filled_in": True})
        return common.Outcome("pos_session", existing.id, {**result, "already_recorded": True})
    ctx.session.add(PosSession(
        id=data.pos_session_id, store_id=ctx.store_id, user_id=user_id, device_id=ctx.device.id,
        status=PosSessionStatus.OPEN, opened_at=data.opened_at, opening_cash=data.opening_float,
        created_at=ctx.now, updated_at=ctx.now))
    return common.Outcome("pos_session", data.pos_session_id, result)


def move(ctx: common.OpContext, data: CashMove) -> common.Outcome:
    existing = ctx.session.get(PosCashMovement, data.movement_id)
    if existing is not None:
        return common.Outcome("pos_cash_movement", existing.id,
                              {"movement_id": existing.id, "already_recorded": True})
    user_id = common.required_staff(ctx, data.user_id, "pos_cash_movement", data.movement_id)
    common.staff(ctx, data.approved_by, "pos_cash_movement", data.movement_id)
    drawer = common.drawer(ctx, data.pos_session_id, data.user_id, "pos_cash_movement",
                           data.movement_id, lock=True)
    late = common.flag_if_closed(ctx, drawer, "pos_cash_movement", data.movement_id)
    reason = f"{data.reason} (approved by {data.approved_by})" if data.approved_by else data.reason
    ctx.session.add(PosCashMovement(
        id=data.movement_id, store_id=ctx.store_id, pos_session_id=drawer.id, type=data.type,
        amount=data.amount, reason=reason, user_id=user_id, occurred_at=ctx.op.occurred_at,
        created_at=ctx.now, updated_at=ctx.now))
    if late:
        common.recompute_closed(ctx, drawer)
    return common.Outcome("pos_cash_movement", data.movement_id,
                          {"movement_id": data.movement_id})


def no_sale(ctx: common.OpContext, data: DrawerNoSale) -> common.Outcome:
    common.required_staff(ctx, data.user_id, "pos_session", data.pos_session_id)
    approver = common.staff(ctx, data.approved_by, "pos_session", data.pos_session_id)
    drawer = common.drawer(ctx, data.pos_session_id, data.user_id, "pos_session",
                           data.pos_session_id)
    common.flag_if_closed(ctx, drawer, "pos_session", drawer.id)
    return common.Outcome("pos_session", drawer.id, {
        "event_id": data.event_id, "pos_session_id": drawer.id, "user_id": data.user_id,
        "approved_by": approver, "reason": data.reason,
        "opened_at": data.opened_at.isoformat()})


def close(ctx: common.OpContext, data: DrawerClose) -> common.Outcome:
    closer = common.staff(ctx, data.closed_by, "pos_session", data.pos_session_id)
    drawer = common.drawer(ctx, data.pos_session_id, data.closed_by, "pos_session",
                           data.pos_session_id, lock=True)
    if drawer.status is PosSessionStatus.CLOSED:
        return common.Outcome("pos_session", drawer.id,
                              {"pos_session_id": drawer.id, "already_closed": True})
    common.check_clock(ctx, data.closed_at, "pos_session", drawer.id)
    ctx.session.flush()
    count = cash.count_cash(ctx.currency, data.counted_by_denomination)
    if count.total != data.counted_total:
        ctx.flag(AnomalyKind.COUNT_MISMATCH, "pos_session", drawer.id,
                 counted_total=data.counted_total, denominations_total=count.total)
    summary = common.cash_summary(ctx, drawer)
    if summary.expected != data.expected_cash:
        ctx.flag(AnomalyKind.CASH_DRIFT, "pos_session", drawer.id,
                 till_expected=data.expected_cash, server_expected=summary.expected)
    difference = cash.over_short(data.counted_total, summary.expected, ctx.currency)
    if difference != ZERO:
        ctx.flag(AnomalyKind.CASH_VARIANCE, "pos_session", drawer.id, counted=data.counted_total,
                 expected=summary.expected, difference=difference)
    drawer.status = PosSessionStatus.CLOSED
    drawer.closed_at = data.closed_at
    drawer.closed_by_id = closer
    drawer.closing_cash = data.counted_total
    drawer.expected_cash = summary.expected
    drawer.cash_difference = difference
    drawer.counted_by_denomination = cash.counts_to_json(count)
    drawer.blind_close = data.blind
    return common.Outcome("pos_session", drawer.id, {
        "pos_session_id": drawer.id, "expected_cash": format(summary.expected, "f"),
        "cash_difference": format(difference, "f"), "z_number": data.z_number})

"""Drawer sessions from the back office: open, cash movements, X data, and the blind close.

The figures come from the shared cash rules only: expected cash = opening float + cash sales
- cash refunds + pay-ins - pay-outs - drops (``summarize_cash``, through the X report), and
change given is never counted as takings (a cash payment's ``amount`` is what was kept). The
close is blind by default: the count by denomination is recorded first, and the expected
figure and the over/short are only answered with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.clock import as_utc
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.identity.principal import Principal, RequestMeta
from server.orders import settings as store_settings
from server.orders.models import Order
from server.payments.models import Payment, Refund
from server.pos.models import Device, DeviceStatus, PosCashMovement, PosSession
from server.stores.models import Store
from stormcom_pos.domain import cash as cash_rules
from stormcom_pos.domain import cash_reports as reports
from stormcom_pos.domain.enums import (
    CashMovementType,
    OrderStatus,
    PaymentMethod,
    PaymentTransactionStatus,
    PosSessionStatus,
    RefundStatus,
)

_KEPT = (PaymentTransactionStatus.CAPTURED, PaymentTransactionStatus.PARTIALLY_REFUNDED,
         PaymentTransactionStatus.REFUNDED)


def get(session: Session, *, pos_session_id: str, lock: bool = False) -> PosSession:
    stmt = select(PosSession).where(PosSession.id == pos_session_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = session.scalar(stmt)
    if found is None:
        raise NotFound("There is no such drawer session.", code="pos_session_not_found")
    return found


def list_(session: Session, *, status: PosSessionStatus | None, device_id: str | None,
          user_id: str | None, since: datetime | None, until: datetime | None, page: int,
          page_size: int) -> tuple[Sequence[PosSession], int]:
    """One page of drawer sessions, latest opened first."""
    stmt = select(PosSession)
    for column, value in ((PosSession.status, status), (PosSession.device_id, device_id),
                          (PosSession.user_id, user_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(PosSession.opened_at >= since)
    if until is not None:
        stmt = stmt.where(PosSession.opened_at < until)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(PosSession.opened_at.desc(), PosSession.id)
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return rows, int(total)


def _open_only(drawer: PosSession) -> None:
    if drawer.status is not PosSessionStatus.OPEN:
        raise Conflict("This drawer session is closed.", code="pos_session_closed")


def open_(session: Session, *, actor: Principal, device_id: str, opening_cash: Decimal,
          blind_close: bool, notes: str | None, now: datetime, meta: RequestMeta) -> PosSession:
    """Open a drawer at a terminal with its counted float (one open session per terminal)."""
    if actor.user_id is None:
        raise Forbidden("Only a staff member opens a drawer.", code="permission_denied")
    device = session.get(Device, device_id)
    if device is None or device.status is not DeviceStatus.ACTIVE:
        raise Invalid("device_id: there is no active terminal with that id.",
                      code="device_not_found")
    session.execute(select(Device.id).where(Device.id == device.id).with_for_update())
    if session.scalar(select(PosSession.id).where(PosSession.device_id == device.id,
                                                  PosSession.status == PosSessionStatus.OPEN)):
        raise Conflict(f"Terminal {device.name} already has an open drawer session.",
                       code="pos_session_already_open")
    drawer = PosSession(device_id=device.id, user_id=actor.user_id, opening_cash=opening_cash,
                        blind_close=blind_close, notes=notes, opened_at=now,
                        status=PosSessionStatus.OPEN)
    session.add(drawer)
    session.flush()
    audit.record(session, actor=actor, action="pos_session.open", entity_type="pos_session",
                 entity_id=drawer.id, after=audit.snapshot(drawer), request_meta=meta)
    return drawer


def move_cash(session: Session, *, actor: Principal, pos_session_id: str,
              kind: CashMovementType, amount: Decimal, reason: str, now: datetime,
              meta: RequestMeta) -> PosCashMovement:
    """A pay-in, pay-out or drop to the safe in an open drawer."""
    if actor.user_id is None:
        raise Forbidden("Only a staff member moves cash.", code="permission_denied")
    drawer = get(session, pos_session_id=pos_session_id, lock=True)
    _open_only(drawer)
    movement = PosCashMovement(store_id=drawer.store_id, pos_session_id=drawer.id, type=kind,
                               amount=amount, reason=reason, user_id=actor.user_id,
                               occurred_at=now)
    session.add(movement)
    session.flush()
    audit.record(session, actor=actor, action="pos_session.cash_movement",
                 entity_type="pos_cash_movement", entity_id=movement.id,
                 after=audit.snapshot(movement), request_meta=meta)
    return movement


def movements(session: Session, *, drawer: PosSession) -> Sequence[PosCashMovement]:
    return session.scalars(select(PosCashMovement).where(
        PosCashMovement.pos_session_id == drawer.id)
        .order_by(PosCashMovement.occurred_at, PosCashMovement.id)).all()


def _d(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except ArithmeticError:
        return Decimal(0)


def shift_data(session: Session, *, drawer: PosSession, currency: str) -> reports.ShiftData:
    """Everything the session recorded, as the shared reports read it."""
    sales = [
        reports.SaleRecord(
            receipt_number=o.receipt_number or o.order_number,
            at=as_utc(o.occurred_at or o.created_at), cashier_id=o.cashier_id or "",
            net=o.total - o.tax_amount, discount=o.discount_amount,
            taxes=tuple(reports.TaxPortion(str(t.get("name", "")), _d(t.get("rate", 0)),
                                           _d(t.get("base", 0)), _d(t.get("amount", 0)))
                        for t in o.tax_lines or []),
        )
        for o in session.scalars(select(Order).where(Order.pos_session_id == drawer.id,
                                                     Order.status != OrderStatus.CANCELED))
    ]
    refunds = session.scalars(select(Refund).where(Refund.pos_session_id == drawer.id,
                                                   Refund.status == RefundStatus.COMPLETED)).all()
    returns = [reports.ReturnRecord(r.id, as_utc(r.occurred_at or r.created_at),
                                    r.user_id or "", r.amount - r.tax_amount)
               for r in refunds]
    tenders = [
        reports.TenderRecord(as_utc(p.occurred_at or p.paid_at or p.created_at), "",
                             p.method, p.amount, p.tendered_amount)
        for p in session.scalars(select(Payment).where(Payment.pos_session_id == drawer.id,
                                                       Payment.status.in_(_KEPT)))
    ] + [
        reports.TenderRecord(as_utc(r.occurred_at or r.created_at), r.user_id or "",
                             r.tender or PaymentMethod.OTHER, r.amount, is_refund=True)
        for r in refunds
    ]
    moved = [cash_rules.CashMovement(m.type, m.amount, m.reason or "")
             for m in movements(session, drawer=drawer)]
    return reports.ShiftData(drawer.id, currency, as_utc(drawer.opened_at), drawer.opening_cash,
                             tuple(sales), tuple(returns), tuple(tenders), tuple(moved))


def x_data(session: Session, *, drawer: PosSession, store: Store,
           now: datetime) -> reports.ShiftReport:
    """The X report of a session (any time; changes nothing)."""
    return reports.x_report(shift_data(session, drawer=drawer, currency=store.currency), now)


def close(session: Session, *, actor: Principal, pos_session_id: str, store: Store,
          counts: dict[str, int], notes: str | None, now: datetime,
          meta: RequestMeta) -> tuple[PosSession, reports.ShiftReport, bool]:
    """Close with a blind count by denomination; returns the session, the report (with
    expected cash and over/short) and whether the difference needs a manager's sign-off."""
    drawer = get(session, pos_session_id=pos_session_id, lock=True)
    _open_only(drawer)
    count = cash_rules.count_cash(store.currency, counts)
    report = x_data(session, drawer=drawer, store=store, now=now)
    difference = cash_rules.over_short(count.total, report.cash.expected, store.currency)
    before = audit.snapshot(drawer)
    drawer.status = PosSessionStatus.CLOSED
    drawer.closed_at, drawer.closed_by_id = now, actor.user_id
    drawer.closing_cash, drawer.expected_cash = count.total, report.cash.expected
    drawer.cash_difference = difference
    drawer.counted_by_denomination = cash_rules.counts_to_json(count)
    drawer.transaction_count, drawer.total_sales = report.sales_count, report.sales_total
    if notes:
        drawer.notes = f"{drawer.notes}\n{notes}" if drawer.notes else notes
    session.flush()
    audit.record(session, actor=actor, action="pos_session.close", entity_type="pos_session",
                 entity_id=drawer.id, before=before, after=audit.snapshot(drawer),
                 request_meta=meta)
    sign_off = cash_rules.needs_sign_off(difference, store_settings.cash_tolerance(store))
    return drawer, report, sign_off

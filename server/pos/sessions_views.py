"""Drawer sessions in the back office: open, cash movements, X data, blind close."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.api.deps import CurrentStore, MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.clock import as_utc
from server.idempotency.deps import IdempotencyDep
from server.identity.principal import Principal
from server.pos import sessions_service
from server.pos.models import PosCashMovement, PosSession
from server.pos.sessions_schemas import (
    CashLine,
    CashMovementIn,
    CashMovementRead,
    CloseResult,
    SessionClose,
    SessionOpen,
    SessionPage,
    SessionRead,
    TaxLine,
    TenderLine,
    XData,
)
from stormcom_pos.domain.cash_reports import ShiftReport
from stormcom_pos.domain.enums import PosSessionStatus

router = APIRouter(prefix="/pos/sessions", tags=["pos"])
Reader = Annotated[Principal, require_permission("reports.read")]
MOVES = problem_responses(400, 401, 403, 404, 409, 422)
ITEM = "/{pos_session_id}"


def session_read(drawer: PosSession) -> SessionRead:
    return SessionRead.model_validate(drawer, from_attributes=True)


def _movement(movement: PosCashMovement) -> CashMovementRead:
    return CashMovementRead.model_validate(movement, from_attributes=True)


def _x(report: ShiftReport) -> XData:
    cash = report.cash
    return XData(
        session_id=report.session_id, currency=report.currency,
        generated_at=report.generated_at, sales_count=report.sales_count,
        sales_total=report.sales_total, sales_tax=report.sales_tax, discounts=report.discounts,
        refunds_count=report.refunds_count, refunds_total=report.refunds_total,
        net_total=report.net_total,
        by_tender=[TenderLine(tender=t.tender, payments=t.payments, taken=t.taken,
                              refunded=t.refunded, change_given=t.change_given)
                   for t in report.by_tender],
        by_tax_rate=[TaxLine(name=t.name, rate=t.rate, taxable=t.taxable, tax=t.tax,
                             refunded_tax=t.refunded_tax) for t in report.by_tax_rate],
        cash=CashLine(opening_float=cash.opening_float, cash_sales=cash.cash_sales,
                      cash_refunds=cash.cash_refunds, pay_ins=cash.pay_ins,
                      pay_outs=cash.pay_outs, drops=cash.drops, expected=cash.expected),
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value).astimezone(UTC)


@router.get("", response_model=SessionPage, responses=problem_responses(400, 401, 403, 422))
def list_sessions(
    _: Reader,
    db: SessionDep,
    status: PosSessionStatus | None = None,
    device_id: Annotated[str | None, Query(max_length=32)] = None,
    user_id: Annotated[str | None, Query(max_length=32)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> SessionPage:
    """Drawer sessions, latest opened first."""
    rows, total = sessions_service.list_(db, status=status, device_id=device_id,
                                         user_id=user_id, since=_utc(since), until=_utc(until),
                                         page=page, page_size=page_size)
    return SessionPage(items=[session_read(s) for s in rows], total=total, page=page,
                       page_size=page_size)


@router.post("", response_model=SessionRead, status_code=201, responses=MOVES)
def open_session(idem: IdempotencyDep, body: SessionOpen,
                 actor: Annotated[Principal, require_permission("pos.open_drawer_session")],
                 db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Open a terminal's drawer with its counted float."""
    return idem.run(db, actor, body, 201, lambda: session_read(sessions_service.open_(
        db, actor=actor, device_id=body.device_id, opening_cash=body.opening_cash,
        blind_close=body.blind_close, notes=body.notes, now=now, meta=meta)))


@router.get(ITEM, response_model=SessionRead, responses=problem_responses(400, 401, 403, 404))
def get_session(pos_session_id: str, _: Reader, db: SessionDep) -> SessionRead:
    """One drawer session (expected cash appears only once it is counted)."""
    return session_read(sessions_service.get(db, pos_session_id=pos_session_id))


@router.get(ITEM + "/cash-movements", response_model=list[CashMovementRead],
            responses=problem_responses(400, 401, 403, 404))
def list_movements(pos_session_id: str, _: Reader, db: SessionDep) -> list[CashMovementRead]:
    """Pay-ins, pay-outs and drops of a session."""
    drawer = sessions_service.get(db, pos_session_id=pos_session_id)
    return [_movement(m) for m in sessions_service.movements(db, drawer=drawer)]


@router.post(ITEM + "/cash-movements", response_model=CashMovementRead, status_code=201,
             responses=MOVES)
def move_cash(idem: IdempotencyDep, pos_session_id: str, body: CashMovementIn,
              actor: Annotated[Principal, require_permission("pos.cash_movement")],
              db: SessionDep, now: NowDep, meta: MetaDep) -> Any:
    """Record a PAY_IN, PAY_OUT or DROP in an open drawer."""
    return idem.run(db, actor, body, 201, lambda: _movement(sessions_service.move_cash(
        db, actor=actor, pos_session_id=pos_session_id, kind=body.type, amount=body.amount,
        reason=body.reason, now=now, meta=meta)))


@router.get(ITEM + "/x-report", response_model=XData,
            responses=problem_responses(400, 401, 403, 404))
def x_report(pos_session_id: str, _: Reader, db: SessionDep, store: CurrentStore,
             now: NowDep) -> XData:
    """X data: sales, refunds, tenders, taxes and expected cash so far (changes nothing)."""
    drawer = sessions_service.get(db, pos_session_id=pos_session_id)
    return _x(sessions_service.x_data(db, drawer=drawer, store=store, now=now))


@router.post(ITEM + "/close", response_model=CloseResult, responses=MOVES)
def close_session(idem: IdempotencyDep, pos_session_id: str, body: SessionClose,
                  actor: Annotated[Principal, require_permission("pos.close_till")],
                  db: SessionDep, store: CurrentStore, now: NowDep, meta: MetaDep) -> Any:
    """Close with a blind count by denomination; the answer reveals expected cash and the
    over (+) or short (-)."""
    def work() -> CloseResult:
        drawer, report, sign_off = sessions_service.close(
            db, actor=actor, pos_session_id=pos_session_id, store=store,
            counts=body.counted_by_denomination, notes=body.notes, now=now, meta=meta)
        return CloseResult(session=session_read(drawer), counted=drawer.closing_cash,
                           expected=report.cash.expected, difference=drawer.cash_difference,
                           needs_sign_off=sign_off)

    return idem.run(db, actor, body, 200, work)

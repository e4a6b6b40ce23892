"""The cash drawer session: open with a float, pay-ins, pay-outs and drops, no-sale, the X report,
and the blind close with its Z report (printed, and saved as a PDF)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from stormcom_pos.domain.cash import (
    count_cash,
    counts_to_json,
    denominations_for,
    needs_sign_off,
)
from stormcom_pos.domain.cash_reports import ShiftReport, x_report, z_report
from stormcom_pos.domain.enums import CashMovementType
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO, round_money
from stormcom_pos.domain.sync_payloads import CashMove, DrawerClose, DrawerNoSale, DrawerOpen
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.services import permissions
from stormcom_pos.services.auth import Approval, AuthService
from stormcom_pos.services.errors import DrawerAlreadyOpen, InvalidInput, NoOpenDrawer
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.receipt_builder import report_payload, report_print
from stormcom_pos.services.runtime import TillRuntime
from stormcom_pos.services.shift_data import shift_data

_MOVES = {"pay_in": CashMovementType.PAY_IN, "pay_out": CashMovementType.PAY_OUT,
          "drop": CashMovementType.DROP}


@dataclass(frozen=True, slots=True)
class DrawerView:
    pos_session_id: str
    opened_at: datetime
    opening_float: Decimal
    cashier_name: str


@dataclass(frozen=True, slots=True)
class CloseResult:
    expected: Decimal
    counted: Decimal
    over_short: Decimal
    z_report: ShiftReport
    pdf_path: Path
    needs_sign_off: bool = False
    print_warning: str | None = None


@dataclass(frozen=True, slots=True)
class ClosedShift:
    """A closed drawer session with its Z, as the reprint list shows it."""

    pos_session_id: str
    z_number: int
    opened_at: datetime
    closed_at: datetime
    counted: Decimal
    cashier_name: str


@dataclass(frozen=True, slots=True)
class ReprintResult:
    z_report: ShiftReport
    print_warning: str | None = None


class DrawerService:
    def __init__(self, runtime: TillRuntime, auth: AuthService, printing: Printing) -> None:
        self._runtime = runtime
        self._auth = auth
        self._printing = printing

    def _open(self) -> DrawerOpen | None:
        with self._runtime.db.read() as conn:
            return ledger_repo.open_session(conn)

    def session_id(self) -> str:
        """The open session's id, or NoOpenDrawer."""
        drawer = self._open()
        if drawer is None:
            raise NoOpenDrawer()
        return drawer.pos_session_id

    def current(self) -> DrawerView | None:
        drawer = self._open()
        if drawer is None:
            return None
        return DrawerView(drawer.pos_session_id, self._local(drawer.opened_at),
                          drawer.opening_float, self._auth.name_of(drawer.cashier_id))

    def denominations(self) -> list[Decimal]:
        return list(denominations_for(self._runtime.rules().currency).values)

    def _count(self, counts: dict[str, int]) -> tuple[Decimal, dict[str, int]]:
        try:
            count = count_cash(self._runtime.rules().currency, counts)
        except DomainError as exc:
            raise InvalidInput("counts", str(exc)) from exc
        return count.total, counts_to_json(count)

    def open(self, opening_float: Decimal, counts: dict[str, int] | None = None) -> DrawerView:
        """Open a session with its float (counted by denomination when ``counts`` is given)."""
        cashier = self._auth.require_cashier()
        self._auth.authorize(permissions.OPEN_DRAWER_SESSION, None)
        currency = self._runtime.rules().currency
        by_denomination = None
        if counts:
            counted, by_denomination = self._count(counts)
            if opening_float is not None and opening_float != counted:
                raise InvalidInput("opening_float", f"The count adds up to {counted}, "
                                                    f"not {opening_float}.")
            opening_float = counted
        if (not isinstance(opening_float, Decimal) or not opening_float.is_finite()
                or opening_float < 0 or round_money(opening_float, currency) != opening_float):
            raise InvalidInput("opening_float", "The float must be zero or a positive amount.")
        fact = DrawerOpen(pos_session_id=new_id(), cashier_id=cashier.user_id,
                          opening_float=opening_float, counted_by_denomination=by_denomination,
                          opened_at=self._runtime.now())
        with self._runtime.db.write() as conn:
            if ledger_repo.open_session(conn) is not None:
                raise DrawerAlreadyOpen("A drawer session is already open on this till.")
            ledger_repo.open_drawer(conn, fact)
            outbox.append(conn, OpKind.DRAWER_OPEN, fact, staff_id=cashier.user_id,
                          occurred_at=fact.opened_at)
        self._runtime.poke()
        return DrawerView(fact.pos_session_id, fact.opened_at, fact.opening_float, cashier.name)

    def cash_move(self, kind: Literal["pay_in", "pay_out", "drop"], amount: Decimal, reason: str,
                  approval: Approval | None = None) -> None:
        """A pay-in, pay-out or drop with its reason; pay-outs and drops need the permission."""
        cashier = self._auth.require_cashier()
        if kind not in _MOVES:
            raise InvalidInput("kind", f"Unknown cash movement {kind!r}.")
        currency = self._runtime.rules().currency
        if (not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0
                or round_money(amount, currency) != amount):
            raise InvalidInput("amount", "The amount must be a positive amount of money.")
        if not reason.strip():
            raise InvalidInput("reason", "Give a reason.")
        approved_by = None
        if kind != "pay_in":
            approved_by = self._auth.authorize(permissions.CASH_MOVEMENT, approval)
        session_id = self.session_id()
        fact = CashMove(movement_id=new_id(), pos_session_id=session_id, type=_MOVES[kind],
                        amount=amount, reason=reason.strip(), user_id=cashier.user_id,
                        approved_by=approved_by)
        with self._runtime.db.write() as conn:
            ledger_repo.record_cash_move(conn, fact)
            outbox.append(conn, OpKind.CASH_MOVE, fact, staff_id=cashier.user_id,
                          occurred_at=self._runtime.now())
        self._runtime.poke()
        self._printing.submit("drawer", None, None, wait_s=0)

    def no_sale(self, reason: str, approval: Approval | None = None) -> None:
        """Open the drawer without a sale: needs ``pos.no_sale``; recorded as a
        ``drawer.no_sale`` outbox op, which the server keeps in its audit log."""
        cashier = self._auth.require_cashier()
        if not reason.strip():
            raise InvalidInput("reason", "Give a reason for opening the drawer.")
        approved_by = self._auth.authorize(permissions.NO_SALE, approval)
        fact = DrawerNoSale(event_id=new_id(), pos_session_id=self.session_id(),
                            user_id=cashier.user_id, approved_by=approved_by,
                            reason=reason.strip(), opened_at=self._runtime.now())
        with self._runtime.db.write() as conn:
            outbox.append(conn, OpKind.DRAWER_NO_SALE, fact, staff_id=cashier.user_id,
                          occurred_at=fact.opened_at)
        self._runtime.poke()
        self._printing.submit("drawer", None, None, wait_s=0)

    def _tz(self) -> ZoneInfo | None:
        return self._runtime.rules().zone()

    def _local(self, at: datetime) -> datetime:
        """Reports and views carry times on the store's clock (the same instants)."""
        return self._runtime.rules().local(at)

    def _names(self, report: ShiftReport) -> dict[str, str]:
        return {c.cashier_id: self._auth.name_of(c.cashier_id) for c in report.by_cashier}

    def x_report(self, print_it: bool = True) -> ShiftReport:
        """A mid-shift read; changes nothing."""
        self._auth.require_cashier()
        now = self._runtime.now()
        with self._runtime.db.read() as conn:
            drawer = ledger_repo.open_session(conn)
            if drawer is None:
                raise NoOpenDrawer()
            data = shift_data(conn, drawer, self._runtime.rules().currency, now)
        report = x_report(data, self._local(now), self._tz())
        if print_it:
            rp = report_print(report, rules=self._runtime.rules(),
                              terminal_name=self._runtime.terminal_name,
                              cashier_names=self._names(report))
            self._printing.submit("report", rp,
                                  {"kind": "X", "pos_session_id": drawer.pos_session_id,
                                   "report": report_payload(rp)})
        return report

    def close(self, counts: dict[str, int]) -> CloseResult:
        """Blind close: the count goes in first; expected cash and over/short come back."""
        cashier = self._auth.require_cashier()
        self._auth.authorize(permissions.OPEN_DRAWER_SESSION, None)
        counted, by_denomination = self._count(counts or {})
        now = self._runtime.now()
        rules = self._runtime.rules()
        with self._runtime.db.write() as conn:
            drawer = ledger_repo.open_session(conn)
            if drawer is None:
                raise NoOpenDrawer()
            data = shift_data(conn, drawer, rules.currency, now)
            z_number = ledger_repo.next_z_number(conn)
            report = z_report(data, self._local(now), counted, z_number - 1, self._tz())
            fact = DrawerClose(pos_session_id=drawer.pos_session_id, closed_by=cashier.user_id,
                               counted_by_denomination=by_denomination, counted_total=counted,
                               expected_cash=report.cash.expected, blind=True,
                               z_number=z_number, closed_at=now)
            ledger_repo.close_drawer(conn, fact)
            outbox.append(conn, OpKind.DRAWER_CLOSE, fact, staff_id=cashier.user_id,
                          occurred_at=now)
        self._runtime.poke()
        rp = report_print(report, rules=rules, terminal_name=self._runtime.terminal_name,
                          cashier_names=self._names(report))
        folder = self._runtime.data_dir / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        pdf_path = folder / f"Z-{z_number:06d}-{now:%Y%m%d-%H%M}.pdf"
        from stormcom_pos.hardware.pdf import report_pdf  # reportlab: loaded on first use

        pdf_path.write_bytes(report_pdf(rp))
        outcome = self._printing.submit(
            "report", rp, {"kind": "Z", "pos_session_id": drawer.pos_session_id,
                           "report": report_payload(rp),
                           "pdf_path": str(pdf_path)})
        over_short = report.over_short if report.over_short is not None else ZERO
        return CloseResult(
            expected=report.cash.expected, counted=counted, over_short=over_short,
            z_report=report, pdf_path=pdf_path,
            needs_sign_off=needs_sign_off(over_short, rules.cash_tolerance),
            print_warning=None if outcome.ok is not False else
            f"The Z report did not print ({outcome.error}); it is saved as {pdf_path.name} "
            "and in the reprint queue.")

    def closed_shifts(self, limit: int = 30) -> list[ClosedShift]:
        """This till's closed drawer sessions, the last Z first."""
        self._auth.require_cashier()
        with self._runtime.db.read() as conn:
            closes = ledger_repo.closed_sessions(conn, limit)
        return [ClosedShift(opened.pos_session_id, closed.z_number or 0,
                            self._local(opened.opened_at), self._local(closed.closed_at),
                            closed.counted_total,
                            self._auth.name_of(opened.cashier_id))
                for opened, closed in closes]

    def reprint_z(self, pos_session_id: str) -> ReprintResult:
        """Print an earlier Z again, marked REPRINT. It is rebuilt from the ledger as of its
        close: a closed session takes no more sales, refunds or cash movements, so the
        figures are the ones printed at the close."""
        self._auth.require_cashier()
        rules = self._runtime.rules()
        with self._runtime.db.read() as conn:
            opened = ledger_repo.drawer_opening(conn, pos_session_id)
            closed = ledger_repo.drawer_closing(conn, pos_session_id)
            if opened is None or closed is None or closed.z_number is None:
                raise InvalidInput("pos_session_id", "That drawer session has no Z report.")
            data = shift_data(conn, opened, rules.currency, closed.closed_at)
        report = z_report(data, self._local(closed.closed_at), closed.counted_total,
                          closed.z_number - 1, self._tz())
        rp = report_print(report, rules=rules, terminal_name=self._runtime.terminal_name,
                          cashier_names=self._names(report), copy_label="REPRINT")
        outcome = self._printing.submit("report", rp, {"kind": "Z",
                                                       "pos_session_id": pos_session_id,
                                                       "report": report_payload(rp)})
        return ReprintResult(report, None if outcome.ok is not False else
                             f"Z #{closed.z_number} did not print ({outcome.error}); it is "
                             "in the reprint queue.")

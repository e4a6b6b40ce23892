"""The fake drawer, receipts, status, settings and catalog services (see fakes.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stormcom_pos.domain.cash_reports import ReportKind
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.services.errors import ServiceError
from tests.terminal.ui.fake_values import (
    NOW,
    PRODUCTS,
    Approval,
    CloseResult,
    DrawerView,
    FakeHit,
    QueuedPrint,
)

if TYPE_CHECKING:
    from tests.terminal.ui.fakes import FakePos


class FakeDrawer:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.session: DrawerView | None = None
        self.cash_in = Decimal(0)
        self.moves: list[tuple[str, Decimal, str]] = []
        self.no_sales: list[str] = []
        self.x_reports = 0
        self.counts: dict[str, int] | None = None

    def current(self) -> DrawerView | None:
        return self.session

    def denominations(self) -> list[Decimal]:
        return [Decimal(v) for v in ("100", "50", "20", "10", "5", "1", "0.25", "0.10", "0.05",
                                      "0.01")]

    def open(self, opening_float: Decimal, counts: dict[str, int] | None = None) -> DrawerView:
        if self.session is not None:
            raise ServiceError("The drawer is already open.")
        cashier = self.pos.auth.current
        self.session = DrawerView("s-1", NOW, opening_float, cashier.name if cashier else "")
        self.counts = counts
        self.pos.status.record_fact()
        return self.session

    def cash_move(self, kind: str, amount: Decimal, reason: str,
                  approval: Approval | None = None) -> None:
        if kind == "pay_out":
            self.pos.auth.authorize("pos.cash.pay_out", approval, "A pay-out")
        self.moves.append((kind, amount, reason))
        self.pos.status.record_fact()

    def no_sale(self, reason: str, approval: Approval | None = None) -> None:
        self.pos.auth.authorize("pos.no_sale", approval, "Opening the drawer without a sale")
        self.no_sales.append(reason)

    def _expected(self) -> Decimal:
        assert self.session is not None
        moved = sum((a if k == "pay_in" else -a for k, a, _ in self.moves), Decimal(0))
        return self.session.opening_float + self.cash_in + moved

    def _report(self, kind: ReportKind) -> Any:
        from stormcom_pos.domain.cash_reports import ShiftData, x_report

        assert self.session is not None
        data = ShiftData(self.session.pos_session_id, "USD", NOW, self.session.opening_float)
        report = x_report(data, NOW)
        return report if kind == ReportKind.X else report

    def x_report(self, print_it: bool = True) -> Any:
        self.x_reports += 1
        return self._report(ReportKind.X)

    def close(self, counts: dict[str, int]) -> CloseResult:
        from stormcom_pos.domain.cash import count_cash

        counted = count_cash("USD", counts).total
        expected = self._expected()
        report = self._report(ReportKind.Z)
        self.session = None
        self.pos.status.record_fact()
        return CloseResult(expected, counted, counted - expected, report,
                           Path("/tmp/z-report-0001.pdf"))


class FakeReceipts:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.printer_broken = False
        self.printed: list[str] = []
        self.queued: list[str] = []

    def print_receipt(self, number: str) -> str | None:
        if self.printer_broken:
            self.queued.append(number)
            self.pos.status.printer_ok = False
            return "The receipt printer did not answer; the receipt is in the reprint queue."
        self.printed.append(number)
        self.pos.status.printer_ok = True
        return None

    def reprint_last(self) -> None:
        if not self.pos.sales.completed:
            raise ServiceError("No receipt to reprint yet.")
        self.print_receipt(self.pos.sales.completed[-1].receipt_number)

    def reprint(self, receipt_number: str) -> None:
        self.print_receipt(receipt_number)

    def pdf(self, receipt_number: str) -> bytes:
        return b"%PDF-1.4 " + receipt_number.encode()

    def queue(self) -> list[Any]:
        return [QueuedPrint(number, "receipt", f"Receipt {number}", "not answering")
                for number in self.queued]

    def retry_queue(self) -> int:
        if self.printer_broken:
            return 0
        printed, self.queued = self.queued, []
        self.printed.extend(printed)
        return len(printed)


@dataclass
class FakeSnapshot:
    online: bool | None
    pending: int
    quarantined: int
    last_success_at: datetime | None
    last_error: str | None
    printer_ok: bool | None
    printer_message: str | None
    reprint_count: int


class FakeStatus:
    def __init__(self, pos: FakePos) -> None:
        self.pos = pos
        self.online: bool | None = True
        self.pending = 0
        self.printer_ok: bool | None = None
        self.listeners: list[Any] = []

    def snapshot(self) -> FakeSnapshot:
        return FakeSnapshot(self.online, self.pending, 0, None,
                            None if self.online else "server unreachable", self.printer_ok,
                            None if self.printer_ok is not False else "not answering",
                            len(self.pos.receipts.queued))

    def add_listener(self, callback: Any) -> None:
        self.listeners.append(callback)

    def record_fact(self) -> None:
        self.pending += 1
        if self.online:
            self.pending = 0
        self._notify_from_thread()

    def set_online(self, online: bool) -> None:
        self.online = online
        if online:
            self.pending = 0
        self._notify_from_thread()

    def _notify_from_thread(self) -> None:
        # Like the sync engine, report from a background thread.
        snapshot = self.snapshot()
        workers = [threading.Thread(target=cb, args=(snapshot,)) for cb in self.listeners]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()


class FakeSettings:
    def __init__(self) -> None:
        self.printer_config = PrinterConfig(connection="dummy")
        self.scanner_settings = (30, 6)
        self.idle_timeout_s = 300
        self.test_prints = 0

    def printer(self) -> PrinterConfig:
        return self.printer_config

    def save_printer(self, config: PrinterConfig) -> None:
        self.printer_config = config

    def test_print(self) -> None:
        if self.printer_config.connection == "network":
            raise ServiceError(f"Printer {self.printer_config.host}:9100 did not answer.")
        self.test_prints += 1

    def scanner(self) -> tuple[int, int]:
        return self.scanner_settings

    def save_scanner(self, max_gap_ms: int, min_length: int) -> None:
        self.scanner_settings = (max_gap_ms, min_length)


class FakeCatalog:
    def search(self, text: str, limit: int = 30) -> list[FakeHit]:
        words = text.lower().split()
        return [p for p in PRODUCTS
                if all(w in f"{p.name} {p.sku} {p.barcode}".lower() for w in words)][:limit]

    def quick_keys(self) -> list[tuple[str, str, list[FakeHit]]]:
        categories: dict[str, list[FakeHit]] = {}
        for product in PRODUCTS:
            categories.setdefault(product.category, []).append(product)
        return [(name.lower(), name, hits) for name, hits in categories.items()]



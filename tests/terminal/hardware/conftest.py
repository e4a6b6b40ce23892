"""Receipts to print and a loopback TCP "printer" that records what it is sent."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stormcom_pos.domain.barcodes import ReceiptNumber, encode_receipt_barcode
from stormcom_pos.domain.cash_reports import (
    SaleRecord,
    ShiftData,
    TaxPortion,
    TenderRecord,
    x_report,
    z_report,
)
from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.hardware.receipt import (
    Receipt,
    ReceiptLine,
    ReportPrint,
    TaxSummaryLine,
    TenderLine,
)

D = Decimal
RECEIPT_NO = ReceiptNumber("DEMO", 1, 123)
STATUS_ONLINE_QUERY = b"\x10\x04\x01"
STATUS_PAPER_QUERY = b"\x10\x04\x04"


def make_receipt(**changes: object) -> Receipt:
    receipt = Receipt(
        kind="sale",
        store_name="StormCom Demo Grocery",
        store_lines=("1 Market St", "San Francisco, CA"),
        logo_path=None,
        receipt_number=str(RECEIPT_NO),
        receipt_barcode=encode_receipt_barcode(RECEIPT_NO),
        created_at=datetime(2025, 3, 4, 15, 6, tzinfo=UTC),
        cashier_name="Casey Cashier",
        terminal_name="Till 1",
        lines=(
            ReceiptLine("Organic bananas", D("0.532"), D("3.99"), D("2.12"), weighed=True),
            ReceiptLine(
                "Whole milk 1 gal",
                D(2),
                D("4.50"),
                D("8.10"),
                discounts=(("WELCOME10", D("0.90")),),
            ),
        ),
        subtotal=D("10.22"),
        discount_total=D("0.90"),
        tax_lines=(TaxSummaryLine("CA State", D("0.0725"), D("10.22"), D("0.74")),),
        total=D("10.96"),
        rounding_adjustment=D("0.04"),
        tenders=(TenderLine("Cash", D("20.00")),),
        change=D("9.00"),
        currency="USD",
        footer_lines=("Thank you for shopping with us",),
    )
    return dataclasses.replace(receipt, **changes)


@pytest.fixture
def receipt() -> Receipt:
    return make_receipt()


def make_report(z: bool = False) -> ReportPrint:
    opened = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
    at = datetime(2025, 3, 4, 10, 15, tzinfo=UTC)
    shift = ShiftData(
        session_id="sess_demo_1",
        currency="USD",
        opened_at=opened,
        opening_float=D("100.00"),
        sales=(
            SaleRecord(
                "DEMO-01-000123",
                at,
                "user_casey",
                D("10.22"),
                (TaxPortion("CA State", D("0.0725"), D("10.22"), D("0.74")),),
            ),
        ),
        tenders=(TenderRecord(at, "user_casey", PaymentMethod.CASH, D("10.96"), D("20.00")),),
    )
    closed = datetime(2025, 3, 4, 18, 0, tzinfo=UTC)
    report = z_report(shift, closed, D("110.96"), 6) if z else x_report(shift, closed)
    return ReportPrint(
        report=report,
        store_name="StormCom Demo Grocery",
        terminal_name="Till 1",
        currency="USD",
        cashier_names=(("user_casey", "Casey Cashier"),),
    )


class LoopbackPrinter:
    """A TCP server on 127.0.0.1 playing a network receipt printer.

    ``mode`` "print" answers status queries with ``status`` and records every byte;
    "silent" accepts connections and then never reads nor answers.
    """

    def __init__(self, mode: str = "print", status: bytes = b"\x12") -> None:
        self.mode = mode
        self.status = status
        self.jobs: list[bytes] = []
        self._done = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._done.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            if self.mode == "silent":
                self._held.append(conn)
                continue
            with conn:
                self.jobs.append(self._receive(conn))

    def _receive(self, conn: socket.socket) -> bytes:
        conn.settimeout(10)
        data = b""
        answered = 0
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return data
            data += chunk
            # Answer the status queries that open a job, before any print data.
            while data[answered * 3 : answered * 3 + 3] in (
                STATUS_ONLINE_QUERY,
                STATUS_PAPER_QUERY,
            ):
                conn.sendall(self.status)
                answered += 1

    def wait_for_jobs(self, count: int) -> list[bytes]:
        for _ in range(200):
            if len(self.jobs) >= count:
                break
            self._done.wait(0.05)
        return self.jobs

    def close(self) -> None:
        self._done.set()
        self._thread.join(5)
        for conn in self._held:
            conn.close()
        self._server.close()


@pytest.fixture
def loopback_printer() -> Iterator[LoopbackPrinter]:
    printer = LoopbackPrinter()
    yield printer
    printer.close()


@pytest.fixture
def silent_printer() -> Iterator[LoopbackPrinter]:
    printer = LoopbackPrinter(mode="silent")
    yield printer
    printer.close()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

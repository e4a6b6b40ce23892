"""Other copies of receipts: reprint the last or any receipt, a PDF copy, and the reprint
queue of jobs the printer failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stormcom_pos.hardware.receipt import Receipt
from stormcom_pos.local_db import ledger_repo
from stormcom_pos.services.auth import AuthService
from stormcom_pos.services.errors import InvalidInput, ServiceError
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.receipt_builder import (
    refund_receipt,
    report_from_payload,
    sale_receipt,
)
from stormcom_pos.services.runtime import TillRuntime


@dataclass(frozen=True, slots=True)
class QueuedPrint:
    job_id: str
    kind: str
    label: str
    error: str


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def _label(kind: str, redo: dict[str, Any]) -> str:
    if redo.get("kind") == "sale":
        return f"Receipt {redo.get('receipt_number')}"
    if redo.get("kind") == "refund":
        return f"Refund slip {redo.get('refund_id')}"
    if redo.get("kind") in ("X", "Z"):
        return f"{redo['kind']} report"
    return kind


class ReceiptService:
    def __init__(self, runtime: TillRuntime, auth: AuthService, printing: Printing,
                 last_receipt: Callable[[], str | None]) -> None:
        self._runtime = runtime
        self._auth = auth
        self._printing = printing
        self._last_receipt = last_receipt

    def _receipt(self, receipt_number: str, copy_label: str | None) -> Receipt:
        with self._runtime.db.read() as conn:
            sale = ledger_repo.sale_by_receipt(conn, receipt_number.strip().upper())
        if sale is None:
            raise InvalidInput("receipt_number", f"No sale {receipt_number} at this till.")
        return sale_receipt(sale, rules=self._runtime.rules(),
                            cashier_name=self._auth.name_of(sale.cashier_id),
                            terminal_name=self._runtime.terminal_name, copy_label=copy_label)

    def _print(self, receipt: Receipt) -> None:
        outcome = self._printing.submit("receipt", receipt,
                                        {"kind": "sale", "receipt_number": receipt.receipt_number,
                                         "copy": True})
        if outcome.ok is False:
            raise ServiceError(f"The receipt did not print ({outcome.error}). "
                               "It is in the reprint queue.")

    def reprint_last(self) -> None:
        number = self._last_receipt()
        if number is None:
            with self._runtime.db.read() as conn:
                recent = ledger_repo.search_sales(conn, "", 1)
            number = recent[0].receipt_number if recent else None
        if number is None:
            raise InvalidInput("receipt_number", "No sale has been made at this till yet.")
        self.reprint(number)

    def reprint(self, receipt_number: str) -> None:
        self._print(self._receipt(receipt_number, "COPY"))

    def pdf(self, receipt_number: str) -> bytes:
        from stormcom_pos.hardware.pdf import receipt_pdf  # reportlab: loaded on first use

        return receipt_pdf(self._receipt(receipt_number, None))

    def _entries(self) -> list[Any]:
        with self._runtime.db.read() as conn:
            return list(ledger_repo.print_queue(conn))

    def queue(self) -> list[QueuedPrint]:
        views = []
        for row in self._entries():
            kind = str(_get(row, "kind"))
            redo = _get(row, "payload") or {}
            views.append(QueuedPrint(str(_get(row, "job_id")), kind, _label(kind, redo),
                                     str(_get(row, "error") or "")))
        return views

    def _rebuild(self, kind: str, redo: dict[str, Any]) -> Any:
        if redo.get("kind") == "sale":
            copy = "COPY" if redo.get("copy") else None
            return self._receipt(str(redo["receipt_number"]), copy)
        if redo.get("kind") == "refund":
            with self._runtime.db.read() as conn:
                sale = ledger_repo.sale(conn, str(redo["order_id"]))
                refund = next((r for r in ledger_repo.refunds_for(conn, str(redo["order_id"]))
                               if r.refund_id == redo.get("refund_id")), None)
            if sale is None or refund is None:
                return None
            return refund_receipt(refund, sale, rules=self._runtime.rules(),
                                  cashier_name=self._auth.name_of(refund.cashier_id),
                                  terminal_name=self._runtime.terminal_name,
                                  at=self._runtime.now())
        if redo.get("kind") in ("X", "Z") and isinstance(redo.get("report"), dict):
            return report_from_payload(redo["report"])
        return None

    def retry_queue(self) -> int:
        """Print every queued job again; return how many printed (the rest stay queued)."""
        printed = 0
        for row in self._entries():
            job_id, kind = str(_get(row, "job_id")), str(_get(row, "kind"))
            payload = self._printing.failed_payloads.get(job_id)
            if payload is None:
                payload = self._rebuild(kind, _get(row, "payload") or {})
            if payload is None:  # nothing left to print it from (e.g. after a restart)
                continue
            outcome = self._printing.submit(kind, payload, None)
            if outcome.ok:
                self._printing.failed_payloads.pop(job_id, None)
                with self._runtime.db.write() as conn:
                    ledger_repo.print_done(conn, job_id)
                printed += 1
            else:
                break  # the printer is still failing: keep the rest in order
        self._runtime.poke_status()
        return printed

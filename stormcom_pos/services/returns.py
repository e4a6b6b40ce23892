"""Returns: find a sale this till recorded (receipt barcode, number or search), pick lines and
quantities, and refund to the original tender or to cash, by the shared refund rules
(product-decisions §3a.12). Works offline for every sale in this till's ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from stormcom_pos.domain.barcodes import (
    InvalidBarcode,
    decode_receipt_barcode,
    is_receipt_barcode,
)
from stormcom_pos.domain.enums import PaymentMethod, RefundReason
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.refunds import RefundableLine, plan_item_refund
from stormcom_pos.domain.sync_payloads import OrderSubmit, RefundLine, RefundSubmit, SaleLine
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.services import permissions
from stormcom_pos.services.auth import Approval, AuthService
from stormcom_pos.services.errors import InvalidInput, NoOpenDrawer, RefundRefused
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.receipt_builder import refund_receipt, tender_label
from stormcom_pos.services.runtime import TillRuntime


@dataclass(frozen=True, slots=True)
class ReturnLineView:
    order_item_id: str
    name: str
    sold_qty: Decimal
    refundable_qty: Decimal
    unit_total: Decimal


@dataclass(frozen=True, slots=True)
class SaleView:
    order_id: str
    receipt_number: str
    completed_at: datetime
    total: Decimal
    lines: list[ReturnLineView]
    tenders: list[str]


@dataclass(frozen=True, slots=True)
class RefundResult:
    refund_id: str
    amount: Decimal
    receipt_number: str
    print_warning: str | None = None


def _whole(quantity: Decimal) -> bool:
    return quantity == quantity.to_integral_value()


def _refundable(line: SaleLine, refunds: list[RefundSubmit]) -> RefundableLine:
    """The line in whole units; a weighed line counts as one unit (it goes back whole)."""
    back = [r for refund in refunds for r in refund.lines if r.order_item_id == line.id]
    units = int(line.quantity) if _whole(line.quantity) else 1
    returned = sum((r.quantity for r in back), ZERO)
    returned_units = int(returned) if _whole(line.quantity) else (1 if back else 0)
    return RefundableLine(
        order_item_id=line.id, quantity=units, net=line.net, tax=line.tax,
        refunded_quantity=returned_units, refunded_net=sum((r.amount for r in back), ZERO),
        refunded_tax=sum((r.tax for r in back), ZERO), label=line.name)


class ReturnsService:
    def __init__(self, runtime: TillRuntime, auth: AuthService, printing: Printing) -> None:
        self._runtime = runtime
        self._auth = auth
        self._printing = printing

    def _view(self, conn: Any, sale: OrderSubmit) -> SaleView:
        refunds = list(ledger_repo.refunds_for(conn, sale.order_id))
        lines = []
        for line in sale.lines:
            state = _refundable(line, refunds)
            left = Decimal(state.remaining_quantity)
            if not _whole(line.quantity):
                left = line.quantity if state.remaining_quantity else ZERO
            lines.append(ReturnLineView(line.id, line.name, line.quantity, left,
                                        line.total / line.quantity))
        return SaleView(sale.order_id, sale.receipt_number,
                        self._runtime.rules().local(sale.completed_at), sale.total, lines,
                        [tender_label(p.method) for p in sale.payments])

    def find_sale(self, text: str) -> SaleView | None:
        """A sale by its receipt barcode or receipt number."""
        text = (text or "").strip().upper()
        if not text:
            return None
        number = text
        if is_receipt_barcode(text):
            try:
                number = str(decode_receipt_barcode(text))
            except InvalidBarcode as exc:
                raise InvalidInput("receipt", str(exc)) from exc
        with self._runtime.db.read() as conn:
            sale = ledger_repo.sale_by_receipt(conn, number)
            return self._view(conn, sale) if sale else None

    def search_sales(self, text: str) -> list[SaleView]:
        with self._runtime.db.read() as conn:
            return [self._view(conn, s) for s in ledger_repo.search_sales(conn, text, 30)]

    def refund(self, order_id: str, quantities: dict[str, Decimal], *,
               to: Literal["original", "cash"], reason: RefundReason, restock: bool = True,
               approval: Approval | None = None, note: str | None = None) -> RefundResult:
        cashier = self._auth.require_cashier()
        approved_by = self._auth.authorize(permissions.REFUND, approval)
        wanted = {k: Decimal(v) for k, v in quantities.items() if Decimal(v) > 0}
        if not wanted:
            raise RefundRefused("Pick at least one item to refund.")
        rules = self._runtime.rules()
        now = self._runtime.now()
        with self._runtime.db.write() as conn:
            sale = ledger_repo.sale(conn, order_id)
            if sale is None:
                raise RefundRefused("This till has no record of that sale.")
            refunds = list(ledger_repo.refunds_for(conn, order_id))
            sold = {line.id: line for line in sale.lines}
            units: dict[str, int] = {}
            for item_id, qty in wanted.items():
                line = sold.get(item_id)
                if line is None:
                    raise RefundRefused("That item is not on this sale.")
                if _whole(line.quantity):
                    if not _whole(qty):
                        raise RefundRefused(f"{line.name}: refund whole units.")
                    units[item_id] = int(qty)
                else:
                    units[item_id] = 1  # a weighed line goes back whole
            try:
                plan = plan_item_refund(
                    [_refundable(line, refunds) for line in sale.lines], units, sale.total,
                    sum((r.amount for r in refunds), ZERO), sale.currency)
            except DomainError as exc:
                raise RefundRefused(str(exc)) from exc
            tender = self._tender(sale, to)
            session = ledger_repo.open_session(conn)
            if tender is PaymentMethod.CASH and session is None:
                raise NoOpenDrawer("Open the drawer to give cash back.")
            fact = RefundSubmit(
                refund_id=new_id(), order_id=order_id,
                pos_session_id=session.pos_session_id if session else None,
                cashier_id=cashier.user_id, approved_by=approved_by, reason=reason, note=note,
                lines=[RefundLine(order_item_id=r.order_item_id,
                                  quantity=Decimal(r.quantity) if _whole(sold[r.order_item_id]
                                                                         .quantity)
                                  else sold[r.order_item_id].quantity,
                                  amount=r.net, tax=r.tax, restock=restock)
                       for r in plan.lines],
                amount=plan.amount, tax=plan.tax, tender=tender, refunded_at=now)
            ledger_repo.record_refund(conn, fact)
            outbox.append(conn, OpKind.REFUND_SUBMIT, fact, staff_id=cashier.user_id,
                          occurred_at=now)
        self._runtime.poke()
        slip = refund_receipt(fact, sale, rules=rules, cashier_name=cashier.name,
                              terminal_name=self._runtime.terminal_name, at=now)
        outcome = self._printing.submit("receipt", slip, {"kind": "refund",
                                                          "refund_id": fact.refund_id,
                                                          "order_id": order_id})
        if tender is PaymentMethod.CASH:
            self._printing.submit("drawer", None, None, wait_s=0)
        warning = None if outcome.ok is not False else (
            f"The refund slip did not print ({outcome.error}). It is in the reprint queue.")
        return RefundResult(fact.refund_id, fact.amount, sale.receipt_number, warning)

    @staticmethod
    def _tender(sale: OrderSubmit, to: str) -> PaymentMethod:
        if to == "cash":
            return PaymentMethod.CASH
        if to != "original":
            raise InvalidInput("to", "Refund to the original tender or to cash.")
        return max(sale.payments, key=lambda p: p.amount).method

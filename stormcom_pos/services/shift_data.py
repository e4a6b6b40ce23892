"""Gather one drawer session's facts from the ledger into the shared rules' ``ShiftData``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from stormcom_pos.domain.allocation import allocate
from stormcom_pos.domain.cash import CashMovement
from stormcom_pos.domain.cash_reports import (
    ReturnRecord,
    SaleRecord,
    ShiftData,
    TaxPortion,
    TenderRecord,
)
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.sync_payloads import DrawerOpen, OrderSubmit, RefundSubmit
from stormcom_pos.local_db import ledger_repo


def _sale_record(sale: OrderSubmit) -> SaleRecord:
    portions: dict[tuple[str, Decimal], list[Decimal]] = {}
    for line in sale.lines:
        for tax in line.taxes:
            entry = portions.setdefault((tax.name, tax.rate), [ZERO, ZERO])
            entry[0] += line.net
            entry[1] += tax.amount
    # The cash-rounding adjustment is money taken without tax: count it as untaxed net.
    net = sum((line.net for line in sale.lines), ZERO) + sale.rounding_adjustment
    return SaleRecord(
        receipt_number=sale.receipt_number, at=sale.completed_at, cashier_id=sale.cashier_id,
        net=net,
        taxes=tuple(TaxPortion(n, r, taxable, tax) for (n, r), (taxable, tax) in portions.items()),
        discount=sale.discount_total,
    )


def _return_record(refund: RefundSubmit, sale: OrderSubmit | None, at: datetime) -> ReturnRecord:
    """A refund's net and tax per rate: each line's refunded tax is spread over the rates
    of the original line by largest remainder, so the portions add up to the refund's tax."""
    portions: dict[tuple[str, Decimal], list[Decimal]] = {}
    sold = {line.id: line for line in sale.lines} if sale else {}
    for r in refund.lines:
        line = sold.get(r.order_item_id)
        if line is None or not line.taxes or not r.tax:
            continue
        shares = allocate(r.tax, [t.amount for t in line.taxes], sale.currency)  # type: ignore[union-attr]
        for tax, share in zip(line.taxes, shares, strict=True):
            entry = portions.setdefault((tax.name, tax.rate), [ZERO, ZERO])
            entry[0] += r.amount
            entry[1] += share
    return ReturnRecord(
        receipt_number=sale.receipt_number if sale else refund.refund_id, at=at,
        cashier_id=refund.cashier_id, net=refund.amount - refund.tax,
        taxes=tuple(TaxPortion(n, rt, taxable, tax)
                    for (n, rt), (taxable, tax) in portions.items()),
    )


def _refunds_in_session(conn: Any, session_id: str) -> list[RefundSubmit]:
    return list(ledger_repo.refunds_in_session(conn, session_id))


def shift_data(conn: Any, drawer: DrawerOpen, currency: str, now: datetime) -> ShiftData:
    """Everything recorded in one drawer session, as the shared report rules take it."""
    sid = drawer.pos_session_id
    sales = list(ledger_repo.sales_in_session(conn, sid))
    refunds = _refunds_in_session(conn, sid)
    tenders: list[TenderRecord] = []
    for sale in sales:
        for p in sale.payments:
            tenders.append(TenderRecord(sale.completed_at, sale.cashier_id, p.method, p.amount,
                                        p.tendered))
    returns = []
    for refund in refunds:
        # A refund recorded before refunds carried their time is placed at the report's.
        at = refund.refunded_at or now
        sale = ledger_repo.sale(conn, refund.order_id)
        returns.append(_return_record(refund, sale, at))
        tenders.append(TenderRecord(at, refund.cashier_id, refund.tender, refund.amount,
                                    is_refund=True))
    moves = [CashMovement(m.type, m.amount, m.reason) for m in ledger_repo.cash_moves(conn, sid)]
    return ShiftData(session_id=sid, currency=currency, opened_at=drawer.opened_at,
                     opening_float=drawer.opening_float,
                     sales=tuple(_sale_record(s) for s in sales), returns=tuple(returns),
                     tenders=tuple(tenders), movements=tuple(moves))

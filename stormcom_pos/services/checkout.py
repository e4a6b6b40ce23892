"""Completing a sale: the durable local commit, then the receipt and the drawer kick."""

from __future__ import annotations

from decimal import Decimal

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.money import ZERO, cash_round
from stormcom_pos.domain.pricing import PricedCart
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.services.auth import AuthService, Cashier
from stormcom_pos.services.cart_state import CartState
from stormcom_pos.services.cart_views import SaleResult
from stormcom_pos.services.errors import InvalidInput
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.printing import QUEUED_WARNING, SLOW_WARNING, Printing
from stormcom_pos.services.receipt_builder import sale_receipt
from stormcom_pos.services.runtime import TillRuntime
from stormcom_pos.services.sale_record import Tender, build_sale, settle
from stormcom_pos.services.store_rules import StoreRules


def cash_due_now(total: Decimal, rules: StoreRules) -> Decimal:
    """What a customer paying all in cash hands over, at least."""
    return cash_round(total, rules.cash_rounding_increment, rules.currency)


def complete_sale(runtime: TillRuntime, printing: Printing, auth: AuthService, *,
                  state: CartState, priced: PricedCart, tenders: list[Tender],
                  session_id: str, cashier: Cashier) -> SaleResult:
    rules = runtime.rules()
    if priced.total < ZERO:
        raise InvalidInput("cart", "The total cannot be negative.")
    settled = settle(priced.total, list(tenders), rules)
    now = runtime.now()
    order_id = new_id()
    with runtime.db.write() as conn:
        receipt_number = ledger_repo.next_receipt_number(conn, rules.code,
                                                         runtime.terminal_number)
        sale = build_sale(state=state, priced=priced, settled=settled, order_id=order_id,
                          receipt_number=receipt_number, pos_session_id=session_id,
                          cashier_id=cashier.user_id, completed_at=now)
        ledger_repo.record_sale(conn, sale)
        outbox.append(conn, OpKind.ORDER_SUBMIT, sale, staff_id=cashier.user_id, occurred_at=now)
    # Committed: from here on nothing may undo or block the sale.
    runtime.poke()
    warning = None
    receipt = sale_receipt(sale, rules=rules, cashier_name=cashier.name,
                           terminal_name=runtime.terminal_name,
                           customer_name=state.customer_name)
    try:
        outcome = printing.submit("receipt", receipt,
                                  {"receipt_number": receipt_number, "kind": "sale"})
        if outcome.ok is False:
            warning = QUEUED_WARNING.format(error=outcome.error)
        elif outcome.ok is None:
            warning = SLOW_WARNING
        if any(p.method is PaymentMethod.CASH for p in sale.payments):
            printing.submit("drawer", None, None, wait_s=0)
    except Exception as exc:  # printing must never turn a recorded sale into an error
        warning = QUEUED_WARNING.format(error=exc)
    runtime.poke_status()
    return SaleResult(order_id=order_id, receipt_number=receipt_number, total=sale.total,
                      change=settled.change, rounding_adjustment=settled.rounding_adjustment,
                      print_warning=warning)

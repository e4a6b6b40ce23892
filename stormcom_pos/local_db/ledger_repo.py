"""The facts recorded at this till: one import for the services (``ledger_repo.record_sale``).

Recording a fact is one local transaction with its outbox entry::

    with db.write() as conn:
        ledger_repo.record_sale(conn, sale)
        outbox.append(conn, OpKind.ORDER_SUBMIT, sale, staff_id=..., occurred_at=...)

The ledger is never wiped while anything in it is unsynced (``forget_device`` refuses). The
functions live in ``ledger_sales``, ``ledger_drawer``, ``ledger_stock`` and ``ledger_till``.
"""

from __future__ import annotations

from stormcom_pos.local_db.ledger_drawer import (
    cash_moves,
    close_drawer,
    closed_sessions,
    drawer_closing,
    drawer_opening,
    next_z_number,
    open_drawer,
    open_session,
    record_cash_move,
)
from stormcom_pos.local_db.ledger_errors import (
    DrawerAlreadyOpen,
    DrawerNotOpen,
    LedgerError,
    UnsyncedLedger,
)
from stormcom_pos.local_db.ledger_sales import (
    next_receipt_number,
    record_refund,
    record_sale,
    refunds_for,
    refunds_in_session,
    sale_by_receipt,
    sale_line_variants,
    sales_in_session,
    search_sales,
)
from stormcom_pos.local_db.ledger_sales import sale_by_id as sale
from stormcom_pos.local_db.ledger_stock import (
    record_stock_adjust,
    record_stock_count,
    stock_events,
    unsynced_stock_deltas,
)
from stormcom_pos.local_db.ledger_till import (
    ParkedSale,
    PrintJob,
    forget_device,
    local_customer_by_id,
    local_customers,
    park,
    parked,
    print_done,
    print_queue,
    queue_print,
    record_customer,
    unpark,
)

__all__ = [
    "DrawerAlreadyOpen", "DrawerNotOpen", "LedgerError", "ParkedSale", "PrintJob",
    "UnsyncedLedger", "cash_moves", "close_drawer", "closed_sessions", "drawer_closing",
    "drawer_opening",
    "forget_device", "local_customer_by_id", "local_customers", "next_receipt_number",
    "next_z_number", "open_drawer", "open_session", "park", "parked", "print_done",
    "print_queue", "queue_print", "record_cash_move", "record_customer", "record_refund",
    "record_sale", "record_stock_adjust", "record_stock_count", "refunds_for",
    "refunds_in_session", "sale", "sale_by_receipt", "sale_line_variants", "sales_in_session",
    "search_sales", "stock_events", "unpark", "unsynced_stock_deltas",
]

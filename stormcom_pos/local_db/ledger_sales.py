"""Sales and refunds recorded at this till (the ledger side of ``ledger_repo``).

A sale is stored as the ``OrderSubmit`` payload it pushes (exactly what the receipt shows and
the server gets), plus its lines' variants and quantities for refunds and stock. Receipt
numbers come from a per-till counter in the ledger; call ``next_receipt_number`` in the same
transaction as ``record_sale`` and a rolled-back sale gives its number back.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, bindparam, func, literal_column, or_, select

from stormcom_pos.domain.barcodes import ReceiptNumber
from stormcom_pos.domain.sync_payloads import OrderSubmit, RefundSubmit
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db.codec import decimal_text, to_iso, utcnow
from stormcom_pos.local_db.ledger_stock import add_deltas
from stormcom_pos.local_db.ledger_tables import counter, refund, sale, sale_line

# Sales completed in the same second keep the order they were recorded in.
_RECORDED: ColumnElement[int] = literal_column("sale.rowid")
# Statements built once: building them per sale costs more than the SQLite work.
_INSERT_SALE = sale.insert()
_INSERT_LINE = sale_line.insert()
_COUNTER_VALUE = select(counter.c.value).where(counter.c.name == bindparam("counter_name"))
_INSERT_COUNTER = counter.insert()
_UPDATE_COUNTER = (counter.update().where(counter.c.name == bindparam("counter_name"))
                   .values(value=bindparam("new_value")))


def record_sale(conn: Connection, order: OrderSubmit) -> None:
    """Record a completed sale, its lines and the stock its lines take."""
    conn.execute(_INSERT_SALE, {
        "order_id": order.order_id, "receipt_number": order.receipt_number,
        "pos_session_id": order.pos_session_id, "cashier_id": order.cashier_id,
        "customer_id": order.customer_id, "total": decimal_text(order.total),
        "completed_at": to_iso(order.completed_at), "payload": order.model_dump_json()})
    conn.execute(_INSERT_LINE, [
        {"id": line.id, "order_id": order.order_id, "variant_id": line.variant_id,
         "quantity": decimal_text(line.quantity)} for line in order.lines])
    add_deltas(conn, OpKind.ORDER_SUBMIT, order.order_id,
               [(line.variant_id, -line.quantity) for line in order.lines if line.variant_id])


def _sales(conn: Connection, *where: object, limit: int | None = None) -> list[OrderSubmit]:
    stmt = (select(sale.c.payload).where(*where)  # type: ignore[arg-type]
            .order_by(sale.c.completed_at.desc(), _RECORDED.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [OrderSubmit.model_validate_json(payload) for payload in conn.execute(stmt).scalars()]


def sale_by_id(conn: Connection, order_id: str) -> OrderSubmit | None:
    """A sale recorded here, by order id."""
    found = _sales(conn, sale.c.order_id == order_id)
    return found[0] if found else None


def sale_by_receipt(conn: Connection, receipt_number: str) -> OrderSubmit | None:
    """A sale recorded here, by its receipt number (case-insensitive)."""
    found = _sales(conn, func.upper(sale.c.receipt_number) == receipt_number.strip().upper())
    return found[0] if found else None


def search_sales(conn: Connection, text: str, limit: int = 50) -> list[OrderSubmit]:
    """Sales recorded here whose receipt number contains ``text`` (or whose order or customer
    id is ``text``), newest first; the latest sales for an empty text."""
    needle = text.strip()
    if not needle:
        return _sales(conn, limit=limit)
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _sales(conn, or_(sale.c.receipt_number.ilike(f"%{escaped}%", escape="\\"),
                            sale.c.order_id == needle, sale.c.customer_id == needle),
                  limit=limit)


def sales_in_session(conn: Connection, pos_session_id: str) -> list[OrderSubmit]:
    """Every sale of a drawer session, oldest first."""
    return list(reversed(_sales(conn, sale.c.pos_session_id == pos_session_id)))


def sale_line_variants(conn: Connection, line_ids: list[str]) -> dict[str, str | None]:
    """The variant of each sale line recorded here (lines of other tills' sales are absent)."""
    rows = conn.execute(select(sale_line.c.id, sale_line.c.variant_id)
                        .where(sale_line.c.id.in_(line_ids)))
    return {line_id: variant_id for line_id, variant_id in rows}


def next_receipt_number(conn: Connection, store_code: str, terminal_number: int) -> str:
    """The next receipt number of this till, ``<store>-<till>-<counter>``, counted in the
    ledger so numbers never repeat on this till."""
    name = f"receipt:{store_code}:{terminal_number}"
    current = conn.execute(_COUNTER_VALUE, {"counter_name": name}).scalar()
    value = (current or 0) + 1
    if current is None:
        conn.execute(_INSERT_COUNTER, {"name": name, "value": value})
    else:
        conn.execute(_UPDATE_COUNTER, {"counter_name": name, "new_value": value})
    return str(ReceiptNumber(store_code, terminal_number, value))


def record_refund(conn: Connection, refund_data: RefundSubmit) -> None:
    """Record a refund; lines restocked put their quantity back (for sales rung up here)."""
    conn.execute(refund.insert().values(
        refund_id=refund_data.refund_id, order_id=refund_data.order_id,
        pos_session_id=refund_data.pos_session_id, created_at=to_iso(utcnow()),
        payload=refund_data.model_dump_json()))
    restocked = [line for line in refund_data.lines if line.restock]
    if restocked:
        variants = sale_line_variants(conn, [line.order_item_id for line in restocked])
        deltas: list[tuple[str, Decimal]] = []
        for line in restocked:
            variant_id = variants.get(line.order_item_id)
            if variant_id:
                deltas.append((variant_id, line.quantity))
        add_deltas(conn, OpKind.REFUND_SUBMIT, refund_data.refund_id, deltas)


def refunds_for(conn: Connection, order_id: str) -> list[RefundSubmit]:
    """Refunds recorded here against a sale, oldest first."""
    rows = conn.execute(select(refund.c.payload).where(refund.c.order_id == order_id)
                        .order_by(refund.c.created_at))
    return [RefundSubmit.model_validate_json(payload) for payload in rows.scalars()]


def refunds_in_session(conn: Connection, pos_session_id: str) -> list[RefundSubmit]:
    """Refunds of a drawer session, oldest first (for X/Z reports)."""
    rows = conn.execute(select(refund.c.payload).where(refund.c.pos_session_id == pos_session_id)
                        .order_by(refund.c.created_at))
    return [RefundSubmit.model_validate_json(payload) for payload in rows.scalars()]

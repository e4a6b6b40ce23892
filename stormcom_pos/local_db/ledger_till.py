"""The rest of the ledger: customers created here, parked sales, the reprint queue, unpairing.

Parked sales and print jobs are this till's own state (never pushed): a parked cart is the
services' JSON, kept as given; a print job is what to print again once the printer is back.
``forget_device`` empties the ledger when a till is unpaired, and refuses while anything in it
has not been applied by the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, or_, select

from stormcom_pos.domain.sync_payloads import CustomerCreate
from stormcom_pos.local_db import outbox
from stormcom_pos.local_db.codec import dumps, from_iso, loads, to_iso, utcnow
from stormcom_pos.local_db.ledger_errors import UnsyncedLedger
from stormcom_pos.local_db.ledger_tables import (
    cash_move,
    drawer_session,
    local_customer,
    parked_sale,
    print_job,
    refund,
    sale,
    sale_line,
    stock_delta,
    stock_event,
)
from stormcom_pos.local_db.ledger_tables import outbox as outbox_table
from stormcom_pos.local_db.sync_state import mark_resync, update_state


@dataclass(frozen=True)
class ParkedSale:
    park_id: str
    label: str
    cart: dict[str, Any]
    parked_at: datetime


@dataclass(frozen=True)
class PrintJob:
    job_id: str
    kind: str
    payload: dict[str, Any]
    error: str | None
    attempts: int
    queued_at: datetime


def record_customer(conn: Connection, customer: CustomerCreate) -> None:
    """Record a customer created at this till (found by ``catalog_repo.find_customers``)."""
    conn.execute(local_customer.insert().values(
        customer_id=customer.customer_id, first_name=customer.first_name,
        last_name=customer.last_name, email=customer.email, phone=customer.phone,
        created_at=to_iso(utcnow()), payload=customer.model_dump_json()))


def local_customers(conn: Connection, text: str, limit: int) -> list[CustomerCreate]:
    """Customers created here whose name, email or phone starts with ``text``."""
    needle = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    stmt = select(local_customer.c.payload)
    if needle:
        pattern = f"{needle}%"
        stmt = stmt.where(or_(*(column.ilike(pattern, escape="\\") for column in (
            local_customer.c.first_name, local_customer.c.last_name, local_customer.c.email,
            local_customer.c.phone))))
    rows = conn.execute(stmt.order_by(local_customer.c.first_name).limit(limit)).scalars()
    return [CustomerCreate.model_validate_json(payload) for payload in rows]


def local_customer_by_id(conn: Connection, customer_id: str) -> CustomerCreate | None:
    payload = conn.execute(select(local_customer.c.payload)
                           .where(local_customer.c.customer_id == customer_id)).scalar()
    return CustomerCreate.model_validate_json(payload) if payload is not None else None


def park(conn: Connection, park_id: str, label: str, cart_json: dict[str, Any]) -> None:
    """Put a cart aside (replacing a parked cart of the same id)."""
    conn.execute(delete(parked_sale).where(parked_sale.c.park_id == park_id))
    conn.execute(parked_sale.insert().values(park_id=park_id, label=label, cart=dumps(cart_json),
                                             parked_at=to_iso(utcnow())))


def parked(conn: Connection) -> list[ParkedSale]:
    """Parked carts, oldest first."""
    rows = conn.execute(select(parked_sale).order_by(parked_sale.c.parked_at))
    return [ParkedSale(row.park_id, row.label, loads(row.cart), from_iso(row.parked_at))  # type: ignore[arg-type]
            for row in rows]


def unpark(conn: Connection, park_id: str) -> dict[str, Any] | None:
    """Take a parked cart back (it leaves the list); None if there is no such cart."""
    cart = conn.execute(select(parked_sale.c.cart).where(parked_sale.c.park_id == park_id)).scalar()
    if cart is None:
        return None
    conn.execute(delete(parked_sale).where(parked_sale.c.park_id == park_id))
    return dict(loads(cart))


def queue_print(conn: Connection, job_id: str, kind: str, payload: dict[str, Any],
                error: str) -> None:
    """Keep a print that failed, to print again; a job queued again counts one more attempt."""
    existing = conn.execute(select(print_job.c.attempts)
                            .where(print_job.c.job_id == job_id)).scalar()
    if existing is None:
        conn.execute(print_job.insert().values(job_id=job_id, kind=kind, payload=dumps(payload),
                                               error=error, attempts=1,
                                               queued_at=to_iso(utcnow())))
    else:
        conn.execute(print_job.update().where(print_job.c.job_id == job_id)
                     .values(error=error, attempts=existing + 1, payload=dumps(payload)))


def print_queue(conn: Connection) -> list[PrintJob]:
    """Prints waiting to be done again, oldest first."""
    rows = conn.execute(select(print_job).order_by(print_job.c.queued_at))
    return [PrintJob(row.job_id, row.kind, loads(row.payload), row.error, row.attempts,
                     from_iso(row.queued_at))  # type: ignore[arg-type]
            for row in rows]


def print_done(conn: Connection, job_id: str) -> None:
    """A queued print has been printed."""
    conn.execute(delete(print_job).where(print_job.c.job_id == job_id))


def forget_device(conn: Connection) -> None:
    """Empty the ledger and the till's identity, for unpairing this till.

    Refused (``UnsyncedLedger``) while any entry is pending, quarantined or rejected: those
    facts exist nowhere else. Receipt and Z counters are kept, so numbers never repeat.
    """
    counts = outbox.counts(conn)
    if counts.pending or counts.quarantined or counts.rejected:
        raise UnsyncedLedger(
            f"this till still holds {counts.pending} unsynced, {counts.quarantined} quarantined "
            f"and {counts.rejected} rejected records; sync them before unpairing")
    for table in (stock_delta, stock_event, cash_move, refund, sale_line, sale, local_customer,
                  parked_sale, print_job, outbox_table):
        conn.execute(delete(table))
    conn.execute(drawer_session.delete().where(drawer_session.c.is_open == 1))
    update_state(conn, device_id=None, store_id=None, server_url=None, epoch=None,
                 server_last_applied_seq=None, last_error=None, last_success_at=None,
                 clock_offset_seconds=None)
    mark_resync(conn)

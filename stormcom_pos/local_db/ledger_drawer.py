"""Drawer sessions and cash movements recorded at this till.

One drawer is open at a time (a unique index on ``is_open`` enforces it). Closing keeps the
close payload with the session, and its Z number; Z numbers count up per till.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from stormcom_pos.domain.sync_payloads import CashMove, DrawerClose, DrawerOpen
from stormcom_pos.local_db.codec import to_iso, utcnow
from stormcom_pos.local_db.ledger_errors import DrawerAlreadyOpen, DrawerNotOpen
from stormcom_pos.local_db.ledger_tables import cash_move, drawer_session


def open_drawer(conn: Connection, opened: DrawerOpen) -> None:
    """Record an opened drawer session; refused while another one is open."""
    current = open_session(conn)
    if current is not None:
        raise DrawerAlreadyOpen(f"drawer session {current.pos_session_id} is still open; "
                                "close it before opening another")
    try:
        with conn.begin_nested():
            conn.execute(drawer_session.insert().values(
                pos_session_id=opened.pos_session_id, is_open=1,
                opened_at=to_iso(opened.opened_at), open_payload=opened.model_dump_json()))
    except IntegrityError as exc:
        raise DrawerAlreadyOpen(f"drawer session {opened.pos_session_id} exists") from exc


def open_session(conn: Connection) -> DrawerOpen | None:
    """The drawer session open now, if any."""
    payload = conn.execute(select(drawer_session.c.open_payload)
                           .where(drawer_session.c.is_open == 1)).scalar()
    return DrawerOpen.model_validate_json(payload) if payload is not None else None


def drawer_opening(conn: Connection, pos_session_id: str) -> DrawerOpen | None:
    """How a drawer session (open or closed) was opened."""
    payload = conn.execute(select(drawer_session.c.open_payload)
                           .where(drawer_session.c.pos_session_id == pos_session_id)).scalar()
    return DrawerOpen.model_validate_json(payload) if payload is not None else None


def drawer_closing(conn: Connection, pos_session_id: str) -> DrawerClose | None:
    """How a drawer session was closed (None while it is open)."""
    payload = conn.execute(select(drawer_session.c.close_payload)
                           .where(drawer_session.c.pos_session_id == pos_session_id)).scalar()
    return DrawerClose.model_validate_json(payload) if payload is not None else None


def closed_sessions(conn: Connection, limit: int = 30) -> list[tuple[DrawerOpen, DrawerClose]]:
    """This till's closed drawer sessions (opening, close), the last Z first."""
    rows = conn.execute(select(drawer_session.c.open_payload, drawer_session.c.close_payload)
                        .where(drawer_session.c.z_number.is_not(None))
                        .order_by(drawer_session.c.z_number.desc()).limit(limit))
    return [(DrawerOpen.model_validate_json(opened), DrawerClose.model_validate_json(closed))
            for opened, closed in rows]


def record_cash_move(conn: Connection, move: CashMove) -> None:
    """Record a cash movement (pay in, pay out, drop) of the open drawer session."""
    current = open_session(conn)
    if current is None or current.pos_session_id != move.pos_session_id:
        raise DrawerNotOpen(f"drawer session {move.pos_session_id} is not open")
    conn.execute(cash_move.insert().values(
        movement_id=move.movement_id, pos_session_id=move.pos_session_id,
        created_at=to_iso(utcnow()), payload=move.model_dump_json()))


def cash_moves(conn: Connection, pos_session_id: str) -> list[CashMove]:
    """The cash movements of a drawer session, oldest first."""
    rows = conn.execute(select(cash_move.c.payload)
                        .where(cash_move.c.pos_session_id == pos_session_id)
                        .order_by(cash_move.c.created_at))
    return [CashMove.model_validate_json(payload) for payload in rows.scalars()]


def close_drawer(conn: Connection, closed: DrawerClose) -> None:
    """Record the close (blind count, Z number) of the open drawer session."""
    done = conn.execute(
        update(drawer_session)
        .where(drawer_session.c.pos_session_id == closed.pos_session_id,
               drawer_session.c.is_open == 1)
        .values(is_open=None, closed_at=to_iso(closed.closed_at),
                close_payload=closed.model_dump_json(), z_number=closed.z_number))
    if done.rowcount != 1:
        raise DrawerNotOpen(f"drawer session {closed.pos_session_id} is not open")


def next_z_number(conn: Connection) -> int:
    """The Z number the next close of this till takes."""
    return int(conn.execute(select(func.coalesce(func.max(drawer_session.c.z_number), 0))
                            ).scalar_one()) + 1

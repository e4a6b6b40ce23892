"""Periodic commerce jobs, runnable from cron or a scheduler::

    python -m server.orders.jobs auto-cancel        # cancel unpaid online orders past timeout
    python -m server.orders.jobs purge-idempotency  # drop Idempotency-Keys older than 24 h

Both read ``STORMCOM_DATABASE_URL`` (the server's settings) and print what they did. They run as
the database owner on PostgreSQL (a platform job crosses stores; see ``server.db.rls``).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.clock import as_utc, system_clock
from server.config import Settings
from server.db import encrypted, rls
from server.db.engine import make_engine
from server.db.tenancy import make_tenant_session_factory, set_current_store
from server.errors import Conflict
from server.idempotency import service as idempotency_service
from server.identity.principal import Principal
from server.orders import flows, orders_service
from server.orders import settings as store_settings
from server.stores.models import Store
from stormcom_pos.domain.order_states import can_auto_cancel

log = logging.getLogger(__name__)


def auto_cancel(engine: Engine, now: datetime) -> list[str]:
    """Cancel every due unpaid online order; returns their ids."""
    with make_tenant_session_factory(engine)() as session:
        return auto_cancel_due(session, now=now)


def auto_cancel_due(session: Session, *, now: datetime, limit: int = 500) -> list[str]:
    """Cancel unpaid online orders past their store's timeout; returns their ids.

    A system job: it walks every store, and commits each order on its own, so one failure
    does not hold back the rest. Paid (or authorized) orders are never canceled: each order
    is re-checked under its row lock with the shared ``can_auto_cancel``.
    """
    canceled: list[str] = []
    with rls.bypass_rls(session):  # a platform job (owner role on PostgreSQL)
        due = orders_service.due_for_auto_cancel(session, now=now, limit=limit)
    session.rollback()
    for store_id, order_id in due:
        set_current_store(session, store_id)
        try:
            order = orders_service.get(session, order_id=order_id, lock=True)
            store = session.get(Store, store_id)
            minutes = store_settings.auto_cancel_minutes(store) if store else 60
            if not can_auto_cancel(order.status, order.payment_status, as_utc(order.created_at),
                                   now, minutes):
                session.rollback()
                continue
            flows.cancel_order(session, actor=Principal(kind="system", store_id=store_id),
                         order_id=order_id, now=now, reason="unpaid after "
                         f"{minutes} minutes", action="order.auto_cancel")
            session.commit()
            canceled.append(order_id)
        except Conflict:
            session.rollback()
            log.warning("auto-cancel skipped order %s", order_id)
    set_current_store(session, None)
    return canceled



def purge_idempotency(engine: Engine, now: datetime) -> int:
    """Delete expired idempotency keys of every store; returns how many."""
    with make_tenant_session_factory(engine)() as session:
        with rls.bypass_rls(session):
            count = idempotency_service.purge_expired(session, now=now)
        session.commit()
        return count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server.orders.jobs")
    parser.add_argument("job", choices=["auto-cancel", "purge-idempotency"])
    args = parser.parse_args(argv)
    settings = Settings()
    encrypted.configure_from_settings(settings)
    engine = make_engine(settings.database_url)
    try:
        now = system_clock()
        if args.job == "auto-cancel":
            canceled = auto_cancel(engine, now)
            sys.stdout.write(f"canceled {len(canceled)} unpaid order(s)\n")
        else:
            sys.stdout.write(f"purged {purge_idempotency(engine, now)} idempotency key(s)\n")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

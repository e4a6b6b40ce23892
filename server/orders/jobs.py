"""Periodic commerce jobs, runnable from cron or a scheduler::

    python -m server.orders.jobs auto-cancel        # cancel unpaid online orders past timeout
    python -m server.orders.jobs purge-idempotency  # drop Idempotency-Keys older than 24 h

Both read ``STORMCOM_DATABASE_URL`` (the server's settings) and print what they did. They run as
the database owner on PostgreSQL (a platform job crosses stores; see ``server.db.rls``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from server.clock import system_clock
from server.config import Settings
from server.db import rls
from server.db.engine import make_engine
from server.db.tenancy import make_tenant_session_factory
from server.idempotency import service as idempotency_service
from server.orders import flows


def auto_cancel(engine: Engine, now: datetime) -> list[str]:
    """Cancel every due unpaid online order; returns their ids."""
    with make_tenant_session_factory(engine)() as session:
        return flows.auto_cancel_due(session, now=now)


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
    engine = make_engine(Settings().database_url)
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

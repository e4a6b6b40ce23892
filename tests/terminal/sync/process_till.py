"""A till as a real process, for the process tier (test_processes.py).

Usage: python -m tests.terminal.sync.process_till DB SERVER_URL CREDENTIAL_FILE COMMAND [N]

- ``enrol CODE``: pair, bootstrap, sync;
- ``sell N``: record N cash sales (each one local transaction), then SIGKILL this process
  before anything is pushed (F8);
- ``sell-kill-in-push N``: record N sales, push, and SIGKILL this process as soon as the
  server's answer has arrived, before the outbox records it (F10);
- ``sync``: one sync; prints the status as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from cuid2 import create_id
from sqlalchemy import text

from stormcom_pos.domain.sync_payloads import DrawerOpen, OrderSubmit, SaleLine, SalePayment
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import ledger_repo, outbox
from stormcom_pos.local_db.database import LocalDb
from stormcom_pos.sync.client import ServerClient
from stormcom_pos.sync.credentials import EncryptedFileCredentialStore
from stormcom_pos.sync.engine import SyncEngine
from stormcom_pos.sync.instance_lock import InstanceLock

PASSPHRASE = "process tier passphrase"


class DieAfterPushAnswer(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/sync/push"):
            response.read()
            os.kill(os.getpid(), signal.SIGKILL)
        return response


def _cashier(db: LocalDb) -> str:
    with db.read() as conn:
        for (data,) in conn.execute(text("SELECT data FROM cache_row WHERE entity_type = "
                                         "'staff'")):
            row = json.loads(data)
            if str(row.get("role", "")).lower() == "cashier":
                return str(row["id"])
    raise SystemExit("no cashier in the cache")


def sell(db: LocalDb, count: int) -> None:
    now = datetime.now(UTC)
    cashier = _cashier(db)
    with db.read() as conn:
        variants = conn.execute(text("SELECT id, sku, price FROM cache_variant "
                                     "ORDER BY key LIMIT 5")).all()
        session = ledger_repo.open_session(conn)
    if session is None:
        session = DrawerOpen(pos_session_id=create_id(), cashier_id=cashier,
                             opening_float=Decimal("50"), opened_at=now)
        with db.write() as conn:
            ledger_repo.open_drawer(conn, session)
            outbox.append(conn, OpKind.DRAWER_OPEN, session, staff_id=cashier, occurred_at=now)
    record_cash_sales(db, variants, session.pos_session_id, cashier, count, now)


def record_cash_sales(db: LocalDb, variants: Sequence[Any], pos_session_id: str, cashier: str,
                      count: int, now: datetime) -> None:
    """``count`` one-line cash sales, tax-free, cycling over ``variants`` ((id, sku, price)
    rows of the cache), each recorded with its outbox entry in one local transaction."""
    for i in range(count):
        variant_id, sku, price_text = variants[i % len(variants)]
        price = Decimal(price_text)
        line = SaleLine(id=create_id(), variant_id=variant_id, product_id=None, name="Item",
                        sku=sku, quantity=Decimal(1), unit_price=price,
                        original_unit_price=price, net=price, tax=Decimal(0), total=price)
        with db.write() as conn:
            sale = OrderSubmit(
                order_id=create_id(),
                receipt_number=ledger_repo.next_receipt_number(conn, "DEMO", 1),
                pos_session_id=pos_session_id, cashier_id=cashier, currency="USD",
                prices_include_tax=False, lines=[line], subtotal=price,
                discount_total=Decimal(0), tax_total=Decimal(0), total=price,
                payments=[SalePayment(id=create_id(), method="CASH", amount=price)],
                completed_at=now)
            ledger_repo.record_sale(conn, sale)
            outbox.append(conn, OpKind.ORDER_SUBMIT, sale, staff_id=cashier, occurred_at=now)


def main(argv: list[str]) -> None:
    db_path, server_url, credential_file, command, *rest = argv
    lock = InstanceLock(Path(db_path))
    lock.acquire()
    db = LocalDb(Path(db_path))
    db.open()
    credentials = EncryptedFileCredentialStore(Path(credential_file), PASSPHRASE)
    transport = DieAfterPushAnswer() if command == "sell-kill-in-push" else None
    client = ServerClient(server_url, transport=transport)
    client.set_credential(credentials.load())
    engine = SyncEngine(db, client)
    if command == "enrol":
        engine.enrol(rest[0], credentials)
        status = engine.sync_once()
    elif command == "sell":
        sell(db, int(rest[0]))
        os.kill(os.getpid(), signal.SIGKILL)  # after the local commits, before any push
    elif command == "sell-kill-in-push":
        sell(db, int(rest[0]))
        engine.push_pending()
        raise SystemExit("the push should have killed this process")
    else:
        status = engine.sync_once()
    print(json.dumps({"pending": status.pending, "error": status.last_error,
                      "online": status.online}))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Customers at the till (found in the cache, or created offline and pushed) and parked sales."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stormcom_pos.domain.sync_payloads import CustomerCreate
from stormcom_pos.domain.sync_protocol import OpKind
from stormcom_pos.local_db import catalog_repo, ledger_repo, outbox
from stormcom_pos.services.cart_state import CartState
from stormcom_pos.services.cart_views import CustomerView, ParkedView
from stormcom_pos.services.errors import InvalidInput
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.runtime import TillRuntime


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else getattr(row, key, None)


def _view(row: Any) -> CustomerView:
    name = _get(row, "name") or " ".join(
        part for part in (_get(row, "first_name"), _get(row, "last_name")) if part)
    return CustomerView(id=str(_get(row, "id") or _get(row, "customer_id")),
                        name=name or _get(row, "phone") or _get(row, "email") or "",
                        phone=_get(row, "phone"), email=_get(row, "email"))


def customer_view(runtime: TillRuntime, customer_id: str) -> CustomerView:
    with runtime.db.read() as conn:
        row = catalog_repo.customer(conn, customer_id)
    if row is None:
        raise InvalidInput("customer_id", "That customer is not known at this till.")
    return _view(row)


def find_customers(runtime: TillRuntime, text: str, limit: int = 20) -> list[CustomerView]:
    text = (text or "").strip()
    if not text:
        return []
    with runtime.db.read() as conn:
        return [_view(row) for row in catalog_repo.find_customers(conn, text, limit)]


def create_customer(runtime: TillRuntime, cashier_id: str, first_name: str,
                    last_name: str | None, phone: str | None, email: str | None) -> str:
    """Record a new customer with its outbox entry in one transaction."""
    first = (first_name or "").strip()
    if not first:
        raise InvalidInput("first_name", "Enter the customer's first name.")
    phone = (phone or "").strip() or None
    email = (email or "").strip().lower() or None
    if email is not None and ("@" not in email or email.startswith("@")):
        raise InvalidInput("email", f"{email} is not an email address.")
    if phone is None and email is None:
        raise InvalidInput("phone", "Enter a phone number or an email address.")
    fact = CustomerCreate(customer_id=new_id(), first_name=first,
                          last_name=(last_name or "").strip() or None, email=email, phone=phone)
    now = runtime.now()
    with runtime.db.write() as conn:
        ledger_repo.record_customer(conn, fact)
        outbox.append(conn, OpKind.CUSTOMER_CREATE, fact, staff_id=cashier_id, occurred_at=now)
    runtime.poke()
    return fact.customer_id


def park(runtime: TillRuntime, state: CartState, total: Decimal, label: str) -> str:
    park_id = new_id()
    data = state.to_json()
    data["total"] = str(total)
    name = (label or "").strip() or f"Parked {runtime.now():%H:%M}"
    data["label"] = name
    with runtime.db.write() as conn:
        ledger_repo.park(conn, park_id, name, data)
    return park_id


def parked(runtime: TillRuntime) -> list[ParkedView]:
    with runtime.db.read() as conn:
        rows = ledger_repo.parked(conn)
    local = runtime.rules().local
    return [ParkedView(row.park_id, row.label, Decimal(str(row.cart.get("total") or "0")),
                       local(row.parked_at)) for row in rows]


def recall(runtime: TillRuntime, park_id: str) -> CartState:
    with runtime.db.write() as conn:
        data = ledger_repo.unpark(conn, park_id)
        if data is None:
            raise InvalidInput("park_id", "That parked sale was already recalled.")
        return CartState.from_json(data, conn)

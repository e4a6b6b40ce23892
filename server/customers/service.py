"""Customers: CRUD (soft delete), search by name, email or phone, stats and order history.

Stats come from the orders themselves, not from the denormalised ``total_orders`` and
``total_spent`` columns: *lifetime value* is the sum of the totals of orders whose payment
went through (PAID, PARTIALLY_REFUNDED or REFUNDED, canceled ones excluded) minus their
COMPLETED refunds. Sums are done in Python with Decimal (SQLite stores money as exact text).
Addresses are in ``addresses_service``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.audit import service as audit
from server.catalog.rules import field_error, reject_nulls
from server.clock import as_utc
from server.customers import addresses_service
from server.customers.models import Address, Customer
from server.customers.schemas import CustomerCreate, CustomerUpdate
from server.errors import Conflict, NotFound
from server.identity.principal import Principal, RequestMeta
from server.orders.models import Order
from server.payments.models import Refund
from stormcom_pos.domain.enums import OrderStatus, PaymentStatus, RefundStatus

PAID = (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED, PaymentStatus.REFUNDED)
FIELDS = ("first_name", "last_name", "phone", "is_guest", "language", "marketing_opt_in",
          "is_tax_exempt", "tax_exempt_reason")
NOT_NULL = ("first_name", "is_guest", "language", "marketing_opt_in", "is_tax_exempt")
SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Customer.first_name.asc(), Customer.last_name.asc(), Customer.id.asc()),
    "-name": (Customer.first_name.desc(), Customer.last_name.desc(), Customer.id.desc()),
    "created_at": (Customer.created_at.asc(), Customer.id.asc()),
    "-created_at": (Customer.created_at.desc(), Customer.id.desc()),
    "email": (Customer.email.asc(), Customer.id.asc()),
}


@dataclass(frozen=True, slots=True)
class Stats:
    order_count: int = 0
    paid_order_count: int = 0
    lifetime_value: Decimal = Decimal("0.00")
    last_order_at: datetime | None = None


def get(session: Session, *, customer_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.id == customer_id,
                                                     Customer.deleted_at.is_(None)))
    if customer is None:
        raise NotFound("There is no such customer.", code="customer_not_found")
    return customer


def live_addresses(customer: Customer) -> list[Address]:
    return sorted((a for a in customer.addresses if a.deleted_at is None),
                  key=lambda a: (not a.is_default, as_utc(a.created_at), a.id))


def stats(session: Session, ids: Sequence[str]) -> dict[str, Stats]:
    """Order count, paid count, lifetime value and last order time per customer."""
    if not ids:
        return {}
    orders = session.execute(
        select(Order.id, Order.customer_id, Order.total, Order.status, Order.payment_status,
               Order.created_at)
        .where(Order.customer_id.in_(ids), Order.deleted_at.is_(None))).all()
    paid = {o.id for o in orders if o.payment_status in PAID
            and o.status is not OrderStatus.CANCELED}
    refunded: dict[str, Decimal] = {}
    if paid:
        for order_id, amount in session.execute(
                select(Refund.order_id, Refund.amount).where(
                    Refund.order_id.in_(paid), Refund.status == RefundStatus.COMPLETED)):
            refunded[order_id] = refunded.get(order_id, Decimal(0)) + amount
    acc: dict[str, dict[str, Any]] = {}
    for o in orders:
        a = acc.setdefault(o.customer_id, {"n": 0, "paid": 0, "value": Decimal("0.00"),
                                           "last": None})
        a["n"] += 1
        created = as_utc(o.created_at)
        if a["last"] is None or created > a["last"]:
            a["last"] = created
        if o.id in paid:
            a["paid"] += 1
            a["value"] += o.total - refunded.get(o.id, Decimal(0))
    return {cid: Stats(a["n"], a["paid"], a["value"], a["last"]) for cid, a in acc.items()}


def _search(q: str) -> Any:
    terms = [Customer.first_name.icontains(q, autoescape=True),
             Customer.last_name.icontains(q, autoescape=True),
             (Customer.first_name + " " + func.coalesce(Customer.last_name, ""))
             .icontains(q, autoescape=True),
             Customer.email.icontains(q, autoescape=True),
             Customer.phone.icontains(q, autoescape=True)]
    digits = re.sub(r"\D", "", q)
    if len(digits) >= 3:
        phone: Any = Customer.phone
        for ch in (" ", "-", "(", ")", ".", "/"):
            phone = func.replace(phone, ch, "")
        terms.append(phone.contains(digits))
    return or_(*terms)


def list_(
    session: Session, *, q: str | None, is_guest: bool | None, is_tax_exempt: bool | None,
    sort: str, page: int, page_size: int,
) -> tuple[Sequence[Customer], int]:
    """One page of live customers; ``q`` matches name, email or phone (any formatting)."""
    stmt = select(Customer).where(Customer.deleted_at.is_(None))
    if q:
        stmt = stmt.where(_search(q))
    if is_guest is not None:
        stmt = stmt.where(Customer.is_guest.is_(is_guest))
    if is_tax_exempt is not None:
        stmt = stmt.where(Customer.is_tax_exempt.is_(is_tax_exempt))
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Customer.id).subquery())) or 0
    rows = session.scalars(stmt.order_by(*SORTS[sort]).offset((page - 1) * page_size)
                           .limit(page_size)).all()
    return rows, int(total)


def _check_email(session: Session, email: str | None, exclude_id: str | None = None) -> None:
    if email is None:
        return
    stmt = select(Customer.deleted_at).where(Customer.email == email)
    if exclude_id:
        stmt = stmt.where(Customer.id != exclude_id)
    row = session.execute(stmt.limit(1)).first()
    if row is not None:
        gone = " (a deleted customer; emails stay reserved)" if row[0] else ""
        raise Conflict(f"A customer with the email {email} already exists{gone}.",
                       code="duplicate_email", field="email", email=email)


def _check_exemption(customer: Customer) -> None:
    if customer.is_tax_exempt and not customer.tax_exempt_reason:
        raise field_error("tax_exempt_reason", "is required when the customer is tax exempt "
                          "(e.g. the exemption certificate number)")


def _flush(session: Session, email: str | None) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"A customer with the email {email} was just created.",
                       code="duplicate_email", field="email", email=email) from None


def create(session: Session, *, actor: Principal, data: CustomerCreate, now: datetime,
           meta: RequestMeta) -> Customer:
    _check_email(session, data.email)
    customer = Customer(email=data.email, created_at=now, updated_at=now,
                        **{k: getattr(data, k) for k in FIELDS})
    _check_exemption(customer)
    session.add(customer)
    for address in data.addresses:
        addresses_service.add(session, customer=customer, data=address, now=now)
    _flush(session, data.email)
    audit.record(session, actor=actor, action="customer.create", entity_type="customer",
                 entity_id=customer.id, after=audit.snapshot(customer), request_meta=meta)
    return customer


def update(session: Session, *, actor: Principal, customer: Customer, data: CustomerUpdate,
           now: datetime, meta: RequestMeta) -> Customer:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, NOT_NULL)
    before = audit.snapshot(customer)
    if "email" in changes and changes["email"] != customer.email:
        _check_email(session, changes["email"], exclude_id=customer.id)
        customer.email = changes["email"]
    for name in FIELDS:
        if name in changes:
            setattr(customer, name, changes[name])
    _check_exemption(customer)
    customer.updated_at = now
    _flush(session, customer.email)
    audit.record(session, actor=actor, action="customer.update", entity_type="customer",
                 entity_id=customer.id, before=before, after=audit.snapshot(customer),
                 request_meta=meta)
    return customer


def soft_delete(session: Session, *, actor: Principal, customer: Customer, now: datetime,
                meta: RequestMeta) -> None:
    """Mark the customer and their addresses deleted; orders keep their snapshot."""
    before = audit.snapshot(customer)
    customer.deleted_at = now
    customer.updated_at = now
    for address in customer.addresses:
        if address.deleted_at is None:
            address.deleted_at = now
            address.updated_at = now
    audit.record(session, actor=actor, action="customer.delete", entity_type="customer",
                 entity_id=customer.id, before=before, after=audit.snapshot(customer),
                 request_meta=meta)


def orders(
    session: Session, *, customer: Customer, status: OrderStatus | None, page: int,
    page_size: int,
) -> tuple[Sequence[Order], int]:
    """The customer's orders, newest first."""
    stmt = select(Order).where(Order.customer_id == customer.id, Order.deleted_at.is_(None))
    if status is not None:
        stmt = stmt.where(Order.status == status)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(Order.created_at.desc(), Order.id.desc())
                           .offset((page - 1) * page_size).limit(page_size)).all()
    return rows, int(total)


def with_addresses(session: Session, *, customer_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(
        Customer.id == customer_id, Customer.deleted_at.is_(None))
        .options(selectinload(Customer.addresses)))
    if customer is None:
        raise NotFound("There is no such customer.", code="customer_not_found")
    return customer

"""A customer's addresses: one default per type (BOTH counts as shipping and billing)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.audit import service as audit
from server.catalog.rules import reject_nulls
from server.clock import as_utc
from server.customers.models import Address, AddressType, Customer
from server.customers.schemas import AddressCreate, AddressUpdate
from server.errors import NotFound
from server.identity.principal import Principal, RequestMeta

NOT_NULL = ("type", "first_name", "address1", "city", "postal_code", "country", "is_default")


def list_(session: Session, *, customer: Customer) -> Sequence[Address]:
    return session.scalars(select(Address).where(Address.customer_id == customer.id,
                                                 Address.deleted_at.is_(None))
                           .order_by(Address.is_default.desc(), Address.created_at,
                                     Address.id)).all()


def get(session: Session, *, customer: Customer, address_id: str) -> Address:
    address = session.scalar(select(Address).where(
        Address.id == address_id, Address.customer_id == customer.id,
        Address.deleted_at.is_(None)))
    if address is None:
        raise NotFound("This customer has no such address.", code="address_not_found")
    return address


def _overlaps(a: AddressType, b: AddressType) -> bool:
    return a == b or AddressType.BOTH in (a, b)


def _make_default(customer: Customer, address: Address) -> None:
    for other in customer.addresses:
        if other is not address and other.deleted_at is None and _overlaps(other.type,
                                                                            address.type):
            other.is_default = False
    address.is_default = True


def add(session: Session, *, customer: Customer, data: AddressCreate, now: datetime
        ) -> Address:
    """Add an address (no audit row: the caller audits its action)."""
    address = Address(customer=customer, store_id=customer.store_id, created_at=now,
                      updated_at=now, **data.model_dump(exclude={"is_default"}))
    session.add(address)
    first_of_type = not any(a.deleted_at is None and _overlaps(a.type, address.type)
                            for a in customer.addresses if a is not address)
    if data.is_default or first_of_type:
        _make_default(customer, address)
    return address


def create(session: Session, *, actor: Principal, customer: Customer, data: AddressCreate,
           now: datetime, meta: RequestMeta) -> Address:
    address = add(session, customer=customer, data=data, now=now)
    customer.updated_at = now
    session.flush()
    audit.record(session, actor=actor, action="address.create", entity_type="address",
                 entity_id=address.id, after=audit.snapshot(address), request_meta=meta)
    return address


def update(session: Session, *, actor: Principal, customer: Customer, address: Address,
           data: AddressUpdate, now: datetime, meta: RequestMeta) -> Address:
    changes = data.model_dump(exclude_unset=True)
    reject_nulls(changes, NOT_NULL)
    before = audit.snapshot(address)
    for name, value in changes.items():
        if name != "is_default":
            setattr(address, name, value)
    if changes.get("is_default") is True:
        _make_default(customer, address)
    elif changes.get("is_default") is False:
        address.is_default = False
    address.updated_at = now
    audit.record(session, actor=actor, action="address.update", entity_type="address",
                 entity_id=address.id, before=before, after=audit.snapshot(address),
                 request_meta=meta)
    return address


def delete(session: Session, *, actor: Principal, customer: Customer, address: Address,
           now: datetime, meta: RequestMeta) -> None:
    """Soft-delete; another address of the same type becomes the default if this one was."""
    before = audit.snapshot(address)
    address.deleted_at = now
    address.updated_at = now
    if address.is_default:
        address.is_default = False
        for other in sorted(customer.addresses, key=lambda a: as_utc(a.created_at)):
            if other.deleted_at is None and _overlaps(other.type, address.type):
                other.is_default = True
                break
    audit.record(session, actor=actor, action="address.delete", entity_type="address",
                 entity_id=address.id, before=before, after=audit.snapshot(address),
                 request_meta=meta)

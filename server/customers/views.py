"""Customers and their addresses, with stats (lifetime value) and order history."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from server.api.deps import MetaDep, NowDep, SessionDep, require_permission
from server.api.errors import problem_responses
from server.catalog.view_params import IdPath, PageQ, PageSizeQ, SearchQ
from server.customers import addresses_service
from server.customers import service as customer_service
from server.customers.models import Customer
from server.customers.schemas import (
    AddressCreate,
    AddressRead,
    AddressUpdate,
    CustomerCreate,
    CustomerListItem,
    CustomerOrder,
    CustomerOrderPage,
    CustomerPage,
    CustomerRead,
    CustomerStats,
    CustomerUpdate,
)
from server.identity.principal import Principal
from stormcom_pos.domain.enums import OrderStatus

router = APIRouter(prefix="/customers", tags=["customers"])
Reader = Annotated[Principal, require_permission("customers.read")]
Writer = Annotated[Principal, require_permission("customers.write")]
ITEM_ERRORS = problem_responses(400, 401, 403, 404, 422)
WRITE_ERRORS = problem_responses(400, 401, 403, 404, 409, 422)


def _stats(s: customer_service.Stats | None) -> CustomerStats:
    s = s or customer_service.Stats()
    return CustomerStats(order_count=s.order_count, paid_order_count=s.paid_order_count,
                         lifetime_value=s.lifetime_value, last_order_at=s.last_order_at)


def _address(a: object) -> AddressRead:
    return AddressRead.model_validate(a, from_attributes=True)


def _detail(db: Session, customer: Customer) -> CustomerRead:
    stats = customer_service.stats(db, [customer.id]).get(customer.id)
    return CustomerRead(
        **{k: getattr(customer, k) for k in (
            "id", "first_name", "last_name", "email", "phone", "is_guest", "email_verified",
            "language", "marketing_opt_in", "is_tax_exempt", "tax_exempt_reason",
            "created_at", "updated_at")},
        stats=_stats(stats),
        addresses=[_address(a) for a in customer_service.live_addresses(customer)])


@router.get("", response_model=CustomerPage, responses=problem_responses(400, 401, 403, 422))
def list_customers(
    _: Reader, db: SessionDep,
    q: SearchQ = None, is_guest: bool | None = None, is_tax_exempt: bool | None = None,
    sort: Literal["name", "-name", "created_at", "-created_at", "email"] = "name",
    page: PageQ = 1, page_size: PageSizeQ = 20,
) -> CustomerPage:
    """Live customers; ``q`` matches part of a name or email, or a phone number written any
    way (spaces, dashes and brackets are ignored)."""
    rows, total = customer_service.list_(db, q=q or None, is_guest=is_guest,
                                         is_tax_exempt=is_tax_exempt, sort=sort, page=page,
                                         page_size=page_size)
    stats = customer_service.stats(db, [c.id for c in rows])
    return CustomerPage(
        items=[CustomerListItem(
            id=c.id, first_name=c.first_name, last_name=c.last_name, email=c.email,
            phone=c.phone, is_guest=c.is_guest, is_tax_exempt=c.is_tax_exempt,
            stats=_stats(stats.get(c.id)), created_at=c.created_at) for c in rows],
        total=total, page=page, page_size=page_size)


@router.post("", response_model=CustomerRead, status_code=201,
             responses=problem_responses(400, 401, 403, 409, 422))
def create_customer(body: CustomerCreate, actor: Writer, db: SessionDep, now: NowDep,
                    meta: MetaDep) -> CustomerRead:
    """Create a customer (email unique in the store: 409 otherwise), with addresses."""
    customer = customer_service.create(db, actor=actor, data=body, now=now, meta=meta)
    return _detail(db, customer)


@router.get("/{customer_id}", response_model=CustomerRead, responses=ITEM_ERRORS)
def get_customer(customer_id: IdPath, _: Reader, db: SessionDep) -> CustomerRead:
    """A customer with addresses and stats (order count, lifetime value, last order)."""
    return _detail(db, customer_service.with_addresses(db, customer_id=customer_id))


@router.patch("/{customer_id}", response_model=CustomerRead, responses=WRITE_ERRORS)
def update_customer(customer_id: IdPath, body: CustomerUpdate, actor: Writer, db: SessionDep,
                    now: NowDep, meta: MetaDep) -> CustomerRead:
    """Change the fields sent; a tax exemption needs its reason."""
    customer = customer_service.with_addresses(db, customer_id=customer_id)
    customer = customer_service.update(db, actor=actor, customer=customer, data=body, now=now,
                                       meta=meta)
    return _detail(db, customer)


@router.delete("/{customer_id}", status_code=204, responses=ITEM_ERRORS)
def delete_customer(customer_id: IdPath, actor: Writer, db: SessionDep, now: NowDep,
                    meta: MetaDep) -> Response:
    """Soft-delete the customer and their addresses (orders keep their copy)."""
    customer = customer_service.with_addresses(db, customer_id=customer_id)
    customer_service.soft_delete(db, actor=actor, customer=customer, now=now, meta=meta)
    return Response(status_code=204)


@router.get("/{customer_id}/orders", response_model=CustomerOrderPage, responses=ITEM_ERRORS)
def customer_orders(customer_id: IdPath, _: Reader, db: SessionDep,
                    status: OrderStatus | None = None, page: PageQ = 1,
                    page_size: PageSizeQ = 20) -> CustomerOrderPage:
    """The customer's order history, newest first."""
    customer = customer_service.get(db, customer_id=customer_id)
    rows, total = customer_service.orders(db, customer=customer, status=status, page=page,
                                          page_size=page_size)
    return CustomerOrderPage(items=[CustomerOrder.model_validate(o, from_attributes=True)
                                    for o in rows], total=total, page=page,
                             page_size=page_size)


@router.get("/{customer_id}/addresses", response_model=list[AddressRead],
            responses=ITEM_ERRORS)
def list_addresses(customer_id: IdPath, _: Reader, db: SessionDep) -> list[AddressRead]:
    customer = customer_service.get(db, customer_id=customer_id)
    return [_address(a) for a in addresses_service.list_(db, customer=customer)]


@router.post("/{customer_id}/addresses", response_model=AddressRead, status_code=201,
             responses=ITEM_ERRORS)
def create_address(customer_id: IdPath, body: AddressCreate, actor: Writer, db: SessionDep,
                   now: NowDep, meta: MetaDep) -> AddressRead:
    """Add an address; the first of its type (or one sent with is_default) is the default."""
    customer = customer_service.with_addresses(db, customer_id=customer_id)
    return _address(addresses_service.create(db, actor=actor, customer=customer, data=body,
                                             now=now, meta=meta))


@router.patch("/{customer_id}/addresses/{address_id}", response_model=AddressRead,
              responses=ITEM_ERRORS)
def update_address(customer_id: IdPath, address_id: IdPath, body: AddressUpdate,
                   actor: Writer, db: SessionDep, now: NowDep, meta: MetaDep) -> AddressRead:
    customer = customer_service.with_addresses(db, customer_id=customer_id)
    address = addresses_service.get(db, customer=customer, address_id=address_id)
    return _address(addresses_service.update(db, actor=actor, customer=customer,
                                             address=address, data=body, now=now, meta=meta))


@router.delete("/{customer_id}/addresses/{address_id}", status_code=204,
               responses=ITEM_ERRORS)
def delete_address(customer_id: IdPath, address_id: IdPath, actor: Writer, db: SessionDep,
                   now: NowDep, meta: MetaDep) -> Response:
    customer = customer_service.with_addresses(db, customer_id=customer_id)
    address = addresses_service.get(db, customer=customer, address_id=address_id)
    addresses_service.delete(db, actor=actor, customer=customer, address=address, now=now,
                             meta=meta)
    return Response(status_code=204)

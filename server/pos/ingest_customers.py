"""``customer.create``: a customer added at the till, kept with the till's id.

A conflict-free insert (sync-anchors §2.9): the same person entered twice is a duplicate to
merge in the back office, not a sync conflict. An email already used by another customer of
the store is not stored on the new one (emails are unique per store); the new customer is
flagged ``duplicate_customer`` with the other's id, so sales that name the till's id still
find their customer. The customer then travels to every till of the store through the feed.
"""

from __future__ import annotations

from sqlalchemy import select

from server.customers.models import Customer
from server.pos import ingest_common as common
from server.pos.anomaly_models import AnomalyKind
from stormcom_pos.domain.sync_payloads import CustomerCreate


def create(ctx: common.OpContext, data: CustomerCreate) -> common.Outcome:
    existing = ctx.session.get(Customer, data.customer_id)
    if existing is not None:
        return common.Outcome("customer", existing.id,
                              {"customer_id": existing.id, "already_recorded": True})
    email = data.email.strip().lower() if data.email and data.email.strip() else None
    if email is not None:
        other = ctx.session.scalar(select(Customer.id).where(Customer.email == email))
        if other is not None:
            ctx.flag(AnomalyKind.DUPLICATE_CUSTOMER, "customer", data.customer_id,
                     email=email, existing_customer_id=other)
            email = None
    ctx.session.add(Customer(
        id=data.customer_id, store_id=ctx.store_id, first_name=data.first_name,
        last_name=data.last_name, email=email, phone=data.phone, is_guest=False,
        created_at=ctx.now, updated_at=ctx.now))
    return common.Outcome("customer", data.customer_id, {"customer_id": data.customer_id})

"""Plan limits of the current store (products, orders a month, staff, POS access).

The rules themselves are ``stormcom_pos.domain.plans``; this module counts usage in the
database and raises ``PlanLimitReached`` with the domain's message when an addition will not
fit. A check at 80% or more passes with a ``WARN`` result whose message callers show.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from server.catalog.models import Product
from server.clock import as_utc
from server.errors import PlanLimitReached
from server.identity.models import UserStore
from server.orders.models import Order
from server.stores.models import StoreSubscription, SubscriptionPlan
from stormcom_pos.domain.enums import SubscriptionStatus
from stormcom_pos.domain.plans import (
    PLANS,
    LimitCheck,
    LimitResource,
    LimitState,
    PlanSpec,
    SubscriptionAccess,
    can_use_pos,
    check_plan_limit,
    subscription_access,
)


def subscription(db: Session, *, store_id: str) -> StoreSubscription | None:
    return db.scalar(select(StoreSubscription).where(StoreSubscription.store_id == store_id))


def plan_slug_of(store_id: Any) -> ScalarSelect[str]:
    """The store's plan slug as a subquery (NULL without a subscription), for a caller that
    reads the plan in the same statement as its own rows."""
    return (select(SubscriptionPlan.slug)
            .join(StoreSubscription, StoreSubscription.plan_id == SubscriptionPlan.id)
            .where(StoreSubscription.store_id == store_id).scalar_subquery())


def plan_named(slug: str | None) -> PlanSpec:
    """The plan of a slug (Free when there is none)."""
    return PLANS.get((slug or "free").lower(), PLANS["free"])


def plan_of(db: Session, *, store_id: str) -> PlanSpec:
    """The store's plan (Free when it has no subscription)."""
    return plan_named(db.scalar(select(plan_slug_of(store_id))))


def month_start(now: datetime) -> datetime:
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage(db: Session, *, store_id: str, resource: LimitResource, now: datetime) -> int:
    """How much of a limited resource the store uses now (orders: this calendar month, UTC)."""
    if resource is LimitResource.PRODUCTS:
        stmt = select(func.count()).select_from(Product).where(
            Product.store_id == store_id, Product.deleted_at.is_(None))
    elif resource is LimitResource.ORDERS:
        stmt = select(func.count()).select_from(Order).where(
            Order.store_id == store_id, Order.created_at >= month_start(now))
    elif resource is LimitResource.STAFF:
        stmt = select(func.count()).select_from(UserStore).where(
            UserStore.store_id == store_id, UserStore.is_active.is_(True))
    else:
        sub = subscription(db, store_id=store_id)
        return sub.current_storage if sub else 0
    return int(db.scalar(stmt) or 0)


def check(
    db: Session, *, store_id: str, resource: LimitResource, now: datetime, adding: int = 1
) -> LimitCheck:
    """Check adding ``adding`` units; raise PlanLimitReached if it will not fit."""
    plan = plan_of(db, store_id=store_id)
    result = check_plan_limit(plan, resource, usage(db, store_id=store_id, resource=resource,
                                                    now=now), adding)
    if result.state is LimitState.BLOCKED:
        raise PlanLimitReached(result.message, resource=resource.value, limit=result.limit,
                               used=result.used, plan=plan.slug)
    return result


def access(db: Session, *, store_id: str, now: datetime) -> SubscriptionAccess:
    sub = subscription(db, store_id=store_id)
    if sub is None:
        return subscription_access(SubscriptionStatus.ACTIVE, now)
    return subscription_access(
        sub.status, now,
        trial_end_date=as_utc(sub.trial_end_date) if sub.trial_end_date else None,
        end_date=as_utc(sub.end_date) if sub.end_date else None,
    )


def require_pos_access(db: Session, *, store_id: str, now: datetime) -> None:
    """Refuse POS use when the plan lacks ``hasPosAccess`` or the store no longer takes orders."""
    plan = plan_of(db, store_id=store_id)
    state = access(db, store_id=store_id, now=now)
    if not plan.has_pos_access:
        raise PlanLimitReached(
            f"The {plan.name} plan does not include POS terminals. Upgrade to Basic or above.",
            code="pos_not_in_plan", title="POS not in plan", plan=plan.slug)
    if not can_use_pos(plan, state):
        raise PlanLimitReached(state.message, code="subscription_suspended",
                               title="Subscription suspended", plan=plan.slug)


def report(db: Session, *, store_id: str, now: datetime) -> list[LimitCheck]:
    """Current usage of each limited resource against the plan (adding nothing)."""
    plan = plan_of(db, store_id=store_id)
    return [
        check_plan_limit(plan, r, usage(db, store_id=store_id, resource=r, now=now), 0)
        for r in (LimitResource.PRODUCTS, LimitResource.ORDERS, LimitResource.STAFF)
    ]

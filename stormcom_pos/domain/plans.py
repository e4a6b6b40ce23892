"""Subscription plans, their limits, and what a store may do given its subscription dates.

Numbers from product-decisions §4: Free 10 products / 50 orders a month / 1 staff; Basic $29
with 100/500/3; Pro $99 with 1000/5000/10; Enterprise unlimited. Rate limits per minute
60/120/300/1000. Warn at 80% of a limit. Trials last 14 days; after expiry come 7 days of
read-only grace, then suspension. Expiry instants are inclusive (CHK056).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from stormcom_pos.domain.enums import BillingCycle, SubscriptionStatus
from stormcom_pos.domain.errors import DomainError

__all__ = [
    "GRACE_DAYS",
    "PLANS",
    "TRIAL_DAYS",
    "WARN_PERCENT",
    "AccessState",
    "LimitCheck",
    "LimitResource",
    "LimitState",
    "PlanSpec",
    "SubscriptionAccess",
    "UnknownPlan",
    "can_use_pos",
    "check_plan_limit",
    "plan_by_slug",
    "subscription_access",
    "trial_end",
]

TRIAL_DAYS = 14
GRACE_DAYS = 7
WARN_PERCENT = 80


class UnknownPlan(DomainError):  # noqa: N818 - the package names errors without a suffix
    code = "unknown_plan"


class LimitResource(StrEnum):
    """What a plan limits."""

    PRODUCTS = "PRODUCTS"
    ORDERS = "ORDERS"  # per calendar month
    STAFF = "STAFF"
    STORAGE_MB = "STORAGE_MB"


_RESOURCE_LABEL = {
    LimitResource.PRODUCTS: "products",
    LimitResource.ORDERS: "orders this month",
    LimitResource.STAFF: "staff members",
    LimitResource.STORAGE_MB: "MB of storage",
}


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A subscription tier. A limit of None means unlimited; price None means quoted."""

    slug: str
    name: str
    tier: int
    price_usd: Decimal | None
    max_products: int | None
    max_orders: int | None
    max_staff: int | None
    max_storage_mb: int | None
    api_rate_limit: int
    has_pos_access: bool
    has_advanced_reports: bool
    has_abandoned_cart: bool
    has_api_access: bool
    has_priority_support: bool
    trial_days: int = TRIAL_DAYS
    billing_cycle: BillingCycle = BillingCycle.MONTHLY

    def limit(self, resource: LimitResource) -> int | None:
        """The plan's limit for a resource (None for unlimited)."""
        return {
            LimitResource.PRODUCTS: self.max_products,
            LimitResource.ORDERS: self.max_orders,
            LimitResource.STAFF: self.max_staff,
            LimitResource.STORAGE_MB: self.max_storage_mb,
        }[resource]


# Feature flags beyond the numbers are our choice (the sources leave them open): POS from
# Basic up, since Free is a tryout; reports, API keys and abandoned carts from Pro up.
_PLAN_LIST = (
    PlanSpec(
        slug="free", name="Free", tier=0, price_usd=Decimal("0"),
        max_products=10, max_orders=50, max_staff=1, max_storage_mb=100, api_rate_limit=60,
        has_pos_access=False, has_advanced_reports=False, has_abandoned_cart=False,
        has_api_access=False, has_priority_support=False,
    ),
    PlanSpec(
        slug="basic", name="Basic", tier=1, price_usd=Decimal("29"),
        max_products=100, max_orders=500, max_staff=3, max_storage_mb=1024, api_rate_limit=120,
        has_pos_access=True, has_advanced_reports=False, has_abandoned_cart=False,
        has_api_access=False, has_priority_support=False,
    ),
    PlanSpec(
        slug="pro", name="Pro", tier=2, price_usd=Decimal("99"),
        max_products=1000, max_orders=5000, max_staff=10, max_storage_mb=10240,
        api_rate_limit=300,
        has_pos_access=True, has_advanced_reports=True, has_abandoned_cart=True,
        has_api_access=True, has_priority_support=False,
    ),
    PlanSpec(
        slug="enterprise", name="Enterprise", tier=3, price_usd=None,
        max_products=None, max_orders=None, max_staff=None, max_storage_mb=None,
        api_rate_limit=1000,
        has_pos_access=True, has_advanced_reports=True, has_abandoned_cart=True,
        has_api_access=True, has_priority_support=True,
    ),
)  # fmt: skip
PLANS: Mapping[str, PlanSpec] = {p.slug: p for p in _PLAN_LIST}


def plan_by_slug(slug: str) -> PlanSpec:
    """The plan with this slug, or raise :class:`UnknownPlan`."""
    try:
        return PLANS[slug.lower()]
    except KeyError:
        raise UnknownPlan(f"no plan called {slug!r}; plans are {', '.join(PLANS)}") from None


class LimitState(StrEnum):
    """Outcome of a limit check."""

    OK = "OK"
    WARN = "WARN"
    BLOCKED = "BLOCKED"


@dataclass(frozen=True, slots=True)
class LimitCheck:
    """Result of checking an addition against a plan limit, with a message for people."""

    state: LimitState
    resource: LimitResource
    used: int
    limit: int | None
    message: str

    @property
    def allowed(self) -> bool:
        """False only when blocked."""
        return self.state is not LimitState.BLOCKED


def check_plan_limit(
    plan: PlanSpec, resource: LimitResource, current: int, adding: int = 1
) -> LimitCheck:
    """Whether ``adding`` more fits the plan: OK, WARN from 80% of the limit, or BLOCKED.

    ``used`` in the result is the usage after the addition, or the current usage if blocked.
    """
    if current < 0 or adding < 0:
        raise DomainError(f"usage cannot be negative (current {current}, adding {adding})")
    label = _RESOURCE_LABEL[resource]
    limit = plan.limit(resource)
    after = current + adding
    if limit is None:
        return LimitCheck(LimitState.OK, resource, after, None, f"{after} {label} (unlimited)")
    if after > limit:
        room = max(limit - current, 0)
        return LimitCheck(
            LimitState.BLOCKED,
            resource,
            current,
            limit,
            f"The {plan.name} plan allows {limit} {label}; {current}/{limit} are used, so "
            f"{adding} more will not fit (room for {room}). Upgrade your plan to add more.",
        )
    # Integer arithmetic so 80% of small limits (e.g. 8 of 10) is exact.
    if after * 100 >= limit * WARN_PERCENT:
        return LimitCheck(
            LimitState.WARN,
            resource,
            after,
            limit,
            f"{after}/{limit} {label} used ({after * 100 // limit}% of the {plan.name} "
            f"plan's limit).",
        )
    return LimitCheck(LimitState.OK, resource, after, limit, f"{after}/{limit} {label} used.")


# ---- subscription access ---------------------------------------------------------------


class AccessState(StrEnum):
    """What a store's subscription allows right now."""

    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    GRACE_READ_ONLY = "GRACE_READ_ONLY"
    SUSPENDED = "SUSPENDED"


@dataclass(frozen=True, slots=True)
class SubscriptionAccess:
    """The access state, its deadlines, and the capabilities it grants."""

    state: AccessState
    expires_at: datetime | None
    suspended_at: datetime | None
    can_edit: bool
    can_take_orders: bool
    can_fulfil_orders: bool
    message: str


def trial_end(start: datetime, trial_days: int = TRIAL_DAYS) -> datetime:
    """When a trial started at ``start`` ends."""
    return start + timedelta(days=trial_days)


def subscription_access(
    status: SubscriptionStatus,
    now: datetime,
    *,
    trial_end_date: datetime | None = None,
    end_date: datetime | None = None,
) -> SubscriptionAccess:
    """Access from StoreSubscription's status and dates.

    The period ends at ``trial_end_date`` for a TRIAL and at ``end_date`` otherwise; a null
    end date on an ACTIVE or PAST_DUE subscription means it runs on. Grace is read-only for
    the back office, yet orders are still taken until suspension (CHK056).
    """
    if status is SubscriptionStatus.TRIAL:
        if trial_end_date is None:
            raise DomainError("a trial subscription needs its trial end date")
        expires: datetime | None = trial_end_date
    else:
        expires = end_date
    if expires is None:
        if status in (SubscriptionStatus.CANCELED, SubscriptionStatus.EXPIRED):
            # Nothing to count grace from, so no grace is given.
            return SubscriptionAccess(
                AccessState.SUSPENDED, None, None, False, False, True,
                f"The subscription is {status.lower()}; choose a plan to continue.",
            )  # fmt: skip
        return SubscriptionAccess(
            AccessState.ACTIVE, None, None, True, True, True, "The subscription is active."
        )
    suspends = expires + timedelta(days=GRACE_DAYS)
    if now <= expires:
        state = AccessState.TRIAL if status is SubscriptionStatus.TRIAL else AccessState.ACTIVE
        left = (expires - now).days
        what = "trial" if state is AccessState.TRIAL else "subscription"
        return SubscriptionAccess(
            state, expires, suspends, True, True, True,
            f"The {what} ends on {expires:%Y-%m-%d} ({left} days left).",
        )  # fmt: skip
    if now <= suspends:
        return SubscriptionAccess(
            AccessState.GRACE_READ_ONLY, expires, suspends, False, True, True,
            f"The subscription expired on {expires:%Y-%m-%d}. The store is read-only and will "
            f"be suspended on {suspends:%Y-%m-%d} unless a plan is chosen.",
        )  # fmt: skip
    return SubscriptionAccess(
        AccessState.SUSPENDED, expires, suspends, False, False, True,
        f"The store was suspended on {suspends:%Y-%m-%d}; choose a plan to reactivate it. "
        "Existing orders can still be fulfilled.",
    )  # fmt: skip


def can_use_pos(plan: PlanSpec, access: SubscriptionAccess) -> bool:
    """POS terminals may sell when the plan has POS access and orders are still taken."""
    return plan.has_pos_access and access.can_take_orders

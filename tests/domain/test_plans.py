"""Plans: the numbers of product-decisions §4, limit checks with the 80% warning, access state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stormcom_pos.domain.enums import SubscriptionStatus as S
from stormcom_pos.domain.errors import DomainError
from stormcom_pos.domain.plans import (
    PLANS,
    AccessState,
    LimitResource,
    LimitState,
    UnknownPlan,
    can_use_pos,
    check_plan_limit,
    plan_by_slug,
    subscription_access,
    trial_end,
)

D = Decimal


@pytest.mark.parametrize(
    ("slug", "price", "products", "orders", "staff", "rate"),
    [
        ("free", D("0"), 10, 50, 1, 60),
        ("basic", D("29"), 100, 500, 3, 120),
        ("pro", D("99"), 1000, 5000, 10, 300),
        ("enterprise", None, None, None, None, 1000),
    ],
)
def test_plan_numbers(
    slug: str, price: D | None, products: int | None, orders: int | None, staff: int | None,
    rate: int,
) -> None:  # fmt: skip
    plan = plan_by_slug(slug)
    assert (plan.price_usd, plan.max_products, plan.max_orders, plan.max_staff) == (
        price,
        products,
        orders,
        staff,
    )
    assert plan.api_rate_limit == rate
    assert plan.trial_days == 14


def test_tiers_are_ordered_and_pos_is_gated() -> None:
    assert [p.tier for p in PLANS.values()] == [0, 1, 2, 3]
    assert [p.has_pos_access for p in PLANS.values()] == [False, True, True, True]
    with pytest.raises(UnknownPlan, match="gold"):
        plan_by_slug("gold")


FREE = PLANS["free"]


@pytest.mark.parametrize(
    ("resource", "current", "adding", "state", "message"),
    [
        (LimitResource.PRODUCTS, 5, 1, LimitState.OK, "6/10 products used."),
        (LimitResource.PRODUCTS, 7, 1, LimitState.WARN, "8/10 products used (80%"),
        (LimitResource.PRODUCTS, 9, 1, LimitState.WARN, "10/10 products used (100%"),
        (LimitResource.PRODUCTS, 10, 1, LimitState.BLOCKED, "allows 10 products; 10/10"),
        (LimitResource.PRODUCTS, 8, 5, LimitState.BLOCKED, "(room for 2)"),
        (LimitResource.ORDERS, 39, 1, LimitState.WARN, "40/50 orders this month"),
        (LimitResource.ORDERS, 38, 1, LimitState.OK, "39/50"),
        (LimitResource.STAFF, 1, 1, LimitState.BLOCKED, "Upgrade your plan"),
    ],
)
def test_limit_checks(
    resource: LimitResource, current: int, adding: int, state: LimitState, message: str
) -> None:
    result = check_plan_limit(FREE, resource, current, adding)
    assert result.state is state
    assert message in result.message
    assert result.allowed is (state is not LimitState.BLOCKED)


def test_unlimited_plan_is_always_ok() -> None:
    result = check_plan_limit(PLANS["enterprise"], LimitResource.PRODUCTS, 10**6)
    assert result.state is LimitState.OK and result.limit is None


NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("status", "trial_end_date", "end_date", "state", "edit", "orders"),
    [
        (S.TRIAL, NOW + DAY, None, AccessState.TRIAL, True, True),
        (S.TRIAL, NOW, None, AccessState.TRIAL, True, True),  # expiry instant is inclusive
        (S.TRIAL, NOW - timedelta(seconds=1), None, AccessState.GRACE_READ_ONLY, False, True),
        (S.TRIAL, NOW - 7 * DAY, None, AccessState.GRACE_READ_ONLY, False, True),
        (S.TRIAL, NOW - 7 * DAY - timedelta(seconds=1), None, AccessState.SUSPENDED, False,
         False),
        (S.ACTIVE, None, None, AccessState.ACTIVE, True, True),
        (S.ACTIVE, None, NOW + 30 * DAY, AccessState.ACTIVE, True, True),
        (S.PAST_DUE, None, NOW - 3 * DAY, AccessState.GRACE_READ_ONLY, False, True),
        (S.CANCELED, None, NOW - 10 * DAY, AccessState.SUSPENDED, False, False),
        (S.EXPIRED, None, None, AccessState.SUSPENDED, False, False),
    ],
)  # fmt: skip
def test_subscription_access(
    status: S,
    trial_end_date: datetime | None,
    end_date: datetime | None,
    state: AccessState,
    edit: bool,
    orders: bool,
) -> None:
    access = subscription_access(status, NOW, trial_end_date=trial_end_date, end_date=end_date)
    assert access.state is state
    assert (access.can_edit, access.can_take_orders, access.can_fulfil_orders) == (
        edit,
        orders,
        True,  # existing orders can always be fulfilled
    )


def test_access_messages_give_dates() -> None:
    grace = subscription_access(S.ACTIVE, NOW, end_date=NOW - 2 * DAY)
    assert "expired on 2025-06-13" in grace.message and "suspended on 2025-06-20" in grace.message
    trial = subscription_access(S.TRIAL, NOW, trial_end_date=trial_end(NOW))
    assert trial.expires_at == NOW + 14 * DAY and "14 days left" in trial.message


def test_trial_needs_its_end_date() -> None:
    with pytest.raises(DomainError, match="trial end date"):
        subscription_access(S.TRIAL, NOW)


def test_pos_needs_plan_and_live_subscription() -> None:
    live = subscription_access(S.ACTIVE, NOW)
    gone = subscription_access(S.EXPIRED, NOW, end_date=NOW - 30 * DAY)
    assert can_use_pos(PLANS["basic"], live)
    assert not can_use_pos(PLANS["free"], live)
    assert not can_use_pos(PLANS["pro"], gone)

"""Shared enums: names and values exactly as data-model.md, plus the POS additions."""

from __future__ import annotations

from enum import StrEnum

import pytest

from stormcom_pos.domain import enums

EXPECTED = {
    "OrderStatus": "PENDING CONFIRMED PROCESSING SHIPPED DELIVERED CANCELED REFUNDED",
    "PaymentStatus": "PENDING AUTHORIZED PARTIALLY_PAID PAID PARTIALLY_REFUNDED REFUNDED FAILED",
    "FulfillmentStatus": (
        "UNFULFILLED PARTIALLY_FULFILLED FULFILLED PARTIALLY_SHIPPED SHIPPED DELIVERED"
    ),
    "PaymentMethod": (
        "CREDIT_CARD DEBIT_CARD PAYPAL BANK_TRANSFER CASH_ON_DELIVERY OTHER "
        "CASH CARD_PRESENT STORE_CREDIT GIFT_CARD"
    ),
    "PaymentTransactionStatus": (
        "PENDING AUTHORIZED CAPTURED FAILED REFUNDED PARTIALLY_REFUNDED CANCELED"
    ),
    "ShipmentStatus": "PENDING PICKED_UP IN_TRANSIT OUT_FOR_DELIVERY DELIVERED FAILED RETURNED",
    "RefundStatus": "PENDING PROCESSING COMPLETED FAILED REJECTED",
    "RefundReason": (
        "CUSTOMER_REQUEST DEFECTIVE_PRODUCT WRONG_ITEM_SHIPPED DAMAGED_IN_SHIPPING "
        "NOT_AS_DESCRIBED DUPLICATE_ORDER OTHER"
    ),
    "ShippingRateType": "FLAT_RATE PERCENTAGE WEIGHT_BASED PRICE_BASED",
    "DiscountType": "PERCENTAGE FIXED_AMOUNT FREE_SHIPPING BUY_X_GET_Y",
    "OrderChannel": "ONLINE POS",
    "CashMovementType": "PAY_IN PAY_OUT DROP",
    "PosSessionStatus": "OPEN CLOSED",
    "SubscriptionStatus": "TRIAL ACTIVE PAST_DUE CANCELED EXPIRED",
    "BillingCycle": "MONTHLY YEARLY",
    "FlashSaleStatus": "SCHEDULED ACTIVE ENDED CANCELED",
    "TaxExemptionStatus": "PENDING APPROVED REJECTED EXPIRED REVOKED",
}


@pytest.mark.parametrize(("name", "members"), sorted(EXPECTED.items()))
def test_members_match_the_data_model(name: str, members: str) -> None:
    enum = getattr(enums, name)
    assert issubclass(enum, StrEnum)
    assert [m.name for m in enum] == members.split()
    assert all(m.value == m.name for m in enum)


def test_all_lists_every_enum() -> None:
    assert sorted(enums.__all__) == sorted(EXPECTED)


def test_values_compare_as_strings() -> None:
    assert enums.OrderStatus.PENDING == "PENDING"
    assert enums.PaymentMethod("CASH") is enums.PaymentMethod.CASH

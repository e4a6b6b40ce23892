"""Enumerations shared by the till, the server models and the API, defined once here.

Member names and values follow ``data-model.md`` exactly, plus the POS additions of
product-decisions §2. Every value equals its name so the database, JSON and code agree.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "BillingCycle",
    "FlashSaleStatus",
    "TaxExemptionStatus",
    "CashMovementType",
    "DiscountType",
    "FulfillmentStatus",
    "OrderChannel",
    "OrderStatus",
    "PaymentMethod",
    "PaymentStatus",
    "PaymentTransactionStatus",
    "PosSessionStatus",
    "RefundReason",
    "RefundStatus",
    "ShipmentStatus",
    "ShippingRateType",
    "SubscriptionStatus",
]


class OrderStatus(StrEnum):
    """Lifecycle of an order (Order.status)."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    PROCESSING = "PROCESSING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELED = "CANCELED"
    REFUNDED = "REFUNDED"


class PaymentStatus(StrEnum):
    """Money state of a whole order (Order.paymentStatus), derived from its payments."""

    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    PARTIALLY_PAID = "PARTIALLY_PAID"
    PAID = "PAID"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    FAILED = "FAILED"


class FulfillmentStatus(StrEnum):
    """Goods state of a whole order (Order.fulfillmentStatus)."""

    UNFULFILLED = "UNFULFILLED"
    PARTIALLY_FULFILLED = "PARTIALLY_FULFILLED"
    FULFILLED = "FULFILLED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"


class PaymentMethod(StrEnum):
    """How a payment was made; the last four are the POS additions of product-decisions §2."""

    CREDIT_CARD = "CREDIT_CARD"
    DEBIT_CARD = "DEBIT_CARD"
    PAYPAL = "PAYPAL"
    BANK_TRANSFER = "BANK_TRANSFER"
    CASH_ON_DELIVERY = "CASH_ON_DELIVERY"
    OTHER = "OTHER"
    CASH = "CASH"
    CARD_PRESENT = "CARD_PRESENT"
    STORE_CREDIT = "STORE_CREDIT"
    GIFT_CARD = "GIFT_CARD"


class PaymentTransactionStatus(StrEnum):
    """State of one payment transaction (Payment.status)."""

    PENDING = "PENDING"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    FAILED = "FAILED"
    REFUNDED = "REFUNDED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    CANCELED = "CANCELED"


class ShipmentStatus(StrEnum):
    """Carrier state of one shipment (Shipment.status)."""

    PENDING = "PENDING"
    PICKED_UP = "PICKED_UP"
    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    RETURNED = "RETURNED"


class RefundStatus(StrEnum):
    """Processing state of a refund (Refund.status)."""

    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    REJECTED = "REJECTED"


class RefundReason(StrEnum):
    """Why a refund was given (Refund.reason)."""

    CUSTOMER_REQUEST = "CUSTOMER_REQUEST"
    DEFECTIVE_PRODUCT = "DEFECTIVE_PRODUCT"
    WRONG_ITEM_SHIPPED = "WRONG_ITEM_SHIPPED"
    DAMAGED_IN_SHIPPING = "DAMAGED_IN_SHIPPING"
    NOT_AS_DESCRIBED = "NOT_AS_DESCRIBED"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    OTHER = "OTHER"


class ShippingRateType(StrEnum):
    """How a shipping rate's cost is computed (ShippingRate.rateType)."""

    FLAT_RATE = "FLAT_RATE"
    PERCENTAGE = "PERCENTAGE"
    WEIGHT_BASED = "WEIGHT_BASED"
    PRICE_BASED = "PRICE_BASED"


class DiscountType(StrEnum):
    """Kind of coupon (Coupon.discountType)."""

    PERCENTAGE = "PERCENTAGE"
    FIXED_AMOUNT = "FIXED_AMOUNT"
    FREE_SHIPPING = "FREE_SHIPPING"
    BUY_X_GET_Y = "BUY_X_GET_Y"


class OrderChannel(StrEnum):
    """Where an order was taken (Order.channel, product-decisions §2)."""

    ONLINE = "ONLINE"
    POS = "POS"


class CashMovementType(StrEnum):
    """Kind of drawer movement outside a sale (PosCashMovement.type)."""

    PAY_IN = "PAY_IN"
    PAY_OUT = "PAY_OUT"
    DROP = "DROP"


class PosSessionStatus(StrEnum):
    """Whether a drawer session is still taking sales (PosSession.status)."""

    OPEN = "OPEN"
    CLOSED = "CLOSED"


class SubscriptionStatus(StrEnum):
    """Billing state of a store's subscription (StoreSubscription.status)."""

    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    PAST_DUE = "PAST_DUE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


class BillingCycle(StrEnum):
    """How often a plan is billed (SubscriptionPlan.billingCycle)."""

    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"


class FlashSaleStatus(StrEnum):
    """Lifecycle of a flash sale (FlashSale.status)."""

    SCHEDULED = "SCHEDULED"
    ACTIVE = "ACTIVE"
    ENDED = "ENDED"
    CANCELED = "CANCELED"


class TaxExemptionStatus(StrEnum):
    """Review state of a customer's tax-exemption certificate (TaxExemption.status)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    REVOKED = "REVOKED"

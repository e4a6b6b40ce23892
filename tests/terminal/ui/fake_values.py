"""Value types and data of the fake services (see fakes.py)."""

from __future__ import annotations

from dataclasses import dataclass, make_dataclass
from datetime import UTC, datetime
from decimal import Decimal


def _value(name: str, fields: str) -> type:
    """A frozen dataclass named like the services' value type (duck-typed for the UI)."""
    return make_dataclass(name, fields.split(), frozen=True)


StaffChoice = _value("StaffChoice", "user_id name role")
Cashier = _value("Cashier", "user_id name role permissions")
Approval = _value("Approval", "approver_id approver_name permission reason at")
CartLineView = _value("CartLineView",
                      "line_id variant_id name sku quantity unit_price discount total warning")
CartView = _value("CartView", "lines subtotal discount_total tax_lines total customer_name "
                  "coupon_codes item_count")
ScanResult = _value("ScanResult", "line_id message warning")
CustomerView = _value("CustomerView", "id name phone email")
ParkedView = _value("ParkedView", "park_id label total parked_at")
SaleResult = _value("SaleResult", "order_id receipt_number total change rounding_adjustment "
                    "print_warning")
DrawerView = _value("DrawerView", "pos_session_id opened_at opening_float cashier_name")
CloseResult = _value("CloseResult", "expected counted over_short z_report pdf_path")
ReturnLineView = _value("ReturnLineView", "order_item_id name sold_qty refundable_qty unit_total")
SaleView = _value("SaleView", "order_id receipt_number completed_at total lines tenders")
RefundResult = _value("RefundResult", "refund_id amount receipt_number")
QueuedPrint = _value("QueuedPrint", "job_id kind label error")
SetupProgress = _value("SetupProgress",
                       "phase loaded total fraction eta_seconds selling_ready done")

TAX_RATE = Decimal("0.08")
CASHIER_DISCOUNT_LIMIT = Decimal(10)
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeHit:
    variant_id: str
    name: str
    sku: str
    barcode: str
    price: Decimal
    stock_on_hand: Decimal
    category: str


PRODUCTS = [
    FakeHit("v-coffee", "Ground coffee 250 g", "COF-250", "0614141000012", Decimal("7.99"),
            Decimal(20), "Pantry"),
    FakeHit("v-milk", "Whole milk 1 L", "MLK-1L", "0614141000029", Decimal("1.49"),
            Decimal(50), "Dairy"),
    FakeHit("v-bread", "Sourdough loaf", "BRD-SD", "0614141000036", Decimal("4.25"),
            Decimal(1), "Bakery"),
    FakeHit("v-eggs", "Free-range eggs x12", "EGG-12", "0614141000043", Decimal("3.80"),
            Decimal(30), "Dairy"),
]
STAFF = {
    "u-ann": ("Ann Cashier", "CASHIER", "1111", frozenset({"pos.sell"})),
    "u-max": ("Max Manager", "MANAGER", "9999",
              frozenset({"pos.sell", "pos.discount.override", "pos.price.override",
                         "pos.refund", "pos.no_sale", "pos.cash.pay_out"})),
}



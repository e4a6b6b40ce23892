"""Builders for the till's payloads and for server rows as the mirror sends them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from cuid2 import create_id

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.sync_payloads import OrderSubmit, SaleLine, SalePayment

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def sale(*, lines: list[tuple[str, Decimal | int, str]], receipt: str | None = None,
         session_id: str = "session-1", order_id: str | None = None) -> OrderSubmit:
    """A cash sale of (variant_id, quantity, unit price) lines, tax-free for simplicity."""
    order_id = order_id or create_id()
    sale_lines = []
    for variant_id, quantity, price in lines:
        net = Decimal(price) * Decimal(quantity)
        sale_lines.append(SaleLine(
            id=create_id(), variant_id=variant_id, product_id=f"p-{variant_id}",
            name=f"Item {variant_id}", sku=f"SKU-{variant_id}", quantity=Decimal(quantity),
            unit_price=Decimal(price), original_unit_price=Decimal(price), net=net,
            tax=Decimal("0.00"), total=net))
    total = sum((line.total for line in sale_lines), Decimal("0.00"))
    return OrderSubmit(
        order_id=order_id, receipt_number=receipt or f"DEMO-01-{create_id()[:6]}",
        pos_session_id=session_id, cashier_id="cashier-1", currency="USD",
        prices_include_tax=False, lines=sale_lines, subtotal=total,
        discount_total=Decimal("0.00"), tax_total=Decimal("0.00"), total=total,
        payments=[SalePayment(id=create_id(), method=PaymentMethod.CASH, amount=total,
                              tendered=total + Decimal(5), change=Decimal(5))],
        completed_at=NOW)


def product_row(product_id: str, name: str, *, status: str = "ACTIVE",
                tax_rate_id: str | None = None, is_taxable: bool = True) -> dict[str, Any]:
    return {"id": product_id, "store_id": "store-1", "name": name, "slug": product_id,
            "status": status, "is_taxable": is_taxable, "tax_rate_id": tax_rate_id,
            "deleted_at": None}


def variant_row(variant_id: str, product_id: str, *, sku: str, barcode: str | None = None,
                price: str = "2.50", stock: int = 10, is_active: bool = True,
                is_default: bool = True, attributes: dict[str, Any] | None = None,
                track_inventory: bool = True) -> dict[str, Any]:
    return {"id": variant_id, "store_id": "store-1", "product_id": product_id, "sku": sku,
            "barcode": barcode, "price": price, "compare_at_price": None,
            "cost_price": "1.00", "track_inventory": track_inventory, "stock_quantity": stock,
            "low_stock_threshold": 5, "is_active": is_active, "is_default": is_default,
            "attributes": attributes or {}, "deleted_at": None}

"""What the sell screen shows of the cart and of a finished sale (plain values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.pricing import PricedCart
from stormcom_pos.services.cart_state import CartState


@dataclass(frozen=True, slots=True)
class CartLineView:
    line_id: str
    variant_id: str
    name: str
    sku: str | None
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    total: Decimal
    warning: str | None


@dataclass(frozen=True, slots=True)
class CartView:
    lines: list[CartLineView]
    subtotal: Decimal
    discount_total: Decimal
    tax_lines: list[tuple[str, Decimal, Decimal]]
    total: Decimal
    customer_name: str | None
    coupon_codes: list[str]
    item_count: Decimal


@dataclass(frozen=True, slots=True)
class ScanResult:
    line_id: str | None
    message: str
    warning: str | None = None


@dataclass(frozen=True, slots=True)
class CustomerView:
    id: str
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True, slots=True)
class ParkedView:
    park_id: str
    label: str
    total: Decimal
    parked_at: datetime


@dataclass(frozen=True, slots=True)
class SaleResult:
    order_id: str
    receipt_number: str
    total: Decimal
    change: Decimal
    rounding_adjustment: Decimal
    print_warning: str | None


__all__ = [
    "CartLineView", "CartView", "CustomerView", "ParkedView", "PaymentMethod", "SaleResult",
    "ScanResult", "cart_view", "stock_warning",
]


def stock_warning(state: CartState, variant_id: str) -> str | None:
    """A warning when the cart holds more of a stock-tracked item than the till thinks exist."""
    lines = [ln for ln in state.lines if ln.hit.variant_id == variant_id]
    if not lines or not getattr(lines[0].hit, "track_inventory", False):
        return None
    wanted = sum((ln.quantity for ln in lines), ZERO)
    on_hand = Decimal(lines[0].hit.stock_on_hand)
    if wanted <= on_hand:
        return None
    shown = on_hand.normalize() if on_hand == on_hand.to_integral_value() else on_hand
    return (f"Only {max(shown, ZERO):f} in stock; selling anyway, "
            "the sale will be flagged for the back office.")


def cart_view(state: CartState, priced: PricedCart) -> CartView:
    """The cart as the sell screen shows it: amounts in the store's price convention."""
    inclusive = priced.prices_include_tax
    by_id = {ln.line_id: ln for ln in state.lines}
    views = []
    for p in priced.lines:
        line = by_id[p.line_id]
        views.append(CartLineView(
            line_id=p.line_id, variant_id=line.hit.variant_id, name=line.hit.name,
            sku=line.hit.sku, quantity=line.quantity, unit_price=p.unit_price,
            discount=p.discount_total, total=p.total if inclusive else p.net,
            warning=stock_warning(state, line.hit.variant_id)))
    count = sum((Decimal(1) if ln.weighed else ln.quantity for ln in state.lines), ZERO)
    return CartView(
        lines=views, subtotal=priced.subtotal, discount_total=priced.discount_total,
        tax_lines=[(t.name, t.rate, t.tax) for t in priced.taxes], total=priced.total,
        customer_name=state.customer_name, coupon_codes=[c.code for c in priced.applied_coupons],
        item_count=count)

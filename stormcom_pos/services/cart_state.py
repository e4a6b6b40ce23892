"""The cart being rung up: its lines as the cashier built them, and its pricing by the shared
rules (:func:`stormcom_pos.domain.pricing.price_cart`). Nothing here is stored until the sale
completes, except when the cart is parked (as JSON)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from stormcom_pos.domain.cart import Cart, CartLine, Customer, PricingContext
from stormcom_pos.domain.coupons import EnteredCoupon
from stormcom_pos.domain.discounts import ManualDiscount, ManualDiscountKind
from stormcom_pos.domain.pricing import PricedCart, price_cart
from stormcom_pos.domain.tax import TaxRate
from stormcom_pos.local_db import catalog_repo
from stormcom_pos.services import store_rules
from stormcom_pos.services.store_rules import StoreRules


@dataclass
class Line:
    """One cart line. ``label_price`` is a scale label's price; ``override_price`` a cashier's."""

    line_id: str
    hit: Any  # catalog_repo.ProductHit
    quantity: Decimal
    weighed: bool = False
    label_price: Decimal | None = None
    override_price: Decimal | None = None
    override_reason: str | None = None
    override_approved_by: str | None = None
    discount: ManualDiscount | None = None

    @property
    def unit_price(self) -> Decimal:
        if self.override_price is not None:
            return self.override_price
        if self.label_price is not None:
            return self.label_price
        return Decimal(self.hit.price)

    def cart_line(self) -> CartLine:
        return CartLine(
            line_id=self.line_id,
            product_id=self.hit.product_id,
            unit_price=self.unit_price,
            quantity=self.quantity,
            variant_id=self.hit.variant_id,
            category_ids=frozenset(getattr(self.hit, "category_ids", ()) or ()),
            taxable=bool(getattr(self.hit, "taxable", True)),
            tax_rate_id=getattr(self.hit, "tax_rate_id", None),
            manual_discount=self.discount,
        )


@dataclass
class CartState:
    """The lines, coupons, customer and order discount of the sale in progress."""

    lines: list[Line] = field(default_factory=list)
    coupon_codes: list[str] = field(default_factory=list)
    customer_id: str | None = None
    customer_name: str | None = None
    order_discount: ManualDiscount | None = None

    def line(self, line_id: str) -> Line | None:
        return next((line for line in self.lines if line.line_id == line_id), None)

    # ---- parking ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        def discount(d: ManualDiscount | None) -> dict[str, Any] | None:
            if d is None:
                return None
            return {"kind": d.kind.value, "value": str(d.value), "reason": d.reason,
                    "approved_by": d.approved_by}

        return {
            "lines": [
                {"line_id": ln.line_id, "variant_id": ln.hit.variant_id,
                 "quantity": str(ln.quantity), "weighed": ln.weighed,
                 "label_price": None if ln.label_price is None else str(ln.label_price),
                 "override_price": None if ln.override_price is None else str(ln.override_price),
                 "override_reason": ln.override_reason,
                 "override_approved_by": ln.override_approved_by,
                 "discount": discount(ln.discount)}
                for ln in self.lines
            ],
            "coupon_codes": list(self.coupon_codes),
            "customer_id": self.customer_id,
            "customer_name": self.customer_name,
            "order_discount": discount(self.order_discount),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], conn: Any) -> CartState:
        def discount(d: dict[str, Any] | None) -> ManualDiscount | None:
            if not d:
                return None
            return ManualDiscount(ManualDiscountKind(d["kind"]), Decimal(d["value"]),
                                  d["reason"], d.get("approved_by"))

        def dec(value: str | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        state = cls(coupon_codes=list(data.get("coupon_codes") or ()),
                    customer_id=data.get("customer_id"),
                    customer_name=data.get("customer_name"),
                    order_discount=discount(data.get("order_discount")))
        for raw in data.get("lines") or ():
            hit = catalog_repo.by_variant_id(conn, raw["variant_id"])
            if hit is None:  # the product left the catalog while the sale was parked
                continue
            state.lines.append(Line(
                line_id=raw["line_id"], hit=hit, quantity=Decimal(raw["quantity"]),
                weighed=bool(raw.get("weighed")), label_price=dec(raw.get("label_price")),
                override_price=dec(raw.get("override_price")),
                override_reason=raw.get("override_reason"),
                override_approved_by=raw.get("override_approved_by"),
                discount=discount(raw.get("discount"))))
        return state


def price(state: CartState, rules: StoreRules, tax_rates: tuple[TaxRate, ...], conn: Any,
          now: datetime) -> PricedCart:
    """Price the cart with the shared rules, reading promotions from the cache."""
    coupons = []
    for code in state.coupon_codes:
        row = catalog_repo.coupon_by_code(conn, code)
        coupons.append(EnteredCoupon(code, store_rules.coupon(row) if row else None))
    sales = [store_rules.flash_sale(row) for row in catalog_repo.active_flash_sales(conn, now)]
    context = PricingContext(
        settings=rules.pricing,
        now=now,
        address=rules.tax_address,
        tax_rates=tax_rates,
        customer=Customer(state.customer_id) if state.customer_id else None,
        flash_sales=tuple(s for s in sales if s is not None),
        coupons=tuple(coupons),
        order_discount=state.order_discount,
    )
    return price_cart(Cart(tuple(line.cart_line() for line in state.lines)), context)

"""Turn a priced cart and its tenders into the sale as recorded (``OrderSubmit``).

The tender rules (split payments, cash rounding, change) are ``stormcom_pos.domain.tenders``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from stormcom_pos.domain import tenders
from stormcom_pos.domain.cart import LineDiscount
from stormcom_pos.domain.discounts import DiscountSource
from stormcom_pos.domain.money import ZERO
from stormcom_pos.domain.pricing import PricedCart, PricedLine
from stormcom_pos.domain.sync_payloads import (
    DiscountLine,
    OrderSubmit,
    SaleLine,
    SalePayment,
    TaxLine,
)
from stormcom_pos.domain.tenders import Tender
from stormcom_pos.services.cart_state import CartState, Line
from stormcom_pos.services.errors import InvalidInput
from stormcom_pos.services.ids import new_id
from stormcom_pos.services.store_rules import StoreRules


@dataclass(frozen=True, slots=True)
class SettledTenders:
    payments: tuple[SalePayment, ...]
    rounding_adjustment: Decimal
    change: Decimal
    total: Decimal


def cash_due(total: Decimal, non_cash: Decimal, rules: StoreRules) -> Decimal:
    """The cash left to pay after the other tenders, rounded to the smallest coin."""
    return tenders.cash_due(total, non_cash, rules.cash_rounding_increment, rules.currency)


def settle(total: Decimal, given: list[Tender], rules: StoreRules) -> SettledTenders:
    """The shared tender rule (domain.tenders), with an id for each payment as recorded."""
    try:
        done = tenders.settle(total, given, currency=rules.currency,
                              cash_increment=rules.cash_rounding_increment, locale=rules.locale)
    except tenders.InvalidTender as exc:
        raise InvalidInput(exc.field, exc.message) from exc
    payments = tuple(SalePayment(id=new_id(), method=p.method, amount=p.amount,
                                 tendered=p.tendered, change=p.change, reference=p.reference)
                     for p in done.payments)
    return SettledTenders(payments, done.rounding_adjustment, done.change, done.total)


def _discount(d: LineDiscount) -> DiscountLine:
    if d.source is DiscountSource.COUPON:
        return DiscountLine(source="coupon", code=d.code, amount=d.amount)
    return DiscountLine(source="manual", reason=d.reason, approved_by=d.approved_by,
                        amount=d.amount)


def _sale_line(priced: PricedLine, line: Line) -> SaleLine:
    hit = line.hit
    return SaleLine(
        id=line.line_id,
        variant_id=hit.variant_id,
        product_id=hit.product_id,
        name=hit.name,
        sku=hit.sku,
        quantity=line.quantity,
        unit_price=priced.unit_price,
        original_unit_price=Decimal(hit.price),
        price_override_approved_by=line.override_approved_by,
        discounts=[_discount(d) for d in priced.discounts],
        taxes=[TaxLine(tax_rate_id=t.rate_id, name=t.name, rate=t.rate, amount=t.amount)
               for t in priced.taxes],
        net=priced.tax_base,
        tax=priced.tax_total,
        total=priced.total,
    )


def build_sale(
    *,
    state: CartState,
    priced: PricedCart,
    settled: SettledTenders,
    order_id: str,
    receipt_number: str,
    pos_session_id: str,
    cashier_id: str,
    completed_at: datetime,
) -> OrderSubmit:
    """The sale as the till records and pushes it: amounts exactly as charged."""
    by_id = {line.line_id: line for line in state.lines}
    order_discounts = []
    if state.order_discount is not None:
        amount = sum((s.amount for s in priced.discounts_by_source
                      if s.source is DiscountSource.MANUAL_ORDER), ZERO)
        if amount:
            order_discounts.append(DiscountLine(
                source="manual", reason=state.order_discount.reason,
                approved_by=state.order_discount.approved_by, amount=amount))
    return OrderSubmit(
        order_id=order_id,
        receipt_number=receipt_number,
        pos_session_id=pos_session_id,
        cashier_id=cashier_id,
        customer_id=state.customer_id,
        currency=priced.currency,
        prices_include_tax=priced.prices_include_tax,
        lines=[_sale_line(p, by_id[p.line_id]) for p in priced.lines],
        order_discounts=order_discounts,
        coupon_codes=[c.code for c in priced.applied_coupons],
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        tax_total=priced.tax_total,
        rounding_adjustment=settled.rounding_adjustment,
        total=settled.total,
        payments=list(settled.payments),
        completed_at=completed_at,
    )

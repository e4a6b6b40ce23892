"""Load what the shared pricing rules need from the database, then price with them.

saleor's split: this module *loads* a ``PricingContext`` (tax rates, live flash sales, the
coupons entered, the customer and their exemptions, the shipping charge from the shared
shipping rules); :func:`stormcom_pos.domain.pricing.price_cart` *computes*. Nothing here
rounds or discounts on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.catalog.models import Product, ProductCategory, ProductStatus, Variant
from server.clock import as_utc
from server.customers.models import Customer
from server.errors import Invalid
from server.orders import settings as store_settings
from server.promotions import service as promotions_service
from server.shipping import service as shipping_service
from server.stores.models import Store
from server.tax import service as tax_service
from server.tax.models import TaxExemption
from stormcom_pos.domain import cart as cart_rules
from stormcom_pos.domain import tax as tax_rules
from stormcom_pos.domain.cart import Cart, CartLine, PricedCart, PricingContext
from stormcom_pos.domain.pricing import price_cart
from stormcom_pos.domain.shipping import ShippingAddress, ShippingQuote

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class LineRequest:
    variant_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class LoadedCart:
    cart: Cart
    variants: dict[str, Variant]
    products: dict[str, Product]

    @property
    def weight_kg(self) -> Decimal:
        """The cart's weight from its variants (unknown weights count as zero)."""
        return sum((((self.variants[line.variant_id or ""].weight or ZERO) * line.quantity)
                    for line in self.cart.lines), ZERO)


@dataclass(frozen=True, slots=True)
class PricedOrder:
    loaded: LoadedCart
    priced: PricedCart
    shipping: ShippingQuote | None


def load_cart(session: Session, lines: Sequence[LineRequest]) -> LoadedCart:
    """Cart lines at today's catalog prices; 422 for an unknown or unsellable variant."""
    ids = {line.variant_id for line in lines}
    rows = session.execute(
        select(Variant, Product).join(Product, Variant.product_id == Product.id)
        .where(Variant.id.in_(ids), Variant.deleted_at.is_(None), Product.deleted_at.is_(None))
    ).all()
    variants = {v.id: v for v, _ in rows}
    products = {p.id: p for _, p in rows}
    for index, line in enumerate(lines):
        variant = variants.get(line.variant_id)
        if variant is None:
            raise Invalid(f"lines.{index}.variant_id: there is no such variant in this store.",
                          code="variant_not_found")
        product = products[variant.product_id]
        if not variant.is_active or product.status is not ProductStatus.ACTIVE:
            raise Invalid(f"SKU {variant.sku} is not for sale.", code="variant_not_for_sale")
    categories: dict[str, set[str]] = {}
    for product_id, category_id in session.execute(
        select(ProductCategory.product_id, ProductCategory.category_id)
        .where(ProductCategory.product_id.in_(products))
    ):
        categories.setdefault(product_id, set()).add(category_id)
    cart_lines = []
    for index, line in enumerate(lines):
        variant = variants[line.variant_id]
        product = products[variant.product_id]
        cart_lines.append(CartLine(
            line_id=str(index), product_id=product.id, unit_price=variant.price,
            quantity=Decimal(line.quantity), variant_id=variant.id,
            category_ids=frozenset(categories.get(product.id, ())),
            taxable=product.is_taxable, tax_rate_id=product.tax_rate_id,
        ))
    return LoadedCart(Cart(tuple(cart_lines)), variants, products)


Exemptions = tuple[tax_rules.TaxExemption, ...]


def _customer(session: Session,
              customer_id: str | None) -> tuple[cart_rules.Customer | None, Exemptions]:
    if customer_id is None:
        return None, ()
    customer = session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise Invalid("customer_id: there is no such customer in this store.",
                      code="customer_not_found")
    exemptions = tuple(
        tax_rules.TaxExemption(id=e.id, customer_id=e.customer_id, status=e.status,
                               expires_at=as_utc(e.expires_at),
                               certificate_num=e.certificate_num,
                               issuing_state=e.issuing_state)
        for e in session.scalars(select(TaxExemption).where(
            TaxExemption.customer_id == customer.id))
    )
    return cart_rules.Customer(customer.id, customer.is_tax_exempt), exemptions


def price(
    session: Session,
    *,
    store: Store,
    loaded: LoadedCart,
    customer_id: str | None,
    address: tax_rules.TaxAddress | None,
    codes: Iterable[str],
    shipping: Decimal,
    now: datetime,
) -> PricedCart:
    """Price a loaded cart with the store's current taxes and promotions."""
    customer, exemptions = _customer(session, customer_id)
    context = PricingContext(
        settings=store_settings.pricing_settings(store),
        now=now,
        address=address or tax_rules.TaxAddress(country=""),
        tax_rates=tax_service.active_rules(session),
        customer=customer,
        exemptions=exemptions,
        flash_sales=promotions_service.live_sales(session, now=now),
        coupons=promotions_service.entered_coupons(session, codes=codes,
                                                   customer_id=customer_id),
        shipping=shipping,
        shipping_taxable=store_settings.shipping_taxable(store),
    )
    return price_cart(loaded.cart, context)


def price_online_order(
    session: Session,
    *,
    store: Store,
    lines: Sequence[LineRequest],
    customer_id: str | None,
    address: tax_rules.TaxAddress,
    codes: Sequence[str],
    shipping_rate_id: str | None,
    now: datetime,
) -> PricedOrder:
    """Price an online order: merchandise first, then the shipping rate for its subtotal."""
    loaded = load_cart(session, lines)
    args = {"store": store, "loaded": loaded, "customer_id": customer_id, "address": address,
            "codes": codes, "now": now}
    goods = price(session, shipping=ZERO, **args)  # type: ignore[arg-type]
    quotes = shipping_service.quote(
        session, address=ShippingAddress(address.country, address.state, address.postal_code),
        subtotal=goods.net, weight_kg=loaded.weight_kg, currency=store.currency)
    chosen = quotes[0]
    if shipping_rate_id is not None:
        match = [q for q in quotes if q.rate_id == shipping_rate_id]
        if not match:
            raise Invalid("shipping_rate_id: that shipping rate is not offered for this "
                          "address and cart.", code="shipping_rate_unavailable")
        chosen = match[0]
    priced = price(session, shipping=chosen.cost, **args)  # type: ignore[arg-type]
    return PricedOrder(loaded, priced, chosen)

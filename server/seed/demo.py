"""``stormcom-server seed-demo``: a realistic demo store, and large synthetic catalogs for benches.

A second run refuses with a clear message (or, with ``if_empty``, does nothing), so running
``make run`` twice never duplicates the store or re-prints different credentials.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert, select
from sqlalchemy.orm import Session
from stdnum import ean

from server.catalog.models import Category, Product, ProductCategory, ProductStatus, Variant
from server.db.base import new_id, utcnow
from server.inventory.models import AdjustmentReason, InventoryAdjustment
from server.promotions.models import Coupon
from server.seed.catalog_data import CATEGORIES, PRODUCTS
from server.seed.operators import create_pairing_code, create_store, create_user
from server.shipping.models import ShippingRate, ShippingZone
from server.stores.models import Store
from server.tax.models import TaxRate
from stormcom_pos.domain.enums import DiscountType, ShippingRateType
from stormcom_pos.domain.money import round_money

DEMO_SLUG = "demo"
GS1_PREFIX = "0614141"  # GS1's documentation prefix; fine for a demo catalog
BULK_CHUNK = 5_000


class SeedRefused(Exception):
    pass


@dataclass
class SeedReport:
    store_slug: str
    credentials: list[tuple[str, str, str, str]] = field(default_factory=list)
    products: int = 0
    variants: int = 0
    pairing_code: str = ""

    def __str__(self) -> str:
        lines = [
            f"Demo store '{self.store_slug}' created: {self.products} products, "
            f"{self.variants} variants.",
            "",
            "Demo staff (shown once; keep them):",
        ]
        for role, email, password, pin in self.credentials:
            lines.append(f"  {role:<8} {email:<28} password {password}   POS PIN {pin}")
        lines += ["", f"POS terminal pairing code (valid 24 h): {self.pairing_code}"]
        return "\n".join(lines)


def _password() -> str:
    # Meets the policy (upper, lower, digit, symbol) whatever the random part is.
    body = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
    return f"Sc{body}7!"


def _pin() -> str:
    return f"{secrets.randbelow(10**4):04d}"


def ean13(n: int) -> str:
    """A valid EAN-13 for item number ``n`` under the demo GS1 prefix."""
    body = f"{GS1_PREFIX}{n:05d}"
    return body + ean.calc_check_digit(body)


def seed_demo(engine: Engine, *, products: int = 60, if_empty: bool = False) -> SeedReport | str:
    """Create the demo store; with ``products`` above the handcrafted ~60, add synthetic ones."""
    with Session(engine) as session, session.begin():
        if session.scalar(select(Store).where(Store.slug == DEMO_SLUG)):
            if if_empty:
                return f"Demo store '{DEMO_SLUG}' already exists; nothing to do."
            raise SeedRefused(
                f"the demo store '{DEMO_SLUG}' already exists in this database; use "
                "--if-empty to skip, or point STORMCOM_DATABASE_URL at an empty database"
            )
        store = create_store(
            session,
            name="StormCom Demo Grocery",
            slug=DEMO_SLUG,
            email="owner@demo.stormcom.test",
            currency="USD",
            plan="ENTERPRISE",
            code="DEMO",
        )
        report = SeedReport(store_slug=DEMO_SLUG)
        for role in ("OWNER", "MANAGER", "CASHIER"):
            email, password, pin = f"{role.lower()}@demo.stormcom.test", _password(), _pin()
            create_user(
                session,
                email=email,
                name=f"Demo {role.title()}",
                password=password,
                store_slug=DEMO_SLUG,
                role=role,
                pin=pin,
            )
            report.credentials.append((role, email, password, pin))
        categories = _seed_categories(session, store)
        report.products, report.variants = _seed_catalog(session, store, categories)
        if products > report.products:
            p, v = _seed_synthetic(session, store, categories, products - report.products)
            report.products += p
            report.variants += v
        _seed_settings(session, store)
        _, report.pairing_code = create_pairing_code(session, store=store, name="Till 1")
        return report


def _seed_categories(session: Session, store: Store) -> dict[str, Category]:
    out: dict[str, Category] = {}
    for order, (parent_name, children) in enumerate(CATEGORIES.items()):
        parent = Category(
            store_id=store.id, name=parent_name, slug=_slug(parent_name), display_order=order
        )
        session.add(parent)
        session.flush()
        out[parent_name] = parent
        for child_order, child_name in enumerate(children):
            child = Category(
                store_id=store.id,
                name=child_name,
                slug=_slug(child_name),
                parent_id=parent.id,
                display_order=child_order,
            )
            session.add(child)
            out[child_name] = child
    session.flush()
    return out


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-").replace("--", "-")


def _seed_catalog(
    session: Session, store: Store, categories: dict[str, Category]
) -> tuple[int, int]:
    item, variants = 0, 0
    for index, (category, name, price, options) in enumerate(PRODUCTS, start=1):
        product = Product(
            store_id=store.id,
            name=name,
            slug=_slug(name),
            description=f"{name}. A staple of the StormCom demo store.",
            sku=f"P{index:04d}",
            status=ProductStatus.ACTIVE,
            published_at=utcnow(),
        )
        session.add(product)
        session.flush()
        session.add(
            ProductCategory(
                store_id=store.id,
                product_id=product.id,
                category_id=categories[category].id,
                is_primary=True,
            )
        )
        combos = _combos(options)
        for n, attrs in enumerate(combos):
            item += 1
            suffix = "".join(f"-{v[:3].upper()}" for v in attrs.values())
            per_kg = bool(options.get("per_kg"))
            variant = Variant(
                store_id=store.id,
                product_id=product.id,
                sku=f"P{index:04d}{suffix}",
                price=price,
                cost_price=round_money(price * Decimal("0.6"), "USD"),
                barcode=None if per_kg else ean13(item),
                is_default=(n == 0),
                stock_quantity=0,
                attributes={
                    **attrs,
                    **(
                        {"sold_by": "weight", "unit": "kg", "plu": f"{index:05d}"} if per_kg else {}
                    ),
                },
            )
            # Stock is whole units (the seed's Int); produce sold by weight is not tracked,
            # as in most grocery tills.
            variant.track_inventory = not per_kg
            session.add(variant)
            session.flush()
            if not per_kg:
                _receive(session, store, variant, 24)
            variants += 1
    return len(PRODUCTS), variants


def _combos(options: dict[str, Any]) -> list[dict[str, str]]:
    sizes, colors = options.get("sizes") or [None], options.get("colors") or [None]
    return [{k: v for k, v in (("color", c), ("size", s)) if v} for c in colors for s in sizes]


def _receive(session: Session, store: Store, variant: Variant, qty: int) -> None:
    # Opening stock goes through the ledger so the projection and the movements agree.
    session.add(
        InventoryAdjustment(
            store_id=store.id,
            variant_id=variant.id,
            quantity_change=qty,
            new_quantity=variant.stock_quantity + qty,
            reason=AdjustmentReason.RESTOCK,
            notes="Opening stock (demo seed)",
        )
    )
    variant.stock_quantity += qty


def _seed_synthetic(
    session: Session, store: Store, categories: dict[str, Category], count: int
) -> tuple[int, int]:
    """Bulk-insert ``count`` products with one variant each, in chunks, for benchmarks."""
    cat_ids = [c.id for c in categories.values()]
    now = utcnow()
    words = [
        "Classic",
        "Organic",
        "Family",
        "Premium",
        "Value",
        "Fresh",
        "Spicy",
        "Mild",
        "Crunchy",
        "Smooth",
        "Golden",
        "Wild",
        "Mini",
        "Large",
        "Extra",
    ]
    nouns = [
        "Crackers",
        "Noodles",
        "Beans",
        "Sauce",
        "Biscuits",
        "Juice",
        "Soap",
        "Candles",
        "Granola",
        "Soup",
        "Chutney",
        "Tea",
        "Flour",
        "Spices",
        "Cereal",
    ]
    done = 0
    while done < count:
        n = min(BULK_CHUNK, count - done)
        prods, vars_, links = [], [], []
        for i in range(done, done + n):
            pid, price = new_id(), Decimal(100 + (i * 37) % 4900) / 100
            name = f"{words[i % 15]} {nouns[(i // 15) % 15]} No. {i + 1}"
            prods.append(
                {
                    "id": pid,
                    "store_id": store.id,
                    "name": name,
                    "slug": f"syn-{i + 1}",
                    "description": f"Synthetic product {i + 1} for benchmarks.",
                    "sku": f"S{i + 1:07d}",
                    "status": ProductStatus.ACTIVE,
                    "is_taxable": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            vars_.append(
                {
                    "id": new_id(),
                    "store_id": store.id,
                    "product_id": pid,
                    "sku": f"S{i + 1:07d}",
                    "barcode": ean13(10_000 + i) if i < 89_000 else None,
                    "price": price,
                    "stock_quantity": 100,
                    "is_default": True,
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
            )
            links.append(
                {
                    "id": new_id(),
                    "store_id": store.id,
                    "product_id": pid,
                    "category_id": cat_ids[i % len(cat_ids)],
                    "is_primary": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        session.execute(insert(Product), prods)
        session.execute(insert(Variant), vars_)
        session.execute(insert(ProductCategory), links)
        done += n
    return count, count


def _seed_settings(session: Session, store: Store) -> None:
    now = utcnow()
    # Where the store sells over the counter: the till taxes its sales at this address.
    store.address = "1 Market Street, San Francisco, CA 94105"
    store.settings = {
        **(store.settings or {}),
        "tax_address": {"country": "US", "state": "CA", "city": "San Francisco",
                        "postal_code": "94105"},
        "cash_rounding_increment": None,
        "cash_difference_tolerance": "5.00",
    }
    session.add_all(
        [
            TaxRate(
                store_id=store.id,
                name="State Sales Tax",
                country="US",
                state="CA",
                rate=Decimal("0.0600"),
                priority=1,
            ),
            TaxRate(
                store_id=store.id,
                name="County Tax",
                country="US",
                state="CA",
                rate=Decimal("0.0025"),
                priority=2,
            ),
            TaxRate(
                store_id=store.id,
                name="City Tax",
                country="US",
                state="CA",
                city="San Francisco",
                rate=Decimal("0.0138"),
                priority=3,
            ),
        ]
    )
    zone = ShippingZone(
        store_id=store.id, name="Domestic", countries=["US"], states=[], postal_codes=[]
    )
    session.add(zone)
    session.flush()
    session.add_all(
        [
            ShippingRate(
                store_id=store.id,
                zone_id=zone.id,
                name="Standard",
                rate_type=ShippingRateType.FLAT_RATE,
                cost=Decimal("5.99"),
                free_shipping_threshold=Decimal("50.00"),
                min_delivery_days=3,
                max_delivery_days=5,
            ),
            ShippingRate(
                store_id=store.id,
                zone_id=zone.id,
                name="Express",
                rate_type=ShippingRateType.FLAT_RATE,
                cost=Decimal("14.99"),
                min_delivery_days=1,
                max_delivery_days=2,
            ),
        ]
    )
    session.add(
        Coupon(
            store_id=store.id,
            code="WELCOME10",
            name="10% off your first order",
            discount_type=DiscountType.PERCENTAGE,
            discount_value=Decimal("10"),
            min_order_value=Decimal("20.00"),
            max_discount=Decimal("25.00"),
            valid_from=now,
            valid_to=now + timedelta(days=365),
            usage_limit_per_customer=1,
        )
    )
    session.flush()

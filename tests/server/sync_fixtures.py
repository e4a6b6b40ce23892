"""Sync and POS-ingestion fixtures: paired terminals of stores A and B, a small catalog, and
builders for push ops (plain helpers plus pytest fixtures; import the fixtures you use).

Terminals are paired through ``server.pos.devices_service`` (pairing code -> enrolment ->
access token), exactly as the API does, with a 12-hour token so the frozen test clock never
expires it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.catalog.models import Category, Product, ProductCategory, ProductStatus, Variant
from server.clock import FakeClock
from server.customers.models import Customer
from server.db.base import new_id
from server.identity.principal import Principal
from server.pos import devices_service
from server.stores.models import Store
from server.tax.models import TaxRate
from stormcom_pos.domain.money import round_money
from tests.server.conftest import Tenant, World
from tests.server.security_helpers import service_session

API = "/api/v1"
PUSH, PULL, SNAPSHOT, ANOMALIES = (f"{API}/sync/push", f"{API}/sync/pull",
                                   f"{API}/sync/snapshot", f"{API}/anomalies")
TAX_RATE = Decimal("0.0825")
_terminal_numbers = itertools.count(1)


@dataclass
class Terminal:
    tenant: Tenant
    device_id: str
    token: str
    credential: str
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))
    receipts: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def store_id(self) -> str:
        return self.tenant.store_id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def next_seq(self) -> int:
        return next(self.seq)


def pair(url: str, tenant: Tenant, now: datetime, name: str = "Till") -> Terminal:
    """Pair a terminal of ``tenant`` through the devices service."""
    actor = Principal(kind="user", user_id=tenant.users["owner"], store_id=tenant.store_id)
    with service_session(url, tenant.store_id) as db:
        store = db.get(Store, tenant.store_id)
        assert store is not None
        pairing = devices_service.create_pairing(
            db, actor=actor, store=store, name=f"{name} {next(_terminal_numbers)}", now=now,
            lifetime=timedelta(hours=1))
        db.commit()
    with service_session(url) as db:
        enrolled = devices_service.enrol(db, code=pairing.code, now=now)
        token = devices_service.issue_access_token(
            db, credential=enrolled.credential, now=now, lifetime=timedelta(hours=12))
        db.commit()
        return Terminal(tenant, enrolled.device.id, token.token, enrolled.credential)


@dataclass
class Catalog:
    store_id: str
    tax_rate_id: str
    product_ids: list[str]
    variant_ids: list[str]
    prices: dict[str, Decimal]
    skus: dict[str, str]
    customer_id: str


def seed_catalog(url: str, store_id: str, *, variants: int = 3, stock: int = 10) -> Catalog:
    """A taxed category with ``variants`` products of one variant each, and one customer."""
    with service_session(url, store_id) as db:
        catalog = _seed(db, store_id, variants, stock)
        db.commit()
        return catalog


def _seed(db: Session, store_id: str, count: int, stock: int) -> Catalog:
    rate = TaxRate(store_id=store_id, name="Sales tax", country="US", rate=TAX_RATE, priority=1)
    category = Category(store_id=store_id, name="Things", slug=f"things-{new_id()[:6]}")
    db.add_all([rate, category])
    db.flush()
    products, variants, prices, skus = [], [], {}, {}
    for i in range(count):
        product = Product(store_id=store_id, name=f"Thing {i}", slug=f"thing-{i}-{new_id()[:6]}",
                          status=ProductStatus.ACTIVE, tax_rate_id=rate.id)
        db.add(product)
        db.flush()
        db.add(ProductCategory(store_id=store_id, product_id=product.id,
                               category_id=category.id))
        price = Decimal("2.50") + i
        variant = Variant(store_id=store_id, product_id=product.id, sku=f"SKU-{i}-{new_id()[:4]}",
                          price=price, stock_quantity=stock)
        db.add(variant)
        db.flush()
        products.append(product.id)
        variants.append(variant.id)
        prices[variant.id] = price
        skus[variant.id] = variant.sku
    customer = Customer(store_id=store_id, first_name="Ada", email=f"ada-{new_id()[:6]}@x.test")
    db.add(customer)
    db.flush()
    return Catalog(store_id, rate.id, products, variants, prices, skus, customer.id)


# ---- op builders ----------------------------------------------------------------------------


def op(terminal: Terminal, kind: str, payload: dict[str, Any], *, at: datetime,
       staff_id: str | None = None, seq: int | None = None) -> dict[str, Any]:
    return {"op_id": new_id(), "device_seq": terminal.next_seq() if seq is None else seq,
            "kind": kind, "op_version": 1, "occurred_at": at.isoformat(),
            "staff_id": staff_id or terminal.tenant.users["cashier"], "payload": payload}


def drawer_open(terminal: Terminal, at: datetime, *, session_id: str | None = None,
                float_: str = "100.00") -> tuple[str, dict[str, Any]]:
    sid = session_id or new_id()
    return sid, op(terminal, "drawer.open", {
        "pos_session_id": sid, "cashier_id": terminal.tenant.users["cashier"],
        "opening_float": float_, "opened_at": at.isoformat()}, at=at)


def money(value: Decimal) -> str:
    return format(round_money(value, "USD"), "f")


def sale(terminal: Terminal, catalog: Catalog, session_id: str, at: datetime, *,
         lines: list[tuple[str, int]] | None = None, price_override: dict[str, Decimal] | None
         = None, customer: bool = False, cash: bool = True) -> tuple[str, dict[str, Any]]:
    """A cash sale at the catalog's prices (or ``price_override`` as the till's catalog)."""
    order_id = new_id()
    wanted = lines or [(v, 1) for v in catalog.variant_ids[:3]]
    sale_lines, subtotal, tax_total = [], Decimal(0), Decimal(0)
    for variant_id, qty in wanted:
        price = (price_override or {}).get(variant_id, catalog.prices[variant_id])
        net = round_money(price * qty, "USD")
        tax = round_money(net * TAX_RATE, "USD")
        subtotal += net
        tax_total += tax
        sale_lines.append({
            "id": new_id(), "variant_id": variant_id, "product_id": None, "name": "Thing",
            "sku": catalog.skus[variant_id], "quantity": str(qty), "unit_price": money(price),
            "original_unit_price": money(price),
            "taxes": [{"tax_rate_id": catalog.tax_rate_id, "name": "Sales tax",
                       "rate": str(TAX_RATE), "amount": money(tax)}],
            "net": money(net), "tax": money(tax), "total": money(net + tax)})
    total = subtotal + tax_total
    receipt = f"{terminal.tenant.key.upper() * 3}-{terminal.device_id[-3:]}-" \
              f"{next(terminal.receipts):06d}"
    payment = {"id": new_id(), "method": "CASH" if cash else "CARD_PRESENT",
               "amount": money(total)}
    if cash:
        payment |= {"tendered": money(total + 5), "change": "5.00"}
    return order_id, op(terminal, "order.submit", {
        "order_id": order_id, "receipt_number": receipt, "pos_session_id": session_id,
        "cashier_id": terminal.tenant.users["cashier"],
        "customer_id": catalog.customer_id if customer else None, "currency": "USD",
        "prices_include_tax": False, "lines": sale_lines, "subtotal": money(subtotal),
        "discount_total": "0.00", "tax_total": money(tax_total), "total": money(total),
        "payments": [payment], "completed_at": at.isoformat()}, at=at)


def push(client: TestClient, terminal: Terminal, ops: list[dict[str, Any]],
         status: int = 200) -> dict[str, Any]:
    r = client.post(PUSH, headers=terminal.headers,
                    json={"app_version": "1.0", "cache_schema_version": 1, "ops": ops})
    assert r.status_code == status, r.text
    return dict(r.json())


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def terminal_a(world_db: tuple[str, World], clock: FakeClock) -> Terminal:
    """A paired terminal of store A with a live access token."""
    url, world = world_db
    return pair(url, world.a, clock.now, "Till A")


@pytest.fixture
def terminal_b(world_db: tuple[str, World], clock: FakeClock) -> Terminal:
    """A paired terminal of store B with a live access token."""
    url, world = world_db
    return pair(url, world.b, clock.now, "Till B")


@pytest.fixture
def catalog_a(world_db: tuple[str, World]) -> Catalog:
    url, world = world_db
    return seed_catalog(url, world.a.store_id)


@pytest.fixture
def catalog_b(world_db: tuple[str, World]) -> Catalog:
    url, world = world_db
    return seed_catalog(url, world.b.store_id)


@pytest.fixture
def sync_db(world_db: tuple[str, World]) -> Iterator[str]:
    """The test database's URL (for service-level sessions)."""
    yield world_db[0]

"""A till on a real SQLite file with a small catalog loaded into its cache, real PIN hashes,
and python-escpos Dummy printers whose bytes the tests read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from escpos.printer import Dummy
from stdnum import ean

from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.printers import ReceiptPrinter
from stormcom_pos.local_db import cache_apply, sync_state
from stormcom_pos.services.context import PosContext

POS_BASIC = ["pos.sell", "pos.open_drawer_session", "pos.refund_request"]
POS_APPROVALS = ["pos.discount_override", "pos.price_override", "pos.no_sale", "pos.refund",
                 "pos.cash_movement", "pos.close_till", "pos.void"]
CASHIER_PIN, MANAGER_PIN = "2468", "1357"
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


def gtin(body: str) -> str:
    """A valid EAN-13 from its first 12 digits."""
    return body + ean.calc_check_digit(body)


MILK = gtin("061414100001")
BREAD = gtin("061414100002")
COFFEE = gtin("061414100003")
UNKNOWN = gtin("061414199999")
BANANA_PLU = "00042"


def weight_label(plu: str, grams: int) -> str:
    """A scale label: prefix 20 (weight), PLU, weight in grams, check digit."""
    return gtin(f"20{plu}{grams:05d}")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Printers:
    """Every device the till opened; ``alive`` False makes the printer unreachable."""

    alive: bool = True
    devices: list[Dummy] = field(default_factory=list)

    def open(self, _config: PrinterConfig) -> Dummy:
        if not self.alive:
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        device = Dummy()
        self.devices.append(device)
        return device

    def output(self) -> bytes:
        return b"".join(d.output for d in self.devices)


def _pin_hash(pin: str) -> str:
    return bcrypt.hashpw(pin.encode(), bcrypt.gensalt(rounds=4)).decode()


def staff_row(user_id: str, name: str, role: str, permissions: list[str], pin: str) -> dict:
    return {"id": user_id, "name": name, "email": f"{user_id}@shop.test", "image": None,
            "status": "ACTIVE", "language": "en", "timezone": "UTC",
            "pos_pin_hash": _pin_hash(pin), "deleted_at": None, "membership_id": f"m-{user_id}",
            "is_active": True, "role_id": f"r-{role}", "role": role, "permissions": permissions,
            "updated_at": START.isoformat()}


def variant(vid: str, pid: str, sku: str, barcode: str | None, price: str, stock: int,
            attributes: dict[str, Any] | None = None, track: bool = True) -> dict:
    return {"id": vid, "store_id": "store-1", "product_id": pid, "sku": sku, "barcode": barcode,
            "price": price, "compare_at_price": None, "cost_price": None,
            "track_inventory": track, "stock_quantity": stock, "low_stock_threshold": 5,
            "weight": None, "length": None, "width": None, "height": None, "is_active": True,
            "is_default": True, "attributes": attributes or {}, "deleted_at": None}


def product(pid: str, name: str) -> dict:
    return {"id": pid, "store_id": "store-1", "name": name, "slug": pid, "description": None,
            "short_description": None, "brand_id": None, "barcode": None, "sku": None,
            "is_taxable": True, "tax_rate_id": None, "status": "ACTIVE", "published_at": None,
            "deleted_at": None}


def catalog(settings: dict[str, Any] | None = None) -> dict[str, list[dict]]:
    year = START.replace(month=1, day=1)
    return {
        "store": [{"id": "store-1", "name": "Corner Grocery", "slug": "corner", "code": "DEMO",
                   "currency": "USD", "timezone": "UTC", "address": "1 Market St",
                   "phone": "555-0100", "tax_id": None, "email": "shop@shop.test",
                   "allow_coupons_with_flash_sale": True,
                   "settings": settings if settings is not None else {
                       "tax_address": {"country": "US", "state": "CA",
                                       "city": "San Francisco"},
                       "cash_rounding_increment": "0.05"}}],
        "tax_rate": [
            {"id": "tax-state", "store_id": "store-1", "name": "State Sales Tax", "country": "US",
             "state": "CA", "city": None, "postal_code": None, "rate": "0.060000",
             "is_compound": False, "priority": 1, "is_active": True, "deleted_at": None},
            {"id": "tax-city", "store_id": "store-1", "name": "City Tax", "country": "US",
             "state": "CA", "city": "San Francisco", "postal_code": None, "rate": "0.013800",
             "is_compound": False, "priority": 3, "is_active": True, "deleted_at": None},
        ],
        "category": [{"id": "cat-dairy", "store_id": "store-1", "name": "Dairy", "slug": "dairy",
                      "parent_id": None, "display_order": 0, "is_active": True,
                      "deleted_at": None}],
        "product": [product("p-milk", "Whole Milk"), product("p-bread", "Sourdough"),
                    product("p-coffee", "Coffee Beans"), product("p-banana", "Bananas")],
        "product_category": [{"id": "pc-1", "store_id": "store-1", "product_id": "p-milk",
                              "category_id": "cat-dairy", "is_primary": True}],
        "variant": [
            variant("v-milk", "p-milk", "MILK-1L", MILK, "3.49", 50),
            variant("v-bread", "p-bread", "BREAD-SD", BREAD, "6.00", 20),
            variant("v-coffee", "p-coffee", "COF-500", COFFEE, "14.99", 1),
            variant("v-banana", "p-banana", "BAN-KG", None, "1.20", 0,
                    {"sold_by": "weight", "unit": "kg", "plu": BANANA_PLU}, track=False),
        ],
        "coupon": [{"id": "cp-1", "store_id": "store-1", "code": "WELCOME10",
                    "name": "10% off", "description": None, "discount_type": "PERCENTAGE",
                    "discount_value": "10.00", "buy_quantity": None, "get_quantity": None,
                    "min_order_value": "20.00", "max_discount": "25.00",
                    "eligible_products": [], "eligible_categories": [],
                    "eligible_customers": [], "valid_from": year.isoformat(),
                    "valid_to": (year + timedelta(days=365)).isoformat(),
                    "usage_limit_per_coupon": None, "usage_limit_per_customer": 1,
                    "current_usage_count": 0, "is_active": True, "deleted_at": None}],
        "flash_sale": [],
        "staff": [
            staff_row("u-cashier", "Cara Cashier", "CASHIER",
                      POS_BASIC + ["products.read", "customers.read", "customers.write"],
                      CASHIER_PIN),
            staff_row("u-manager", "Max Manager", "MANAGER", POS_BASIC + POS_APPROVALS,
                      MANAGER_PIN),
        ],
    }


def load_catalog(context: PosContext, rows: dict[str, list[dict]]) -> None:
    with context.runtime.db.write() as conn:
        for entity, entity_rows in rows.items():
            cache_apply.load_snapshot_rows(conn, entity, entity_rows)
        sync_state.update_state(conn, selling_ready=True, bootstrap_done=True)
    context.runtime.forget_rules()


def open_till(data_dir: Path, printers: Printers, clock: Clock,
              rows: dict[str, list[dict]] | None = None) -> PosContext:
    config = PrinterConfig(connection="dummy", timeout_s=2.0)
    context = PosContext.for_tests(data_dir, clock=clock,
                                   printer=ReceiptPrinter(config, open_device=printers.open))
    context.runtime.save_config(context.runtime.config.model_copy(
        update={"terminal_number": 3, "terminal_name": "Till 3"}))
    if rows is not None:
        load_catalog(context, rows)
    return context


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def printers() -> Printers:
    return Printers()


@pytest.fixture
def till(tmp_path: Path, printers: Printers, clock: Clock) -> Iterator[PosContext]:
    context = open_till(tmp_path / "till", printers, clock, catalog())
    yield context
    context.close()


@pytest.fixture
def selling(till: PosContext) -> PosContext:
    """A till with the cashier signed in and the drawer open with a 100.00 float."""
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    till.drawer.open(Decimal("100.00"))
    return till

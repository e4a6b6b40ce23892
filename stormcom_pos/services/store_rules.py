"""The store's selling rules as the shared domain wants them, read from the till's cache.

The cache holds rows as the server sends them (decimal strings, ISO times); this module turns
them into :mod:`stormcom_pos.domain` values. Keys of ``Store.settings`` follow
``server/orders/settings.py``; a missing or bad value falls back to the same default, so a bad
edit in the back office cannot stop the till.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from stormcom_pos.domain.cart import StoreSettings
from stormcom_pos.domain.coupons import MAX_STACKED_COUPONS, Coupon
from stormcom_pos.domain.discounts import DiscountType, FlashSale, FlashSaleStatus
from stormcom_pos.domain.store_time import store_local, store_zone
from stormcom_pos.domain.tax import TaxAddress, TaxRate, TaxRounding


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _settings(store: Mapping[str, Any]) -> dict[str, Any]:
    raw = store.get("settings")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    return raw if isinstance(raw, dict) else {}


@dataclass(frozen=True, slots=True)
class StoreRules:
    """The store facts a sale needs: currency, tax convention, cash rounding, receipt header."""

    store_id: str
    name: str
    code: str
    currency: str
    locale: str
    pricing: StoreSettings
    tax_address: TaxAddress
    cash_rounding_increment: Decimal | None
    cash_tolerance: Decimal
    header_lines: tuple[str, ...]
    timezone: str

    def zone(self) -> ZoneInfo | None:
        """The store's time zone (None: one this machine does not know)."""
        return store_zone(self.timezone)

    def local(self, at: datetime) -> datetime:
        """The same instant as the store's clock reads it, for showing to people."""
        return store_local(at, self.timezone)


def store_rules(store: Mapping[str, Any]) -> StoreRules:
    """Build the rules from the cached store row."""
    settings = _settings(store)
    currency = str(store.get("currency") or "USD").upper()
    locale = str(settings.get("locale") or "en_US")
    max_coupons = settings.get("max_coupons_per_order", 1)
    if isinstance(max_coupons, bool) or not isinstance(max_coupons, int | str):
        max_coupons = 1
    try:
        max_coupons = int(max_coupons)
    except ValueError:
        max_coupons = 1
    if not 1 <= max_coupons <= MAX_STACKED_COUPONS:
        max_coupons = 1
    rounding = settings.get("tax_rounding")
    pricing = StoreSettings(
        currency=currency,
        prices_include_tax=settings.get("prices_include_tax") is True,
        tax_rounding=TaxRounding(rounding) if rounding in ("per_line", "per_order")
        else TaxRounding.PER_LINE,
        max_coupons=max_coupons,
        allow_coupons_with_flash_sale=store.get("allow_coupons_with_flash_sale") is not False,
        locale=locale,
    )
    where = settings.get("tax_address")
    where = where if isinstance(where, dict) else {}
    address = TaxAddress(
        country=str(where.get("country") or settings.get("country") or ""),
        state=where.get("state"),
        city=where.get("city"),
        postal_code=where.get("postal_code"),
    )
    increment = _decimal(settings.get("cash_rounding_increment"))
    tolerance = _decimal(settings.get("cash_difference_tolerance"))
    header = tuple(
        str(line) for line in (store.get("address"), store.get("phone"), store.get("tax_id"))
        if line
    )
    return StoreRules(
        store_id=str(store.get("id") or ""),
        name=str(store.get("name") or ""),
        code=str(store.get("code") or "POS").upper(),
        currency=currency,
        locale=locale,
        pricing=pricing,
        tax_address=address,
        cash_rounding_increment=increment if increment and increment > 0 else None,
        cash_tolerance=tolerance if tolerance and tolerance >= 0 else Decimal(0),
        header_lines=header,
        timezone=str(store.get("timezone") or "UTC"),
    )


def tax_rate(row: Any) -> TaxRate:
    """A cached tax rate row (or a TaxRate already) as the domain's TaxRate."""
    if isinstance(row, TaxRate):
        return row
    return TaxRate(
        id=str(row["id"]),
        name=str(row["name"]),
        rate=_decimal(row["rate"]) or Decimal(0),
        country=str(row.get("country") or ""),
        state=row.get("state"),
        city=row.get("city"),
        postal_code=row.get("postal_code"),
        priority=int(row.get("priority") or 0),
        is_compound=bool(row.get("is_compound")),
        is_active=row.get("is_active") is not False and row.get("deleted_at") is None,
    )


def coupon(row: Any) -> Coupon:
    """A cached coupon row as the domain's Coupon."""
    if isinstance(row, Coupon):
        return row
    return Coupon(
        id=str(row["id"]),
        code=str(row["code"]),
        discount_type=DiscountType(row["discount_type"]),
        discount_value=_decimal(row["discount_value"]) or Decimal(0),
        valid_from=_time(row.get("valid_from")) or datetime.min.replace(tzinfo=UTC),
        valid_to=_time(row.get("valid_to")),
        name=str(row.get("name") or ""),
        min_order_value=_decimal(row.get("min_order_value")),
        max_discount=_decimal(row.get("max_discount")),
        eligible_products=frozenset(row.get("eligible_products") or ()),
        eligible_categories=frozenset(row.get("eligible_categories") or ()),
        eligible_customers=frozenset(row.get("eligible_customers") or ()),
        usage_limit_per_coupon=row.get("usage_limit_per_coupon"),
        usage_limit_per_customer=row.get("usage_limit_per_customer"),
        current_usage_count=int(row.get("current_usage_count") or 0),
        is_active=row.get("is_active") is not False and row.get("deleted_at") is None,
        buy_quantity=row.get("buy_quantity"),
        get_quantity=row.get("get_quantity"),
    )


def flash_sale(row: Any) -> FlashSale | None:
    """A cached flash sale row as the domain's FlashSale (None for a kind the till ignores)."""
    if isinstance(row, FlashSale):
        return row
    kind = DiscountType(row["discount_type"])
    if kind not in (DiscountType.PERCENTAGE, DiscountType.FIXED_AMOUNT):
        return None
    products = [str(p) for p in row.get("products") or ()]
    return FlashSale(
        id=str(row["id"]),
        name=str(row.get("name") or ""),
        discount_type=kind,
        discount_value=_decimal(row["discount_value"]) or Decimal(0),
        start_at=_time(row["start_at"]) or datetime.min.replace(tzinfo=UTC),
        end_at=_time(row["end_at"]) or datetime.min.replace(tzinfo=UTC),
        status=FlashSaleStatus(row.get("status") or "ACTIVE"),
        product_ids=frozenset(p for p in products if p != "all"),
        all_products="all" in products,
    )

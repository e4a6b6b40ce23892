"""Store settings that commerce rules read, with their defaults (no FastAPI).

They live in ``Store.settings`` (JSON), edited with ``PATCH /api/v1/store``
(``{"settings": {...}}``). A missing or malformed value falls back to its default, so a bad
edit can never stop checkout:

============================  ===========  ===============================================
key                           default      meaning
============================  ===========  ===============================================
``auto_cancel_minutes``       60           unpaid online orders are canceled after this
``max_coupons_per_order``     1            1 = no stacking; up to 3 (CHK060)
``prices_include_tax``        false        catalog prices include tax
``tax_rounding``              per_line     ``per_line`` or ``per_order``
``shipping_taxable``          true         the address's tax rates apply to shipping
``locale``                    en_US        for readable amounts in refusal reasons
``cash_rounding_increment``   none         smallest coin for cash tenders, e.g. "0.05"
``cash_difference_tolerance`` 0            drawer over/short allowed without sign-off
============================  ===========  ===============================================

``allow_coupons_with_flash_sale`` is a column of the store (default true), not a key here.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from server.stores.models import Store
from stormcom_pos.domain.cart import StoreSettings
from stormcom_pos.domain.coupons import MAX_STACKED_COUPONS
from stormcom_pos.domain.tax import TaxRounding

DEFAULT_AUTO_CANCEL_MINUTES = 60


def _settings(store: Store) -> dict[str, Any]:
    return store.settings if isinstance(store.settings, dict) else {}


def _int(value: Any, default: int, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return default
    try:
        number = int(value)
    except ValueError:
        return default
    return number if low <= number <= high else default


def _bool(value: Any, default: bool) -> bool:
    return value if isinstance(value, bool) else default


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() and number >= 0 else None


def auto_cancel_minutes(store: Store) -> int:
    """Minutes after which an unpaid online order is canceled (1 minute to 30 days)."""
    return _int(_settings(store).get("auto_cancel_minutes"), DEFAULT_AUTO_CANCEL_MINUTES,
                1, 30 * 24 * 60)


def shipping_taxable(store: Store) -> bool:
    """Whether the address's tax rates apply to the shipping charge."""
    return _bool(_settings(store).get("shipping_taxable"), True)


def cash_tolerance(store: Store) -> Decimal:
    """The drawer over/short a cashier may close with before a manager signs off."""
    return _decimal(_settings(store).get("cash_difference_tolerance")) or Decimal(0)


def pricing_settings(store: Store) -> StoreSettings:
    """The shared pricing rules' store settings."""
    raw = _settings(store)
    rounding = raw.get("tax_rounding")
    locale = raw.get("locale")
    return StoreSettings(
        currency=store.currency,
        prices_include_tax=_bool(raw.get("prices_include_tax"), False),
        tax_rounding=(TaxRounding(rounding) if rounding in tuple(TaxRounding)
                      else TaxRounding.PER_LINE),
        max_coupons=_int(raw.get("max_coupons_per_order"), 1, 1, MAX_STACKED_COUPONS),
        allow_coupons_with_flash_sale=bool(store.allow_coupons_with_flash_sale),
        locale=locale if isinstance(locale, str) and 2 <= len(locale) <= 20 else "en_US",
    )

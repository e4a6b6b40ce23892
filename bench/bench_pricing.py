"""How long ``price_cart`` takes on a busy basket: 50 lines, 3 tax rates, a flash sale, 2 coupons.

Usage: .venv/bin/python bench/bench_pricing.py [--runs 2000] [--mode per_line|per_order]
        [--inclusive]
Prints the median and p95 wall time per pricing, in milliseconds. The target is a median
under 1 ms, so a till can reprice the whole basket on every scan.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stormcom_pos.domain.cart import (  # noqa: E402
    Cart,
    CartLine,
    Customer,
    PricingContext,
    StoreSettings,
)
from stormcom_pos.domain.coupons import Coupon, EnteredCoupon  # noqa: E402
from stormcom_pos.domain.discounts import DiscountType, FlashSale  # noqa: E402
from stormcom_pos.domain.pricing import PricedCart, price_cart  # noqa: E402
from stormcom_pos.domain.tax import TaxAddress, TaxRate, TaxRounding  # noqa: E402

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def build(mode: TaxRounding, inclusive: bool) -> tuple[Cart, PricingContext]:
    """A 50-line basket with weighed items, categories, a product tax override and a sale."""
    lines = []
    for i in range(50):
        weighed = i % 7 == 0
        lines.append(
            CartLine(
                line_id=f"line-{i:02d}",
                product_id=f"prod-{i % 40}",
                unit_price=Decimal(199 + i * 137 % 4000).scaleb(-2),
                quantity=Decimal("0.735") if weighed else Decimal(1 + i % 4),
                category_ids=frozenset({f"cat-{i % 5}"}),
                tax_rate_id="reduced" if i % 10 == 3 else None,
            )
        )
    rates = (
        TaxRate("gst", "GST", Decimal("0.05"), "CA", priority=1),
        TaxRate("qst", "QST", Decimal("0.09975"), "CA", state="QC", priority=2),
        TaxRate(
            "city",
            "City levy",
            Decimal("0.01"),
            "CA",
            "QC",
            "Montréal",
            priority=3,
            is_compound=True,
        ),
        TaxRate("reduced", "Reduced", Decimal("0.05"), "CA"),
    )
    sale = FlashSale(
        "fs-1",
        "Weekend",
        DiscountType.PERCENTAGE,
        Decimal("15"),
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        product_ids=frozenset(f"prod-{i}" for i in range(0, 40, 3)),
    )
    coupons = (
        EnteredCoupon(
            "SAVE10",
            Coupon(
                "c-1",
                "SAVE10",
                DiscountType.PERCENTAGE,
                Decimal("10"),
                valid_from=NOW - timedelta(days=30),
                min_order_value=Decimal("50.00"),
            ),
        ),
        EnteredCoupon(
            "CAT5OFF",
            Coupon(
                "c-2",
                "CAT5OFF",
                DiscountType.FIXED_AMOUNT,
                Decimal("5.00"),
                valid_from=NOW - timedelta(days=30),
                eligible_categories=frozenset({"cat-2"}),
            ),
        ),
    )
    store = StoreSettings("USD", prices_include_tax=inclusive, tax_rounding=mode, max_coupons=3)
    context = PricingContext(
        store,
        NOW,
        TaxAddress("CA", "QC", "Montréal", "H2X 1Y4"),
        tax_rates=rates,
        customer=Customer("cust-1"),
        flash_sales=(sale,),
        coupons=coupons,
        shipping=Decimal("9.99"),
    )
    return Cart(tuple(lines)), context


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--mode", choices=[m.value for m in TaxRounding], default="per_line")
    parser.add_argument("--inclusive", action="store_true")
    args = parser.parse_args()
    cart, context = build(TaxRounding(args.mode), args.inclusive)

    priced: PricedCart = price_cart(cart, context)
    assert len(priced.applied_coupons) == 2, priced.rejected_coupons
    assert any(line.flash_sale_id for line in priced.lines)
    assert len(priced.taxes) == 4
    for _ in range(200):  # warm caches (currency lookups, Babel) before timing
        price_cart(cart, context)

    samples = []
    for _ in range(args.runs):
        start = time.perf_counter()
        price_cart(cart, context)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    median = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    print(
        f"price_cart: 50 lines, 4 rates (3 at the address + 1 override), 1 flash sale, "
        f"2 coupons, {args.mode}{', inclusive' if args.inclusive else ''}: "
        f"median {median:.3f} ms, p95 {p95:.3f} ms over {args.runs} runs "
        f"(total {priced.total} {priced.currency})"
    )


if __name__ == "__main__":
    main()

"""Tax: rate matching, exemptions, exclusive and inclusive arithmetic, per-line and per-order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from stormcom_pos.domain.tax import (
    InvalidTaxRate,
    TaxAddress,
    TaxExemption,
    TaxExemptionStatus,
    TaxRate,
    TaxRounding,
    compute_taxes,
    exemption_applies,
    is_tax_exempt,
    line_rates,
    matching_rates,
    rate_matches,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
GST = TaxRate("gst", "GST", D("0.05"), "CA", priority=1)
QST = TaxRate("qst", "QST", D("0.09975"), "CA", state="QC", priority=2)
# A compound provincial rate charged on price + GST (as Quebec's QST was before 2013).
PST_COMPOUND = TaxRate("pst", "PST", D("0.085"), "CA", state="QC", priority=2, is_compound=True)
VAT_BD = TaxRate("vat", "VAT", D("0.15"), "BD")


def taxes(
    amounts: list[str],
    rates: tuple[TaxRate, ...],
    *,
    currency: str = "USD",
    inclusive: bool = False,
    rounding: TaxRounding = TaxRounding.PER_LINE,
    exempt: bool = False,
) -> list[tuple[str, list[str]]]:
    """(base, [tax per rate]) per line, as strings."""
    result = compute_taxes(
        [D(a) for a in amounts],
        [rates] * len(amounts),
        currency=currency,
        inclusive=inclusive,
        rounding=rounding,
        exempt=exempt,
    )
    for charged_at, charged, tax in zip(result.rates, result.amounts, result.line_tax, strict=True):
        assert tax == sum(charged, D(0))
        assert len(charged_at) == len(charged)
    return [
        (str(base), [str(a) for a in charged])
        for base, charged in zip(result.bases, result.amounts, strict=True)
    ]


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "address", "matches"),
    [
        (GST, TaxAddress("CA", "ON"), True),  # state null on the rate: any state
        (GST, TaxAddress("ca"), True),  # case does not matter
        (GST, TaxAddress("US", "NY"), False),
        (QST, TaxAddress("CA", "QC"), True),
        (QST, TaxAddress("CA", "ON"), False),
        (QST, TaxAddress("CA"), False),  # the rate needs a state the address lacks
        (
            TaxRate("m", "M", D("0.01"), "CA", city="Montréal"),
            TaxAddress("CA", city=" montréal "),
            True,
        ),
        (
            TaxRate("p", "P", D("0.01"), "CA", postal_code="H2X 1Y4"),
            TaxAddress("CA", postal_code="h2x1y4"),
            True,
        ),
        (
            TaxRate("p", "P", D("0.01"), "CA", postal_code="H2X 1Y4"),
            TaxAddress("CA", postal_code="H2X 1Y5"),
            False,
        ),
        (TaxRate("x", "X", D("0.05"), "CA", is_active=False), TaxAddress("CA"), False),
    ],
)
def test_rate_matching(rate: TaxRate, address: TaxAddress, matches: bool) -> None:
    assert rate_matches(rate, address) is matches


def test_matching_rates_are_ordered_by_priority_then_id() -> None:
    b = TaxRate("b", "B", D("0.01"), "CA", priority=5)
    a = TaxRate("a", "A", D("0.01"), "CA", priority=5)
    assert matching_rates([QST, b, GST, a], TaxAddress("CA", "QC")) == (GST, QST, a, b)


def test_negative_rate_is_refused() -> None:
    with pytest.raises(InvalidTaxRate):
        TaxRate("bad", "Bad", D("-0.01"), "CA")


# --- exemptions and overrides ---------------------------------------------------------------


def cert(status: TaxExemptionStatus, expires: datetime, customer: str = "c1") -> TaxExemption:
    return TaxExemption("e1", customer, status, expires)


@pytest.mark.parametrize(
    ("exemption", "applies"),
    [
        (cert(TaxExemptionStatus.APPROVED, NOW + timedelta(days=1)), True),
        (cert(TaxExemptionStatus.APPROVED, NOW), False),  # expires at that very instant
        (cert(TaxExemptionStatus.PENDING, NOW + timedelta(days=1)), False),
        (cert(TaxExemptionStatus.REVOKED, NOW + timedelta(days=1)), False),
        (cert(TaxExemptionStatus.APPROVED, NOW + timedelta(days=1), customer="c2"), False),
    ],
)
def test_exemption_certificates(exemption: TaxExemption, applies: bool) -> None:
    assert exemption_applies(exemption, "c1", NOW) is applies
    assert is_tax_exempt("c1", False, [exemption], NOW) is applies


def test_customer_flag_exempts_and_no_customer_never_is() -> None:
    assert is_tax_exempt("c1", True, [], NOW)
    assert not is_tax_exempt(None, False, [cert(TaxExemptionStatus.APPROVED, NOW)], NOW)


def test_line_rates_override_and_non_taxable() -> None:
    qc = TaxAddress("CA", "QC")
    reduced = TaxRate("food", "Food", D("0.00"), "CA")
    ontario_only = TaxRate("on", "ON", D("0.08"), "CA", state="ON")
    by_id = {r.id: r for r in (GST, QST, reduced, ontario_only)}
    normal = (GST, QST)

    def rates(taxable: bool, own: str | None) -> tuple[TaxRate, ...]:
        return line_rates(
            taxable=taxable, tax_rate_id=own, address_rates=normal, rates_by_id=by_id, address=qc
        )

    assert rates(False, None) == ()
    assert rates(True, None) == normal
    assert rates(True, "food") == (reduced,)
    # The product's own rate is for another province: the address's rates apply instead.
    assert rates(True, "on") == normal
    assert rates(True, "gone") == normal


# --- exclusive arithmetic -------------------------------------------------------------------


def test_quebec_gst_and_qst_exclusive() -> None:
    # 100.00: GST 5% = 5.00; QST 9.975% = 9.975 -> 9.98 (half up). Total tax 14.98.
    assert taxes(["100.00"], (GST, QST)) == [("100.00", ["5.00", "9.98"])]


def test_compound_rate_is_charged_on_base_plus_rounded_earlier_tax() -> None:
    # 10.10: GST 0.505 -> 0.51; PST 8.5% on 10.10 + 0.51 = 10.61 -> 0.90185 -> 0.90.
    assert taxes(["10.10"], (GST, PST_COMPOUND)) == [("10.10", ["0.51", "0.90"])]
    # 100.00: GST 5.00; PST on 105.00 = 8.925 -> 8.93.
    assert taxes(["100.00"], (GST, PST_COMPOUND)) == [("100.00", ["5.00", "8.93"])]


def test_bdt_vat_15_percent() -> None:
    # 2 x 1,250.00 = 2,500.00 -> 375.00; 333.33 x 0.15 = 49.9995 -> 50.00.
    assert taxes(["2500.00", "333.33"], (VAT_BD,), currency="BDT") == [
        ("2500.00", ["375.00"]),
        ("333.33", ["50.00"]),
    ]


def test_yen_tax_rounds_to_whole_yen() -> None:
    jct = TaxRate("jct", "JCT", D("0.10"), "JP")
    # 1,005 x 10% = 100.5 -> 101.
    assert taxes(["1005"], (jct,), currency="JPY") == [("1005", ["101"])]


def test_per_line_and_per_order_rounding_differ() -> None:
    three = ["0.10", "0.10", "0.10"]
    five = TaxRate("t", "T", D("0.05"), "US")
    # Per line: 0.005 -> 0.01 on each line, 0.03 in all.
    assert taxes(three, (five,)) == [("0.10", ["0.01"])] * 3
    # Per order: 3 x 0.005 = 0.015 -> 0.02 once, handed back by largest remainder (ties go to
    # the earlier lines): 0.01, 0.01, 0.00.
    assert taxes(three, (five,), rounding=TaxRounding.PER_ORDER) == [
        ("0.10", ["0.01"]),
        ("0.10", ["0.01"]),
        ("0.10", ["0.00"]),
    ]


def test_per_order_compound_uses_unrounded_earlier_taxes() -> None:
    compound = TaxRate("c", "C", D("0.10"), "CA", priority=9, is_compound=True)
    # Per line: GST 0.005 -> 0.01; C on 0.10 + 0.01 = 0.011 -> 0.01. Per rate: 0.03 and 0.03.
    assert taxes(["0.10"] * 3, (GST, compound)) == [("0.10", ["0.01", "0.01"])] * 3
    # Per order: GST 3 x 0.005 = 0.015 -> 0.02; C on 0.105 = 0.0105 each, 0.0315 -> 0.03.
    result = compute_taxes(
        [D("0.10")] * 3,
        [(GST, compound)] * 3,
        currency="USD",
        inclusive=False,
        rounding=TaxRounding.PER_ORDER,
    )
    assert [(s.rate_id, str(s.tax), str(s.taxable_amount)) for s in result.by_rate] == [
        ("gst", "0.02", "0.30"),
        ("c", "0.03", "0.30"),
    ]
    assert result.tax == D("0.05")


# --- inclusive arithmetic -------------------------------------------------------------------


def test_inclusive_single_rate_backs_tax_out_of_the_line() -> None:
    # 1,150.00 x 0.15 / 1.15 = 150.00; base 1,000.00.
    # 99.00 x 0.15 / 1.15 = 12.913... -> 12.91; base 86.09.
    assert taxes(["1150.00", "99.00"], (VAT_BD,), currency="BDT", inclusive=True) == [
        ("1000.00", ["150.00"]),
        ("86.09", ["12.91"]),
    ]


def test_inclusive_several_rates_use_the_exact_back_out() -> None:
    # M = 1 + 0.05 + 0.09975 = 1.14975. GST = 114.98 x 0.05 / M = 5.0002 -> 5.00;
    # QST = 114.98 x 0.09975 / M = 9.9754 -> 9.98; base = 114.98 - 14.98 = 100.00.
    assert taxes(["114.98"], (GST, QST), inclusive=True) == [("100.00", ["5.00", "9.98"])]


def test_inclusive_compound_rate() -> None:
    # c_gst = 0.05; c_pst = 0.085 x 1.05 = 0.08925; M = 1.13925.
    # GST = 113.93 x 0.05 / M = 5.0002 -> 5.00; PST = 113.93 x 0.08925 / M = 8.9254 -> 8.93.
    assert taxes(["113.93"], (GST, PST_COMPOUND), inclusive=True) == [("100.00", ["5.00", "8.93"])]


def test_inclusive_per_order() -> None:
    five = TaxRate("t", "T", D("0.05"), "US")
    # Each 0.21 holds 0.21 x 0.05 / 1.05 = 0.01 exactly; 3 x 0.01 = 0.03.
    assert (
        taxes(["0.21"] * 3, (five,), inclusive=True, rounding=TaxRounding.PER_ORDER)
        == [("0.20", ["0.01"])] * 3
    )
    # Each 0.10 holds 0.0047619...; per line 0.00 each, per order 0.0142857 -> 0.01 on line 1.
    assert taxes(["0.10"] * 3, (five,), inclusive=True) == [("0.10", ["0.00"])] * 3
    assert taxes(["0.10"] * 3, (five,), inclusive=True, rounding=TaxRounding.PER_ORDER) == [
        ("0.09", ["0.01"]),
        ("0.10", ["0.00"]),
        ("0.10", ["0.00"]),
    ]


# --- exemption and no rates -----------------------------------------------------------------


def test_exempt_exclusive_pays_no_tax() -> None:
    assert taxes(["100.00"], (GST, QST), exempt=True) == [("100.00", [])]


def test_exempt_inclusive_pays_the_price_without_its_tax() -> None:
    # 1,150.00 includes 150.00 VAT; an exempt customer pays the 1,000.00 base.
    result = compute_taxes([D("1150.00")], [(VAT_BD,)], currency="BDT", inclusive=True, exempt=True)
    assert (result.bases, result.line_tax, result.amounts) == ((D("1000.00"),), (D("0.00"),), ((),))
    assert result.by_rate == ()


def test_no_rates_means_the_whole_amount_is_base() -> None:
    assert taxes(["9.99"], (), inclusive=True) == [("9.99", [])]


def test_report_totals_per_rate() -> None:
    result = compute_taxes(
        [D("100.00"), D("20.00"), D("50.00")],
        [(GST, QST), (GST,), ()],
        currency="USD",
        inclusive=False,
    )
    # GST: 5.00 + 1.00 on 120.00; QST: 9.98 on 100.00.
    assert [(s.rate_id, str(s.taxable_amount), str(s.tax)) for s in result.by_rate] == [
        ("gst", "120.00", "6.00"),
        ("qst", "100.00", "9.98"),
    ]
    assert result.tax == D("15.98")


@pytest.mark.parametrize("rounding", list(TaxRounding))
def test_equal_rate_tuples_from_different_lines_still_total_per_rate(
    rounding: TaxRounding,
) -> None:
    # Two lines built separately (distinct tuple objects) plus a product-rate line; GST totals
    # across all three. Per line: 0.50 + 0.25 + 0.13 (2.50 x 5% = 0.125 -> 0.13) = 0.88.
    # Per order: 0.50 + 0.25 + 0.125 = 0.875 -> 0.88 as well.
    result = compute_taxes(
        [D("10.00"), D("5.00"), D("2.50")],
        [tuple([GST, QST]), tuple([GST, QST]), (GST,)],
        currency="USD",
        inclusive=False,
        rounding=rounding,
    )
    totals = {s.rate_id: (s.taxable_amount, s.tax) for s in result.by_rate}
    # QST: 0.9975 + 0.49875 = 1.49625; per line 1.00 + 0.50 = 1.50, per order 1.50.
    assert totals == {"gst": (D("17.50"), D("0.88")), "qst": (D("15.00"), D("1.50"))}
    assert sum(result.line_tax) == result.tax == D("2.38")

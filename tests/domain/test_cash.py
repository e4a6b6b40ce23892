"""Cash drawer: denominations, counting, expected cash, over/short, X and Z reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from stormcom_pos.domain.cash import (
    DENOMINATIONS,
    CashMovement,
    InvalidCashAmount,
    InvalidCount,
    UnknownDenomination,
    count_cash,
    counts_to_json,
    denominations_for,
    expected_cash,
    needs_sign_off,
    over_short,
    summarize_cash,
)
from stormcom_pos.domain.cash_reports import (
    InvalidReport,
    ReportKind,
    ReturnRecord,
    SaleRecord,
    ShiftData,
    TaxPortion,
    TenderRecord,
    x_report,
    z_report,
)
from stormcom_pos.domain.enums import CashMovementType as M
from stormcom_pos.domain.enums import PaymentMethod as Tender

D = Decimal


@pytest.mark.parametrize("currency", ["USD", "EUR", "BDT", "JPY", "GBP", "usd"])
def test_denomination_sets_exist_and_are_largest_first(currency: str) -> None:
    values = denominations_for(currency).values
    assert list(values) == sorted(values, reverse=True)
    assert len(set(values)) == len(values)


def test_unknown_currency_has_no_denominations() -> None:
    with pytest.raises(UnknownDenomination, match="XAF"):
        denominations_for("XAF")


def test_count_by_denomination() -> None:
    count = count_cash("USD", {"20": 3, D("5"): 1, "0.25": 7, 1: 4, "0.01": 3})
    assert count.total == D("70.78")  # 60 + 5 + 1.75 + 4 + 0.03
    assert [(str(line.value), line.count) for line in count.lines if line.count] == [
        ("20", 3),
        ("5", 1),
        ("1", 4),
        ("0.25", 7),
        ("0.01", 3),
    ]
    assert len(count.lines) == len(DENOMINATIONS["USD"].values)
    assert counts_to_json(count) == {"20": 3, "5": 1, "1": 4, "0.25": 7, "0.01": 3}


def test_bdt_and_jpy_counts() -> None:
    assert count_cash("BDT", {"1000": 2, "500": 1, "2": 3}).total == D("2506.00")
    assert count_cash("JPY", {"10000": 1, "500": 3, "1": 4}).total == D("11504")


@pytest.mark.parametrize(
    ("counts", "error", "match"),
    [
        ({"3": 1}, UnknownDenomination, "3 is not a USD denomination; valid values are 100, 50"),
        ({"0.02": 1}, UnknownDenomination, "not a USD denomination"),
        ({"abc": 1}, UnknownDenomination, "not a USD denomination"),
        ({"20": -2}, InvalidCount, r"count of 20 USD cannot be negative \(-2\)"),
        ({"20": 1.5}, InvalidCount, "whole number"),
        ({"20": 1, "20.00": 2}, InvalidCount, "counted twice"),
    ],
)
def test_bad_counts_are_refused(counts: dict[str, int], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        count_cash("USD", counts)


def test_expected_cash_and_over_short_worked_example() -> None:
    # Float 150.00; cash sales kept 432.50 (customers handed over 500.00, got 67.50 back);
    # one cash refund 12.00; a 20.00 pay-in of change from the safe; a 15.75 pay-out for
    # milk; one 300.00 drop to the safe.
    summary = summarize_cash(
        D("150.00"),
        [D("17.50"), D("415.00")],
        [D("12.00")],
        [
            CashMovement(M.PAY_IN, D("20.00"), "change from safe"),
            CashMovement(M.PAY_OUT, D("15.75"), "milk"),
            CashMovement(M.DROP, D("300.00")),
        ],
        "USD",
    )
    # 150 + 432.50 - 12 + 20 - 15.75 - 300 = 274.75
    assert summary.expected == D("274.75")
    assert (summary.cash_sales, summary.pay_ins, summary.pay_outs, summary.drops) == (
        D("432.50"),
        D("20.00"),
        D("15.75"),
        D("300.00"),
    )
    counted = count_cash("USD", {"100": 2, "20": 3, "10": 1, "1": 4, "0.25": 2, "0.10": 2})
    assert counted.total == D("274.70")
    assert over_short(counted.total, summary.expected, "USD") == D("-0.05")
    assert not needs_sign_off(D("-0.05"), D("1.00"))
    assert needs_sign_off(D("-1.01"), D("1.00"))


def test_expected_cash_refuses_negative_parts() -> None:
    z = D(0)
    with pytest.raises(InvalidCashAmount, match="drops cannot be negative"):
        expected_cash(z, z, z, z, z, D("-1"), "USD")
    with pytest.raises(InvalidCashAmount, match="PAY_OUT must be a positive amount"):
        summarize_cash(z, [], [], [CashMovement(M.PAY_OUT, z)], "USD")


# ---- X and Z reports --------------------------------------------------------------------

OPEN = datetime(2025, 5, 4, 8, 55, tzinfo=UTC)
VAT15 = ("VAT 15%", D("0.15"))
VAT5 = ("VAT 5%", D("0.05"))


def at(h: int, m: int) -> datetime:
    return datetime(2025, 5, 4, h, m, tzinfo=UTC)


def tax(rate: tuple[str, D], taxable: str, amount: str) -> TaxPortion:
    return TaxPortion(rate[0], rate[1], D(taxable), D(amount))


SHIFT = ShiftData(
    session_id="ps_1",
    currency="BDT",
    opened_at=OPEN,
    opening_float=D("2000.00"),
    sales=(
        SaleRecord("DHK1-01-000001", at(9, 5), "u_ana", D("100.00"), (tax(VAT15, "100", "15.00"),)),
        SaleRecord(
            "DHK1-01-000002",
            at(9, 40),
            "u_ana",
            D("300.00"),
            (tax(VAT15, "200", "30.00"), tax(VAT5, "100", "5.00")),
            discount=D("20.00"),
        ),
        SaleRecord("DHK1-01-000003", at(10, 15), "u_bo", D("200.00"), (tax(VAT5, "200", "10.00"),)),
    ),
    returns=(
        ReturnRecord(
            "DHK1-01-000001", at(10, 30), "u_bo", D("100.00"), (tax(VAT15, "100", "15.00"),)
        ),
    ),  # fmt: skip
    tenders=(
        TenderRecord(at(9, 5), "u_ana", Tender.CASH, D("115.00"), tendered=D("200.00")),
        TenderRecord(at(9, 40), "u_ana", Tender.CARD_PRESENT, D("200.00")),
        TenderRecord(at(9, 40), "u_ana", Tender.CASH, D("135.00"), tendered=D("135.00")),
        TenderRecord(at(10, 15), "u_bo", Tender.CASH, D("210.00"), tendered=D("500.00")),
        TenderRecord(at(10, 30), "u_bo", Tender.CASH, D("115.00"), is_refund=True),
    ),
    movements=(CashMovement(M.DROP, D("1000.00")), CashMovement(M.PAY_OUT, D("50.00"), "tea")),
)


def test_x_report_totals() -> None:
    report = x_report(SHIFT, at(10, 45))
    assert report.kind is ReportKind.X and not report.closes_session
    assert report.z_number is None and report.counted is None and report.over_short is None
    assert (report.sales_count, report.sales_total, report.sales_tax, report.discounts) == (
        3,
        D("660.00"),
        D("60.00"),
        D("20.00"),
    )
    assert (report.refunds_count, report.refunds_total, report.refunds_tax) == (
        1,
        D("115.00"),
        D("15.00"),
    )
    assert report.net_total == D("545.00")

    tenders = {
        t.tender: (t.payments, t.taken, t.refunded, t.change_given) for t in report.by_tender
    }
    assert tenders == {
        Tender.CASH: (3, D("460.00"), D("115.00"), D("375.00")),
        Tender.CARD_PRESENT: (1, D("200.00"), D("0"), D("0")),
    }
    assert sum(t.net for t in report.by_tender) == report.net_total

    rates = {(r.name, r.taxable, r.tax, r.refunded_tax, r.net_tax) for r in report.by_tax_rate}
    assert rates == {
        ("VAT 15%", D("300"), D("45.00"), D("15.00"), D("30.00")),
        ("VAT 5%", D("300"), D("15.00"), D("0"), D("15.00")),
    }

    cashiers = {c.cashier_id: (c.sales_count, c.sales_total, c.refunds_total, c.net)
                for c in report.by_cashier}  # fmt: skip
    assert cashiers == {
        "u_ana": (2, D("450.00"), D("0"), D("450.00")),
        "u_bo": (1, D("210.00"), D("115.00"), D("95.00")),
    }

    hours = [(h.hour.hour, h.sales_count, h.sales_total, h.refunds_total) for h in report.by_hour]
    assert hours == [(9, 2, D("450.00"), D("0")), (10, 1, D("210.00"), D("115.00"))]

    # 2000 + (115 + 135 + 210) - 115 + 0 - 50 - 1000 = 1295; change is not counted again.
    assert report.cash.expected == D("1295.00")


def test_hours_follow_the_store_time_zone() -> None:
    dhaka = timezone(timedelta(hours=6))
    report = x_report(SHIFT, at(10, 45), tz=dhaka)
    assert [h.hour.hour for h in report.by_hour] == [15, 16]
    naive = ShiftData("ps", "BDT", OPEN, D("0"), sales=(SaleRecord("r", datetime(2025, 5, 4, 9),
                                                                   "u", D("1")),))  # fmt: skip
    with pytest.raises(InvalidReport, match="no time zone"):
        x_report(naive, at(10, 0), tz=dhaka)


def test_z_report_closes_with_the_next_number_and_over_short() -> None:
    counted = count_cash("BDT", {"1000": 1, "100": 2, "50": 1, "20": 2, "5": 1})  # 1295
    report = z_report(SHIFT, at(18, 0), counted, last_z_number=41)
    assert report.kind is ReportKind.Z and report.closes_session
    assert report.z_number == 42
    assert (report.counted, report.over_short) == (D("1295.00"), D("0.00"))
    short = z_report(SHIFT, at(18, 0), D("1290.00"), last_z_number=0)
    assert (short.z_number, short.over_short) == (1, D("-5.00"))
    # An X taken before the Z changes nothing: the Z sees the same totals.
    assert x_report(SHIFT, at(17, 0)).by_tender == report.by_tender


def test_z_report_refuses_bad_inputs() -> None:
    with pytest.raises(InvalidReport, match="Z number"):
        z_report(SHIFT, at(18, 0), D("1"), last_z_number=-1)
    with pytest.raises(InvalidReport, match="counted in USD"):
        z_report(SHIFT, at(18, 0), count_cash("USD", {"1": 1}), last_z_number=0)
    with pytest.raises(InvalidReport, match="cannot be negative"):
        z_report(SHIFT, at(18, 0), D("-1"), last_z_number=0)
    wrong = TenderRecord(at(9, 0), "u", Tender.CASH, D("10"), tendered=D("5"))
    bad = ShiftData("ps", "BDT", OPEN, D("0"), tenders=(wrong,))
    with pytest.raises(InvalidReport, match="inconsistent"):
        x_report(bad, at(10, 0))


def test_empty_shift() -> None:
    report = x_report(ShiftData("ps", "USD", OPEN, D("100")), OPEN)
    assert report.sales_count == 0 and report.by_tender == () and report.by_hour == ()
    assert report.cash.expected == D("100.00")

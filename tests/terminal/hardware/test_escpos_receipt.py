"""Receipts and reports as ESC/POS bytes, read back from python-escpos's Dummy printer."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from escpos.printer import Dummy
from PIL import Image

from stormcom_pos.hardware.escpos_receipt import (
    column_lines,
    render_receipt,
    render_report,
    render_test_page,
)
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.receipt import Receipt, ReceiptLine
from stormcom_pos.hardware.receipt_layout import Row
from tests.terminal.hardware.conftest import D, make_receipt, make_report

INIT = b"\x1b@"
CODE128 = b"\x1dkI"  # GS k, function B, type 73
QR_STORE = b"\x1d(k"  # GS ( k: 2D code data
RASTER = b"\x1dv0"  # GS v 0
FULL_CUT = b"\x1dV\x00"


def render(receipt: Receipt, **config: object) -> bytes:
    printer = Dummy(profile="TM-T88V")
    render_receipt(printer, receipt, PrinterConfig(connection="dummy", **config))
    return printer.output


def text_lines(output: bytes) -> list[str]:
    """The printed text lines, with ESC/POS commands stripped (no images in these tests)."""
    plain = re.sub(rb"\x1b[!Ea]\S|\x1bt.|\x1bd.", b"", output)
    return [line.decode("cp437") for line in plain.split(b"\n")]


def test_receipt_starts_with_init_and_ends_with_a_cut(receipt: Receipt) -> None:
    output = render(receipt)
    assert output.startswith(INIT)
    assert output.endswith(FULL_CUT)


def test_receipt_carries_store_lines_totals_tenders_and_cashier(receipt: Receipt) -> None:
    output = render(receipt)
    for text in (
        b"StormCom Demo Grocery",
        b"1 Market St",
        b"DEMO-01-000123",
        b"Casey Cashier",
        b"Till 1",
        b"Organic bananas",
        b"0.532 x $3.99",
        b"2 x $4.50",
        b"WELCOME10",
        b"-$0.90",
        b"CA State 7.25%",
        b"$0.74",
        b"$10.96",
        b"Rounding",
        b"Cash",
        b"$20.00",
        b"Change",
        b"$9.00",
        b"Thank you for shopping with us",
    ):
        assert text in output, text


def test_80mm_paper_has_48_columns_with_amounts_flush_right(receipt: Receipt) -> None:
    lines = text_lines(render(receipt, paper_width_mm=80))
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert len(total) == 48 and total.endswith("$10.96")
    assert "-" * 48 in lines


def test_58mm_paper_has_32_columns(receipt: Receipt) -> None:
    lines = text_lines(render(receipt, paper_width_mm=58))
    total = next(line for line in lines if line.startswith("TOTAL"))
    assert len(total) == 32 and total.endswith("$10.96")
    assert "-" * 32 in lines
    assert all(len(line) <= 32 for line in lines if line.isprintable())


def test_80mm_receipt_prints_the_receipt_barcode_as_code128(receipt: Receipt) -> None:
    output = render(receipt, paper_width_mm=80)
    code = receipt.receipt_barcode.encode()
    assert CODE128 + bytes([len(code) + 2]) + b"{B" + code in output
    assert QR_STORE not in output


def test_58mm_receipt_prints_a_qr_code_when_code128_would_not_fit(receipt: Receipt) -> None:
    output = render(receipt, paper_width_mm=58)
    assert CODE128 not in output
    assert QR_STORE + bytes([len(receipt.receipt_barcode) + 3, 0]) + b"1P0" in output
    assert receipt.receipt_barcode.encode() in output


def test_long_names_wrap_and_keep_the_amount_on_the_last_line() -> None:
    row = Row("Extra virgin olive oil cold pressed organic 1 litre", "$12.99")
    lines = column_lines(row, 32)
    assert len(lines) == 2
    assert all(len(line) <= 32 for line in lines)
    assert lines[-1].endswith("$12.99") and lines[0].startswith("Extra virgin")


def test_bengali_line_is_sent_as_a_raster_image_not_code_page_text() -> None:
    bengali = ReceiptLine("চাল মিনিকেট ৫ কেজি", D(1), D("7.00"), D("7.00"))
    output = render(make_receipt(lines=(bengali,)))
    assert output.count(RASTER) == 1
    assert "চাল".encode() not in output
    assert b"???" not in output  # the code-page fallback character never stands in for it
    # The image is as wide as the 80 mm TM-T88V prints: 512 dots = 64 bytes a row.
    start = output.index(RASTER) + 4
    assert output[start : start + 2] == (64).to_bytes(2, "little")


def test_latin_only_receipt_has_no_raster_image(receipt: Receipt) -> None:
    assert RASTER not in render(receipt)


def test_a_character_of_another_code_page_is_text_not_an_image() -> None:
    line = ReceiptLine("Café crème", D(1), D("3.00"), D("3.00"))
    output = render(make_receipt(lines=(line,)))
    assert RASTER not in output
    assert "Café".encode("cp437") in output or "Café".encode("cp850") in output


def test_a_forced_code_page_is_selected_and_foreign_text_rasterised() -> None:
    line = ReceiptLine("Grüße €", D(1), D("3.00"), D("3.00"))
    output = render(make_receipt(lines=(line,)), codepage="CP437")
    assert b"\x1bt\x00" in output  # ESC t 0 selects CP437
    assert RASTER in output  # the euro sign is not in CP437


def test_refund_receipt_is_marked_and_totals_the_refund() -> None:
    output = render(make_receipt(kind="refund", change=D(0), copy_label="CUSTOMER COPY"))
    assert b"REFUND TOTAL" in output and b"CUSTOMER COPY" in output
    assert b"Change" not in output


def test_logo_is_printed_as_an_image(tmp_path: Path, receipt: Receipt) -> None:
    logo = tmp_path / "logo.png"
    Image.new("RGB", (1000, 300), "black").save(logo)
    output = render(make_receipt(logo_path=logo))
    assert output.count(RASTER) == 1
    assert output.index(RASTER) < output.index(b"StormCom Demo Grocery")


def test_x_report_lists_totals_by_tender_tax_and_cashier() -> None:
    printer = Dummy(profile="TM-T88V")
    render_report(printer, make_report(), PrinterConfig(connection="dummy"))
    output = printer.output
    assert output.startswith(INIT) and output.endswith(FULL_CUT)
    for text in (b"X REPORT", b"Sales (1)", b"$10.96", b"Cash (1)", b"CA State 7.25%", b"$0.74"):
        assert text in output, text
    assert b"Casey Cashier" in output and b"EXPECTED CASH" in output and b"$110.96" in output


def test_z_report_shows_its_number_and_the_count() -> None:
    printer = Dummy(profile="TM-T88V")
    render_report(printer, make_report(z=True), PrinterConfig(connection="dummy"))
    output = printer.output
    assert b"Z REPORT #7" in output and b"Counted cash" in output and b"Over/short" in output


def test_test_page_shows_the_columns_and_a_bengali_row() -> None:
    printer = Dummy(profile="TM-T88V")
    render_test_page(printer, PrinterConfig(connection="dummy", paper_width_mm=58))
    output = printer.output
    assert b"12345678901234567890123456789012\n" in output
    assert RASTER in output


def test_times_print_as_the_store_clock_reads() -> None:
    # 15:06 UTC is 10:06 in New York (EST in early March).
    new_york = "\n".join(text_lines(render(make_receipt(timezone="America/New_York"))))
    assert "2025-03-04 10:06" in new_york and "15:06" not in new_york
    # A zone this machine does not know prints UTC rather than failing the receipt.
    unknown = "\n".join(text_lines(render(make_receipt(timezone="Mars/Olympus_Mons"))))
    assert "2025-03-04 15:06" in unknown
    printer = Dummy(profile="TM-T88V")
    render_report(printer, dataclasses.replace(make_report(z=True), timezone="Asia/Dhaka"),
                  PrinterConfig(connection="dummy"))
    assert b"2025-03-04 15:00" in printer.output  # opened 09:00 UTC, 6 hours ahead in Dhaka

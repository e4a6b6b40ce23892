"""PDF receipts and reports, parsed back with pypdf."""

from __future__ import annotations

import io

from pypdf import PdfReader

from stormcom_pos.hardware.pdf import receipt_pdf, report_pdf
from stormcom_pos.hardware.receipt import Receipt, ReceiptLine
from tests.terminal.hardware.conftest import D, make_receipt, make_report

MM = 72 / 25.4


def read(data: bytes) -> PdfReader:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data))


def font_names(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_receipt_pdf_is_one_narrow_page_with_number_and_totals(receipt: Receipt) -> None:
    reader = read(receipt_pdf(receipt))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert round(float(page.mediabox.width) / MM) == 80
    text = page.extract_text()
    for expected in ("DEMO-01-000123", "TOTAL", "$10.96", "$9.00", "Casey Cashier", "WELCOME10"):
        assert expected in text, expected
    assert reader.metadata.title == "Receipt DEMO-01-000123"


def test_a_long_receipt_still_fits_one_page() -> None:
    lines = tuple(ReceiptLine(f"Item {i}", D(1), D("1.00"), D("1.00")) for i in range(80))
    reader = read(receipt_pdf(make_receipt(lines=lines)))
    assert len(reader.pages) == 1
    assert "Item 79" in reader.pages[0].extract_text()


def test_bengali_receipt_embeds_a_bengali_font() -> None:
    bengali = ReceiptLine("চাল মিনিকেট", D(1), D("7.00"), D("7.00"))
    reader = read(receipt_pdf(make_receipt(lines=(bengali,), kind="refund")))
    assert any("NotoSansBengali" in name for name in font_names(reader))
    assert "REFUND TOTAL" in reader.pages[0].extract_text()
    assert reader.metadata.title.startswith("Refund ")


def test_latin_receipt_does_not_embed_the_bengali_font(receipt: Receipt) -> None:
    assert not any("Bengali" in name for name in font_names(read(receipt_pdf(receipt))))


def test_z_report_pdf_is_a4_with_the_figures() -> None:
    reader = read(report_pdf(make_report(z=True)))
    page = reader.pages[0]
    assert (round(float(page.mediabox.width) / MM), round(float(page.mediabox.height) / MM)) == (
        210,
        297,
    )
    text = page.extract_text()
    for expected in (
        "Z REPORT #7",
        "sess_demo_1",
        "$10.96",
        "EXPECTED CASH",
        "$110.96",
        "Over/short",
    ):
        assert expected in text, expected

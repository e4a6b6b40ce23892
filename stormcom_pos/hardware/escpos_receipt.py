"""Receipts and shift reports as ESC/POS commands, through python-escpos.

Rows the printer's code pages can encode are sent as text in font A (32 or 48 columns); rows
with characters no code page has (Bengali) are drawn by :mod:`raster_text` and sent as a
``GS v 0`` raster image of the same row height, so the slip keeps its columns.
"""

from __future__ import annotations

import textwrap

from escpos.escpos import Escpos
from PIL import Image, ImageOps

from stormcom_pos.hardware import raster_text
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.receipt import Receipt, ReportPrint
from stormcom_pos.hardware.receipt_layout import (
    Block,
    Code,
    Logo,
    Row,
    Rule,
    receipt_blocks,
    report_blocks,
)

_LOGO_MAX_HEIGHT = 160
_CODE128_MODULE_DOTS = 2


def render_receipt(printer: Escpos, receipt: Receipt, config: PrinterConfig) -> None:
    """Send a whole sale or refund receipt, from the printer reset to the cut."""
    _render(printer, receipt_blocks(receipt), config)


def render_report(printer: Escpos, report: ReportPrint, config: PrinterConfig) -> None:
    """Send an X or Z report, from the printer reset to the cut."""
    _render(printer, report_blocks(report), config)


def render_test_page(printer: Escpos, config: PrinterConfig) -> None:
    """A short page that shows the columns, a code-page character and a Bengali row."""
    cpl = config.chars_per_line
    blocks: list[Block] = [
        Row("StormCom POS test print", align="center", bold=True, large=True),
        Row(config.describe(), align="center"),
        Rule(),
        Row("".join(str(i % 10) for i in range(1, cpl + 1))),
        Row(f"Paper {config.paper_width_mm} mm", f"{cpl} columns"),
        Row(f"Profile {config.profile}", config.codepage or "auto code page"),
        Row("Café crème", "1.00"),
        Row("চাল (Bengali)", "১০০"),
        Rule(),
    ]
    _render(printer, blocks, config)


def kick_drawer(printer: Escpos, config: PrinterConfig) -> None:
    """Pulse the cash drawer pin (``ESC p``)."""
    printer.cashdraw(config.cash_drawer_pin)


class _Style:
    """The text style last sent, so a row sends only what changes."""

    def __init__(self, printer: Escpos) -> None:
        self._printer = printer
        self._current: tuple[str, bool, bool] | None = None

    def apply(self, align: str, bold: bool, large: bool) -> None:
        wanted = (align, bold, large)
        if wanted == self._current:
            return
        self._printer.set(align=align, bold=bold, double_height=large, normal_textsize=not large)
        self._current = wanted

    def forget(self) -> None:
        """Called after commands (barcodes, images) that change the style themselves."""
        self._current = None


def _render(printer: Escpos, blocks: list[Block], config: PrinterConfig) -> None:
    printer.hw("INIT")
    if config.codepage:
        printer.charcode(config.codepage.upper())
    style = _Style(printer)
    for block in blocks:
        if isinstance(block, Row):
            _row(printer, style, block, config)
        elif isinstance(block, Rule):
            _text_row(printer, style, Row("-" * config.chars_per_line), config)
        else:
            style.forget()
            if isinstance(block, Logo):
                _logo(printer, block, config)
            else:
                _code(printer, block, config)
    style.apply("left", False, False)
    printer.cut()


def encodable(printer: Escpos, text: str, config: PrinterConfig) -> bool:
    """Whether every character of ``text`` is in the configured (or any) code page."""
    encoder = printer.magic.encoder
    pages = [config.codepage.upper()] if config.codepage else list(encoder.codepages)
    return all(
        ord(char) < 128 or any(encoder.can_encode(page, char) for page in pages) for char in text
    )


def _row(printer: Escpos, style: _Style, row: Row, config: PrinterConfig) -> None:
    if encodable(printer, row.left + row.right, config):
        _text_row(printer, style, row, config)
    else:
        _raster_row(printer, style, row, config)


def column_lines(row: Row, width: int) -> list[str]:
    """The row as fixed-width text lines: left text wrapped, the amount flush right."""
    if not row.right:
        return textwrap.wrap(row.left, width) or [""]
    if len(row.left) + 1 + len(row.right) <= width:
        return [row.left.ljust(width - len(row.right)) + row.right]
    lines = textwrap.wrap(row.left, width) or [""]
    last = lines[-1]
    if len(last) + 1 + len(row.right) <= width:
        lines[-1] = last.ljust(width - len(row.right)) + row.right
    else:
        lines.append(row.right.rjust(width))
    return lines


def _text_row(printer: Escpos, style: _Style, row: Row, config: PrinterConfig) -> None:
    style.apply(row.align, row.bold, row.large)
    for line in column_lines(row, config.chars_per_line):
        printer.text(line + "\n")


def _raster_row(printer: Escpos, style: _Style, row: Row, config: PrinterConfig) -> None:
    width = config.image_width_dots
    size = raster_text.TEXT_PX * (2 if row.large else 1)
    right_room = raster_text.text_width(row.right, size) + size if row.right else 0
    lines = raster_text.wrap_to_width(row.left, max(width - right_room, width // 2), size)
    style.apply("left", False, False)
    for index, line in enumerate(lines):
        right = row.right if index == len(lines) - 1 else ""
        image = raster_text.render_row(
            line, right, width, center=row.align == "center", bold=row.bold, large=row.large
        )
        printer.image(image, impl="bitImageRaster")


def _logo(printer: Escpos, logo: Logo, config: PrinterConfig) -> None:
    with Image.open(logo.path) as source:
        image = ImageOps.grayscale(source.convert("RGBA").convert("RGB"))
    image.thumbnail((config.image_width_dots, _LOGO_MAX_HEIGHT))
    printer.image(image.convert("1"), impl="bitImageRaster", center=True)


def code128_fits(text: str, config: PrinterConfig) -> bool:
    """Whether a Code 128 (set B) of ``text`` fits across the paper at 2 dots a module."""
    modules = 11 * (len(text) + 2) + 13  # start, data, check, then the 13-module stop
    return modules * _CODE128_MODULE_DOTS <= config.image_width_dots


def _code(printer: Escpos, code: Code, config: PrinterConfig) -> None:
    printer.set(align="center", bold=False, normal_textsize=True)
    printer.text("\n")
    if code128_fits(code.text, config) and printer.profile.supports("barcodeB"):
        printer.barcode(
            "{B" + code.text,
            "CODE128",
            height=64,
            width=_CODE128_MODULE_DOTS,
            pos="BELOW",
            function_type="B",
        )
        printer.text("\n")
    else:
        printer.qr(code.text, size=5, native=printer.profile.supports("qrCode"))
        printer.text(code.text + "\n")
    printer.set(align="left")

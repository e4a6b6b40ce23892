"""PDF copies of receipts (a narrow slip-sized page) and of X/Z reports (A4), with reportlab.

The rows are those of the printed slip (:mod:`receipt_layout`). Text is set in the bundled
Noto Sans, with Bengali runs in Noto Sans Bengali; both are embedded (subset) and shaped with
HarfBuzz, so a Bengali product name reads correctly and stays searchable.
"""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from stormcom_pos.hardware import raster_text
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

_RECEIPT_WIDTH = 80 * mm
_RECEIPT_MARGIN = 4 * mm
_REPORT_MARGIN = 20 * mm
_FRAME_PADDING = 6  # points, on each side of SimpleDocTemplate's frame


@cache
def _register_fonts() -> None:
    fonts = {
        "StormComSans": raster_text.LATIN_FONT,
        "StormComSans-Bold": raster_text.FONT_DIR / "NotoSans-Bold.ttf",
        "StormComBengali": raster_text.BENGALI_FONT,
    }
    for name, path in fonts.items():
        pdfmetrics.registerFont(TTFont(name, str(path)))


def _markup(text: str) -> str:
    """Paragraph markup for ``text``, with Bengali runs switched to the Bengali font."""
    parts = []
    for run, bengali in raster_text.split_runs(text):
        if bengali:
            parts.append(f'<font name="StormComBengali">{escape(run)}</font>')
        else:
            parts.append(escape(run))
    return "".join(parts)


class _Styles:
    def __init__(self, size: float) -> None:
        base = ParagraphStyle(
            "row", fontName="StormComSans", fontSize=size, leading=size * 1.35, shaping=1
        )
        self.left = base
        self.right = ParagraphStyle("right", parent=base, alignment=TA_RIGHT)
        self.center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
        self.size = size

    def style(self, row: Row, right: bool = False) -> ParagraphStyle:
        parent = self.right if right else (self.center if row.align == "center" else self.left)
        if not (row.bold or row.large):
            return parent
        size = self.size * (1.5 if row.large else 1)
        return ParagraphStyle(
            "strong",
            parent=parent,
            fontName="StormComSans-Bold" if row.bold else parent.fontName,
            fontSize=size,
            leading=size * 1.35,
        )


def _row(row: Row, styles: _Styles, width: float) -> Flowable:
    text = row.left.lstrip(" ")
    style = styles.style(row)
    if indent := len(row.left) - len(text):
        # Paragraphs collapse leading spaces; the slip's indented detail rows keep theirs.
        style = ParagraphStyle("indented", parent=style, leftIndent=indent * styles.size * 0.5)
    left = Paragraph(_markup(text), style)
    if not row.right:
        return left
    table = Table(
        [[left, Paragraph(_markup(row.right), styles.style(row, right=True))]],
        colWidths=[width * 0.62, width * 0.38],
    )
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
            ]
        )
    )
    return table


def _logo(logo: Logo, width: float) -> Flowable:
    image = Image(str(logo.path))
    scale = min(1.0, width / image.imageWidth, (25 * mm) / image.imageHeight)
    image.drawWidth = image.imageWidth * scale
    image.drawHeight = image.imageHeight * scale
    return image


def _code(code: Code, styles: _Styles, width: float) -> list[Flowable]:
    bar_width = min(0.33 * mm, width / (11 * (len(code.text) + 2) + 13 + 20))
    barcode = Code128(code.text, barWidth=bar_width, barHeight=12 * mm, humanReadable=False)
    barcode.hAlign = "CENTER"
    caption = Paragraph(escape(code.text), styles.center)
    return [Spacer(1, 2 * mm), barcode, caption]


def _flowables(blocks: list[Block], styles: _Styles, width: float) -> list[Flowable]:
    story: list[Flowable] = []
    for block in blocks:
        if isinstance(block, Row):
            story.append(_row(block, styles, width))
        elif isinstance(block, Rule):
            story.append(HRFlowable(width="100%", thickness=0.5, spaceBefore=2, spaceAfter=2))
        elif isinstance(block, Logo):
            story.append(_logo(block, width))
        else:
            story.extend(_code(block, styles, width))
    return story


def _build(
    story: list[Flowable], pagesize: tuple[float, float], margin: float, title: str
) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=title,
        author="StormCom POS",
    )
    document.build(story)
    return buffer.getvalue()


def receipt_pdf(receipt: Receipt) -> bytes:
    """The receipt as a one-page PDF as wide as an 80 mm slip and as long as it needs."""
    _register_fonts()
    width = _RECEIPT_WIDTH - 2 * (_RECEIPT_MARGIN + _FRAME_PADDING)
    story = _flowables(receipt_blocks(receipt), _Styles(8), width)
    height = sum(flowable.wrap(width, 10_000)[1] for flowable in story)
    height += sum(f.getSpaceBefore() + f.getSpaceAfter() for f in story)
    # The layout engine's own rounding needs a little slack or the last row spills over.
    page = (_RECEIPT_WIDTH, height + 2 * _RECEIPT_MARGIN + 10 * mm)
    title = f"{'Refund' if receipt.kind == 'refund' else 'Receipt'} {receipt.receipt_number}"
    return _build(story, page, _RECEIPT_MARGIN, title)


def report_pdf(report: ReportPrint) -> bytes:
    """The X or Z report on A4 pages."""
    _register_fonts()
    width = A4[0] - 2 * (_REPORT_MARGIN + _FRAME_PADDING)
    story = _flowables(report_blocks(report), _Styles(10), width)
    title = f"{report.report.kind.value} report {report.report.session_id}"
    return _build(story, A4, _REPORT_MARGIN, title)

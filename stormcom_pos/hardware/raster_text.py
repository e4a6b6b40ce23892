"""Text as a 1-bit image, for scripts a receipt printer's code pages cannot print (Bengali).

Pillow shapes the text with libraqm, so conjuncts and vowel signs join as they should. Noto
Sans Bengali has no Latin letters, so a mixed line is cut into runs and each run is drawn
with the font that has its glyphs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).resolve().parents[2] / "resources" / "fonts"
BENGALI_FONT = FONT_DIR / "NotoSansBengali-Regular.ttf"
LATIN_FONT = FONT_DIR / "NotoSans-Regular.ttf"

# Font A on an ESC/POS head is 12 x 24 dots; rasterised rows match its height.
TEXT_PX = 24
_ROW_PX = 34
_BASELINE_PX = 25


def is_bengali(char: str) -> bool:
    """Whether a character belongs to the Bengali block (or is a joiner used inside it)."""
    return "\u0980" <= char <= "\u09ff" or char in "\u200c\u200d\u0964\u0965"


def has_bengali(text: str) -> bool:
    """Whether any character of ``text`` is Bengali."""
    return any(is_bengali(c) for c in text)


@lru_cache(maxsize=8)
def _font(path: Path, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)
    if bold:
        try:
            font.set_variation_by_name("Bold")
        except OSError:
            pass  # not a variable font; bold is drawn with a stroke instead
    return font


def split_runs(text: str) -> list[tuple[str, bool]]:
    """Split text into (run, is_bengali) pieces; spaces stay with the run they are in."""
    runs: list[tuple[str, bool]] = []
    for char in text:
        bengali = is_bengali(char) if not char.isspace() else (runs[-1][1] if runs else False)
        if runs and runs[-1][1] == bengali:
            runs[-1] = (runs[-1][0] + char, bengali)
        else:
            runs.append((char, bengali))
    return runs


def text_width(text: str, size: int = TEXT_PX) -> int:
    """Width in dots of ``text`` drawn by :func:`draw_text`."""
    total = 0.0
    for run, bengali in split_runs(text):
        total += _font(BENGALI_FONT if bengali else LATIN_FONT, size, False).getlength(run)
    return int(round(total))


def _draw(draw: ImageDraw.ImageDraw, x: float, text: str, size: int, bold: bool) -> None:
    baseline = _BASELINE_PX * size / TEXT_PX
    for run, bengali in split_runs(text):
        font = _font(BENGALI_FONT if bengali else LATIN_FONT, size, False)
        draw.text(
            (x, baseline),
            run,
            font=font,
            fill=0,
            anchor="ls",
            stroke_width=1 if bold else 0,
            stroke_fill=0,
        )
        x += font.getlength(run)


def wrap_to_width(text: str, width: int, size: int = TEXT_PX) -> list[str]:
    """Break ``text`` at spaces into lines no wider than ``width`` dots (long words stay whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and text_width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    lines.append(current)
    return lines


def render_row(
    left: str,
    right: str,
    width: int,
    *,
    center: bool = False,
    bold: bool = False,
    large: bool = False,
) -> Image.Image:
    """A row as a 1-bit image ``width`` dots wide: ``left`` text and ``right`` flush right."""
    size = TEXT_PX * 2 if large else TEXT_PX
    height = _ROW_PX * 2 if large else _ROW_PX
    image = Image.new("1", (width, height), 1)
    draw = ImageDraw.Draw(image)
    if center:
        _draw(draw, max(0, (width - text_width(left, size)) / 2), left, size, bold)
    else:
        _draw(draw, 0, left, size, bold)
    if right:
        _draw(draw, max(0, width - text_width(right, size)), right, size, bold)
    return image

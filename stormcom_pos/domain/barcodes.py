"""Barcodes: retail symbologies, label-scale codes, and our own receipt barcode.

- EAN-13, EAN-8, UPC-A and UPC-E check digits are verified with python-stdnum (UPC-E is
  expanded to UPC-A first, as the standard defines its check digit on the expansion).
- GS1 restricted-circulation codes (prefix 02 and 20-29) are what label scales print; which
  prefix embeds a price and which a weight is a store setting (:class:`Nomenclature`).
- Receipt barcodes carry ``<store code>-<terminal no>-<counter>`` plus an ISO 7064
  Mod 37,36 check character, in plain ASCII that any Code 128 printer can render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from stdnum import ean
from stdnum.exceptions import InvalidChecksum
from stdnum.iso7064 import mod_37_36

from stormcom_pos.domain.errors import DomainError

__all__ = [
    "DEFAULT_NOMENCLATURE",
    "Barcode",
    "EmbeddedBarcode",
    "EmbeddedKind",
    "EmbeddedRule",
    "InvalidBarcode",
    "Nomenclature",
    "ReceiptNumber",
    "Symbology",
    "classify",
    "decode_receipt_barcode",
    "encode_receipt_barcode",
    "expand_upce",
    "is_receipt_barcode",
    "parse_embedded",
]

_DIGITS = re.compile(r"[0-9]+")


class InvalidBarcode(DomainError):  # noqa: N818 - the package names errors without a suffix
    """A scanned or keyed code is not valid; ``reason`` is length, format or check_digit."""

    code = "invalid_barcode"

    def __init__(self, message: str, reason: str, expected_check: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.expected_check = expected_check


class Symbology(StrEnum):
    """Retail symbologies we validate."""

    EAN13 = "EAN13"
    EAN8 = "EAN8"
    UPCA = "UPCA"
    UPCE = "UPCE"


@dataclass(frozen=True, slots=True)
class Barcode:
    """A valid retail code: as scanned, its symbology, and its GTIN-14 for catalog lookups.

    ``alternative_gtin14`` is set when an 8-digit code is valid as both UPC-E and EAN-8: look
    the item up by ``gtin14`` first, then by the alternative.
    """

    code: str
    symbology: Symbology
    gtin14: str
    alternative_gtin14: str | None = None


def expand_upce(code: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to its 12-digit UPC-A."""
    if len(code) != 8 or not _DIGITS.fullmatch(code):
        raise InvalidBarcode(f"UPC-E {code!r} must be 8 digits", "length")
    if code[0] not in "01":
        raise InvalidBarcode(
            f"UPC-E {code} must start with number system 0 or 1, not {code[0]}", "format"
        )
    ns, d, check = code[0], code[1:7], code[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


def _check_ean(code: str) -> str | None:
    """None when the check digit is right, else the digit it should be."""
    try:
        ean.validate(code)
    except InvalidChecksum:
        return ean.calc_check_digit(code[:-1])
    return None


def _bad_check(code: str, name: str, expected: str) -> InvalidBarcode:
    return InvalidBarcode(
        f"{name} {code} has a bad check digit: it ends in {code[-1]} but should end in {expected}",
        "check_digit",
        expected,
    )


def _clean(code: str) -> str:
    text = code.strip()
    if not text:
        raise InvalidBarcode("the barcode is empty", "length")
    if not _DIGITS.fullmatch(text):
        bad = sorted({c for c in text if c not in "0123456789"})
        raise InvalidBarcode(
            f"barcode {text!r} contains non-digits: {', '.join(repr(c) for c in bad)}", "format"
        )
    return text


def classify(code: str, hint: Symbology | None = None) -> Barcode:
    """Validate a retail code and say which symbology it is, or raise :class:`InvalidBarcode`.

    An 8-digit code starting with 0 or 1 is read as UPC-E when its check digit holds (the
    common case at US-style tills), else as EAN-8; other 8-digit codes are EAN-8. Pass
    ``hint`` when the scanner reports the symbology.
    """
    text = _clean(code)
    n = len(text)
    if n == 13:
        expected = _check_ean(text)
        if expected:
            raise _bad_check(text, "EAN-13", expected)
        return Barcode(text, Symbology.EAN13, "0" + text)
    if n == 12:
        expected = _check_ean(text)
        if expected:
            raise _bad_check(text, "UPC-A", expected)
        return Barcode(text, Symbology.UPCA, "00" + text)
    if n == 8:
        return _classify8(text, hint)
    raise InvalidBarcode(
        f"barcode {text} has {n} digits; EAN-13 has 13, UPC-A 12, EAN-8 and UPC-E 8", "length"
    )


def _classify8(text: str, hint: Symbology | None) -> Barcode:
    ean8_expected = _check_ean(text)
    ean8 = "000000" + text
    if hint is Symbology.EAN8 or text[0] not in "01":
        if hint is Symbology.UPCE:
            expand_upce(text)  # raises: the number system is not 0 or 1
        if ean8_expected:
            raise _bad_check(text, "EAN-8", ean8_expected)
        return Barcode(text, Symbology.EAN8, ean8)
    upca = expand_upce(text)
    upce_expected = _check_ean(upca)
    if upce_expected is None:
        # Both readings can hold (about 1 code in 10); keep the EAN-8 one for the lookup.
        other = ean8 if ean8_expected is None and hint is not Symbology.UPCE else None
        return Barcode(text, Symbology.UPCE, "00" + upca, other)
    if ean8_expected is None and hint is not Symbology.UPCE:
        return Barcode(text, Symbology.EAN8, ean8)
    error = _bad_check(text, "UPC-E", upce_expected)
    if hint is None:
        error = InvalidBarcode(
            f"{error.message} (read as EAN-8 it should end in {ean8_expected})",
            "check_digit",
            upce_expected,
        )
    raise error


# ---- label-scale (restricted circulation) codes --------------------------------------


_RCN_PREFIXES = frozenset({"02", *(str(p) for p in range(20, 30))})


class EmbeddedKind(StrEnum):
    """What the value field of a restricted-circulation code holds."""

    PRICE = "PRICE"
    WEIGHT = "WEIGHT"


@dataclass(frozen=True, slots=True)
class EmbeddedRule:
    """Layout of one prefix: prefix, item code, [price check digit], value, EAN check digit.

    ``decimals`` places the decimal point in the value: 2 for a price in cents, 3 for a
    weight in grams read as kg. A price check digit, when present, is skipped, not verified:
    the EAN-13 check digit already guards the whole code.
    """

    prefix: str
    kind: EmbeddedKind
    item_digits: int = 5
    value_digits: int = 5
    decimals: int = 2
    price_check_digit: bool = False

    def __post_init__(self) -> None:
        size = len(self.prefix) + self.item_digits + self.price_check_digit + self.value_digits
        if not _DIGITS.fullmatch(self.prefix) or size + 1 != 13:
            raise InvalidBarcode(
                f"rule for prefix {self.prefix!r} must describe 13 digits, describes {size + 1}",
                "format",
            )
        if self.prefix[:2] not in _RCN_PREFIXES or self.decimals < 0:
            raise InvalidBarcode(
                f"prefix {self.prefix} must start with a restricted-circulation prefix "
                f"(02, 20-29) and decimals ({self.decimals}) cannot be negative",
                "format",
            )


@dataclass(frozen=True, slots=True)
class Nomenclature:
    """A store's rules for restricted-circulation prefixes; the longest matching prefix wins."""

    rules: tuple[EmbeddedRule, ...]

    def rule_for(self, code13: str) -> EmbeddedRule | None:
        """The rule whose prefix starts the 13-digit code, longest prefix first."""
        matching = [r for r in self.rules if code13.startswith(r.prefix)]
        return max(matching, key=lambda r: len(r.prefix)) if matching else None


# Our default: US-style price labels on 02, European-style weight labels on 20-21 and
# price labels on 22-23. Stores change this to match their scales.
DEFAULT_NOMENCLATURE = Nomenclature(
    (
        EmbeddedRule("02", EmbeddedKind.PRICE, 5, 5, 2),
        EmbeddedRule("20", EmbeddedKind.WEIGHT, 5, 5, 3),
        EmbeddedRule("21", EmbeddedKind.WEIGHT, 5, 5, 3),
        EmbeddedRule("22", EmbeddedKind.PRICE, 5, 5, 2),
        EmbeddedRule("23", EmbeddedKind.PRICE, 5, 5, 2),
    )
)


@dataclass(frozen=True, slots=True)
class EmbeddedBarcode:
    """A decoded label: the item (PLU) code and either its price or its weight in kg."""

    code: str
    prefix: str
    item_code: str
    kind: EmbeddedKind
    price: Decimal | None
    weight_kg: Decimal | None


def parse_embedded(
    code: str, nomenclature: Nomenclature = DEFAULT_NOMENCLATURE
) -> EmbeddedBarcode | None:
    """Decode a label-scale code; None for an ordinary code or a prefix with no rule.

    Raises :class:`InvalidBarcode` when the code itself is invalid.
    """
    barcode = classify(code)
    if barcode.symbology is Symbology.EAN13:
        code13 = barcode.code
    elif barcode.symbology is Symbology.UPCA:
        code13 = "0" + barcode.code  # UPC-A number system 2 is EAN-13 prefix 02
    else:
        return None
    if code13[:2] not in _RCN_PREFIXES:
        return None
    rule = nomenclature.rule_for(code13)
    if rule is None:
        return None
    start = len(rule.prefix)
    item = code13[start : start + rule.item_digits]
    vstart = start + rule.item_digits + rule.price_check_digit
    value = Decimal(int(code13[vstart : vstart + rule.value_digits])).scaleb(-rule.decimals)
    is_price = rule.kind is EmbeddedKind.PRICE
    return EmbeddedBarcode(
        code=barcode.code,
        prefix=rule.prefix,
        item_code=item,
        kind=rule.kind,
        price=value if is_price else None,
        weight_kg=None if is_price else value,
    )


# ---- receipt barcodes --------------------------------------------------------------------

_STORE_CODE = re.compile(r"[A-Z0-9]{1,12}")
_RECEIPT = re.compile(r"([A-Z0-9]{1,12})-([0-9]{2,4})-([0-9]{6,})-([A-Z0-9])")


@dataclass(frozen=True, slots=True)
class ReceiptNumber:
    """A POS receipt number, ``<store code>-<terminal no>-<6-digit counter>``."""

    store_code: str
    terminal_no: int
    counter: int

    def __post_init__(self) -> None:
        if not _STORE_CODE.fullmatch(self.store_code):
            raise InvalidBarcode(
                f"store code {self.store_code!r} must be 1-12 upper-case letters or digits",
                "format",
            )
        if not 1 <= self.terminal_no <= 9999:
            raise InvalidBarcode(f"terminal number {self.terminal_no} must be 1-9999", "format")
        if self.counter < 1:
            raise InvalidBarcode(f"receipt counter {self.counter} must be 1 or more", "format")

    def __str__(self) -> str:
        # The counter widens past 999999 rather than wrapping, so numbers never repeat.
        return f"{self.store_code}-{self.terminal_no:02d}-{self.counter:06d}"


def _receipt_check(text: str) -> str:
    return mod_37_36.calc_check_digit(text.replace("-", ""))


def encode_receipt_barcode(receipt: ReceiptNumber) -> str:
    """The text to print as a Code 128 barcode on a receipt, e.g. ``DHK1-03-000123-X``."""
    text = str(receipt)
    return f"{text}-{_receipt_check(text)}"


def is_receipt_barcode(text: str) -> bool:
    """Whether a scan looks like one of our receipt barcodes (not whether its check holds)."""
    return _RECEIPT.fullmatch(text.strip().upper()) is not None


def decode_receipt_barcode(text: str) -> ReceiptNumber:
    """Read a scanned receipt barcode back into its receipt number, checking the check char."""
    scanned = text.strip().upper()
    match = _RECEIPT.fullmatch(scanned)
    if match is None:
        raise InvalidBarcode(
            f"{text!r} is not a receipt barcode (expected STORE-NN-NNNNNN-C)", "format"
        )
    store, terminal, counter, check = match.groups()
    body = scanned[: -len(check) - 1]
    expected = _receipt_check(body)
    if check != expected:
        raise InvalidBarcode(
            f"receipt barcode {scanned} has a bad check character: {check}, should be {expected}",
            "check_digit",
            expected,
        )
    return ReceiptNumber(store, int(terminal), int(counter))

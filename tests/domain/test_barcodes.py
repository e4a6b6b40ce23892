"""Barcodes: EAN/UPC check digits, UPC-E expansion, label-scale codes, receipt barcodes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stormcom_pos.domain.barcodes import (
    DEFAULT_NOMENCLATURE,
    EmbeddedKind,
    EmbeddedRule,
    InvalidBarcode,
    Nomenclature,
    ReceiptNumber,
    Symbology,
    classify,
    decode_receipt_barcode,
    encode_receipt_barcode,
    expand_upce,
    is_receipt_barcode,
    parse_embedded,
)

D = Decimal


@pytest.mark.parametrize(
    ("code", "symbology", "gtin14"),
    [
        ("4006381333931", Symbology.EAN13, "04006381333931"),  # Stabilo pen
        ("5901234123457", Symbology.EAN13, "05901234123457"),  # GS1 example
        ("9780306406157", Symbology.EAN13, "09780306406157"),  # ISBN-13 as EAN-13
        ("96385074", Symbology.EAN8, "00000096385074"),
        ("73513537", Symbology.EAN8, "00000073513537"),
        ("036000291452", Symbology.UPCA, "00036000291452"),  # Kleenex
        ("01234565", Symbology.UPCE, "00012345000065"),
        ("04963406", Symbology.UPCE, "00049000006346"),  # Coca-Cola 12 oz can
        ("  4006381333931\n", Symbology.EAN13, "04006381333931"),  # scanner suffix
    ],
)
def test_valid_codes_are_classified(code: str, symbology: Symbology, gtin14: str) -> None:
    result = classify(code)
    assert result.symbology is symbology
    assert result.gtin14 == gtin14


def test_upca_and_ean13_forms_share_one_gtin() -> None:
    assert classify("036000291452").gtin14 == classify("0036000291452").gtin14


@pytest.mark.parametrize(
    ("upce", "upca"),
    [
        ("01234565", "012345000065"),  # last digit 5-9: manufacturer 5 digits
        ("04963406", "049000006346"),  # last digit 0-2
        ("01234531", "012300000451"),  # last digit 3
        ("01234543", "012340000053"),  # last digit 4
    ],
)
def test_upce_expansion(upce: str, upca: str) -> None:
    assert expand_upce(upce) == upca
    assert classify(upce).symbology is Symbology.UPCE


@pytest.mark.parametrize(
    ("code", "reason", "expected"),
    [
        ("4006381333932", "check_digit", "1"),
        ("036000291453", "check_digit", "2"),
        ("96385075", "check_digit", "4"),
        ("40063813339", "length", None),
        ("", "length", None),
        ("40063813339A1", "format", None),
        ("978-0306406157", "format", None),
    ],
)
def test_invalid_codes_say_what_is_wrong(code: str, reason: str, expected: str | None) -> None:
    with pytest.raises(InvalidBarcode) as err:
        classify(code)
    assert err.value.reason == reason
    assert err.value.expected_check == expected
    if expected:
        assert f"should end in {expected}" in err.value.message


def test_length_error_names_the_digit_count() -> None:
    with pytest.raises(InvalidBarcode, match="has 11 digits"):
        classify("40063813339")


def test_non_digit_error_lists_the_characters() -> None:
    with pytest.raises(InvalidBarcode, match="'A'"):
        classify("40063813339A1")


def test_eight_digits_valid_both_ways_read_as_upce_with_ean8_alternative() -> None:
    result = classify("01234565")  # also a valid EAN-8
    assert result.symbology is Symbology.UPCE
    assert result.alternative_gtin14 == "00000001234565"
    forced = classify("01234565", hint=Symbology.EAN8)
    assert (forced.symbology, forced.alternative_gtin14) == (Symbology.EAN8, None)


def test_eight_digits_valid_only_as_ean8() -> None:
    # 0 leads, so UPC-E is tried first, but only the EAN-8 check digit holds.
    assert classify("00000017").symbology is Symbology.EAN8
    assert classify("00000017").alternative_gtin14 is None


def test_hint_upce_refuses_a_number_system_other_than_0_or_1() -> None:
    with pytest.raises(InvalidBarcode, match="number system 0 or 1"):
        classify("96385074", hint=Symbology.UPCE)
    with pytest.raises(InvalidBarcode, match="UPC-E"):
        classify("00000017", hint=Symbology.UPCE)


def test_bad_eight_digit_check_digit_mentions_both_readings() -> None:
    with pytest.raises(InvalidBarcode, match="read as EAN-8 it should end in") as err:
        classify("01234566")
    assert err.value.expected_check == "5"


# ---- label-scale codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "item", "kind", "price", "weight"),
    [
        ("2012345006256", "12345", EmbeddedKind.WEIGHT, None, D("0.625")),
        ("2100042015005", "00042", EmbeddedKind.WEIGHT, None, D("1.500")),
        ("2212345012992", "12345", EmbeddedKind.PRICE, D("12.99"), None),
        ("0212345004999", "12345", EmbeddedKind.PRICE, D("4.99"), None),
        ("212345004999", "12345", EmbeddedKind.PRICE, D("4.99"), None),  # UPC-A system 2
    ],
)
def test_label_scale_codes(
    code: str, item: str, kind: EmbeddedKind, price: D | None, weight: D | None
) -> None:
    result = parse_embedded(code)
    assert result is not None
    assert (result.item_code, result.kind, result.price, result.weight_kg) == (
        item,
        kind,
        price,
        weight,
    )


def test_label_with_bad_check_digit_is_refused() -> None:
    with pytest.raises(InvalidBarcode, match="should end in 6"):
        parse_embedded("2012345006254")


def test_ordinary_and_unconfigured_codes_are_not_embedded() -> None:
    assert parse_embedded("4006381333931") is None
    assert parse_embedded("96385074") is None
    assert parse_embedded("2912345006259") is None  # prefix 29 has no rule by default


def test_custom_nomenclature_with_price_check_digit_and_yen() -> None:
    # 2-digit prefix, 4-digit PLU, a price check digit, 5-digit price in whole yen.
    rules = Nomenclature((EmbeddedRule("26", EmbeddedKind.PRICE, 4, 5, 0, True),))
    result = parse_embedded("2612347012806", rules)
    assert result is not None
    assert (result.item_code, result.price) == ("1234", D("1280"))


def test_longest_prefix_wins() -> None:
    rules = Nomenclature(
        (
            EmbeddedRule("27", EmbeddedKind.PRICE, 5, 5, 2),
            EmbeddedRule("278", EmbeddedKind.WEIGHT, 4, 5, 3),
        )
    )
    result = parse_embedded("2781230010004", rules)
    assert result is not None
    assert (result.item_code, result.weight_kg) == ("1230", D("1.000"))
    assert DEFAULT_NOMENCLATURE.rule_for("9999999999999") is None


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("20", EmbeddedKind.WEIGHT, 5, 4, 3), "describe 13 digits"),
        (("40", EmbeddedKind.PRICE, 5, 5, 2), "restricted-circulation"),
        (("2", EmbeddedKind.PRICE, 6, 5, 2), "restricted-circulation"),
    ],
)
def test_bad_rules_are_refused(args: tuple[str, EmbeddedKind, int, int, int], match: str) -> None:
    with pytest.raises(InvalidBarcode, match=match):
        EmbeddedRule(*args)


# ---- receipt barcodes -------------------------------------------------------------------


def test_receipt_barcode_round_trip() -> None:
    receipt = ReceiptNumber("DHK1", 3, 123)
    assert str(receipt) == "DHK1-03-000123"
    text = encode_receipt_barcode(receipt)
    assert text.startswith("DHK1-03-000123-") and len(text) == len("DHK1-03-000123-X")
    assert text.isascii()
    assert is_receipt_barcode(text)
    assert decode_receipt_barcode(text) == receipt
    assert decode_receipt_barcode(text.lower() + "\r\n") == receipt


def test_receipt_counter_widens_instead_of_wrapping() -> None:
    receipt = ReceiptNumber("S1", 12, 1_000_000)
    assert str(receipt) == "S1-12-1000000"
    assert decode_receipt_barcode(encode_receipt_barcode(receipt)) == receipt


def test_receipt_barcode_catches_a_misread_digit() -> None:
    text = encode_receipt_barcode(ReceiptNumber("DHK1", 3, 123))
    tampered = text.replace("000123", "000132")
    with pytest.raises(InvalidBarcode, match="bad check character") as err:
        decode_receipt_barcode(tampered)
    assert err.value.reason == "check_digit"


@pytest.mark.parametrize("text", ["4006381333931", "DHK1-03-123-X", "DHK1_03_000123_X", ""])
def test_non_receipt_scans_are_refused(text: str) -> None:
    assert not is_receipt_barcode(text)
    with pytest.raises(InvalidBarcode, match="not a receipt barcode"):
        decode_receipt_barcode(text)


@pytest.mark.parametrize(
    ("store", "terminal", "counter"),
    [("dhk", 1, 1), ("TOO-LONG", 1, 1), ("S", 0, 1), ("S", 1, 0)],
)
def test_receipt_number_parts_are_validated(store: str, terminal: int, counter: int) -> None:
    with pytest.raises(InvalidBarcode):
        ReceiptNumber(store, terminal, counter)

"""PrinterConfig: columns per paper width and clear messages for bad settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from stormcom_pos.hardware.printer_config import PrinterConfig


@pytest.mark.parametrize(("width", "columns"), [(58, 32), (80, 48)])
def test_chars_per_line_follow_the_paper(width: int, columns: int) -> None:
    assert PrinterConfig(connection="dummy", paper_width_mm=width).chars_per_line == columns


def test_image_width_never_exceeds_the_profile_or_the_paper() -> None:
    assert PrinterConfig(connection="dummy", paper_width_mm=80).image_width_dots == 512
    assert PrinterConfig(connection="dummy", paper_width_mm=58).image_width_dots == 384
    wide = PrinterConfig(connection="dummy", profile="TM-T20II", paper_width_mm=80)
    assert wide.image_width_dots == 576


def test_defaults_match_a_common_network_printer() -> None:
    config = PrinterConfig(connection="network", host="192.0.2.10")
    assert (config.port, config.profile, config.paper_width_mm) == (9100, "TM-T88V", 80)
    assert config.timeout_s == 5.0 and config.cash_drawer_pin == 2
    assert config.describe() == "network printer 192.0.2.10:9100"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"connection": "network"}, "network printer needs a host"),
        ({"connection": "network", "host": "  "}, "network printer needs a host"),
        ({"connection": "usb", "usb_vendor": 0x04B8}, "vendor and product ids"),
        ({"connection": "serial"}, "serial printer needs a device"),
        ({"connection": "file"}, "device-file printer needs a path"),
        ({"connection": "bluetooth"}, "connection"),
        ({"connection": "dummy", "paper_width_mm": 76}, "paper_width_mm"),
        ({"connection": "dummy", "port": 70000}, "less than or equal to 65535"),
        ({"connection": "dummy", "timeout_s": 0}, "greater than 0"),
        ({"connection": "dummy", "cash_drawer_pin": 3}, "cash_drawer_pin"),
        ({"connection": "dummy", "baudrate": 9601}, "baud rate 9601"),
        ({"connection": "dummy", "profile": "TM-NOPE"}, "unknown printer profile 'TM-NOPE'"),
        ({"connection": "dummy", "codepage": "CP999"}, "code page 'CP999' is not one"),
        ({"connection": "dummy", "colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(settings: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        PrinterConfig(**settings)


def test_a_supported_code_page_is_accepted_in_any_case() -> None:
    assert PrinterConfig(connection="dummy", codepage="cp858").codepage == "cp858"


def test_config_is_immutable() -> None:
    config = PrinterConfig(connection="dummy")
    with pytest.raises(ValidationError):
        config.port = 9200  # type: ignore[misc]

"""Receipt printer settings: how to reach the printer and what its paper and code pages are.

Validated with pydantic so that a settings page can show the message of a bad value as it is.
"""

from __future__ import annotations

from typing import Literal

from escpos.capabilities import CAPABILITIES, get_profile
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Connection = Literal["network", "usb", "serial", "file", "dummy"]

_CHARS_PER_LINE = {58: 32, 80: 48}
# Printable dots across the paper at the usual 203 dpi head (48 mm and 72 mm).
_PAPER_DOTS = {58: 384, 80: 576}


class PrinterConfig(BaseModel):
    """One receipt printer. ``profile`` is a python-escpos printer profile name.

    ``status_query`` may be turned off for a network printer that never answers status
    requests; it is not used on other connections.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    connection: Connection
    host: str | None = None
    port: int = Field(9100, ge=1, le=65535)
    usb_vendor: int | None = Field(None, ge=0, le=0xFFFF)
    usb_product: int | None = Field(None, ge=0, le=0xFFFF)
    serial_device: str | None = None
    baudrate: int = 9600
    file_path: str | None = None
    profile: str = "TM-T88V"
    codepage: str | None = None
    paper_width_mm: Literal[58, 80] = 80
    timeout_s: float = Field(5.0, gt=0, le=120)
    cash_drawer_pin: Literal[2, 5] = 2
    # Ask a network printer for its status (DLE EOT) before each job: a printer that accepts
    # the connection but is jammed or hung would otherwise swallow receipts silently.
    status_query: bool = True

    @field_validator("host", "serial_device", "file_path", "codepage")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        return value.strip() if value is not None else None

    @field_validator("baudrate")
    @classmethod
    def _known_baudrate(cls, value: int) -> int:
        allowed = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
        if value not in allowed:
            raise ValueError(
                f"baud rate {value} is not one a serial printer uses; pick one of "
                + ", ".join(str(b) for b in allowed)
            )
        return value

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in CAPABILITIES["profiles"]:
            raise ValueError(
                f"unknown printer profile {value!r}; known profiles include "
                + ", ".join(sorted(CAPABILITIES["profiles"])[:12])
                + " ..."
            )
        return value

    @model_validator(mode="after")
    def _connection_has_its_address(self) -> PrinterConfig:
        needs = {
            "network": ("host", "a network printer needs a host name or IP address"),
            "serial": ("serial_device", "a serial printer needs a device such as /dev/ttyS0"),
            "file": ("file_path", "a device-file printer needs a path such as /dev/usb/lp0"),
        }
        if self.connection in needs:
            field, message = needs[self.connection]
            if getattr(self, field) is None:
                raise ValueError(message)
        if self.connection == "usb" and (self.usb_vendor is None or self.usb_product is None):
            raise ValueError("a USB printer needs its vendor and product ids (e.g. 0x04b8, 0x0202)")
        if self.codepage is not None:
            pages = get_profile(self.profile).get_code_pages()
            if self.codepage.upper() not in pages:
                raise ValueError(
                    f"code page {self.codepage!r} is not one the {self.profile} profile "
                    f"supports; it supports {', '.join(sorted(p for p in pages if p != 'Unknown'))}"
                )
        return self

    @property
    def chars_per_line(self) -> int:
        """Font A characters across the paper: 32 on 58 mm, 48 on 80 mm."""
        return _CHARS_PER_LINE[self.paper_width_mm]

    @property
    def image_width_dots(self) -> int:
        """The widest image the paper and the profile both allow, in dots."""
        dots = _PAPER_DOTS[self.paper_width_mm]
        pixels = get_profile(self.profile).profile_data["media"]["width"]["pixels"]
        if isinstance(pixels, int):
            dots = min(dots, pixels)
        return dots

    def describe(self) -> str:
        """How a cashier or an error message names this printer."""
        match self.connection:
            case "network":
                return f"network printer {self.host}:{self.port}"
            case "usb":
                return f"USB printer {self.usb_vendor:04x}:{self.usb_product:04x}"
            case "serial":
                return f"serial printer {self.serial_device}"
            case "file":
                return f"printer device {self.file_path}"
            case _:
                return "dummy printer"

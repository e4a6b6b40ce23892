"""This till's own settings, kept beside its database in ``till-settings.json``.

Store-wide settings (tax, coupons, cash rounding) come from the server through the cache; what
lives here is what belongs to the machine: its terminal number and name, its printer, its
scanner timing, its idle lock. Writes go to a temporary file that then replaces the old one,
so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stormcom_pos.hardware.printer_config import PrinterConfig

FILE_NAME = "till-settings.json"


class TillConfig(BaseModel):
    """Everything the till remembers about itself between runs."""

    model_config = ConfigDict(extra="ignore")

    terminal_number: int | None = Field(None, ge=1, le=9999)
    terminal_name: str | None = None
    printer: PrinterConfig = PrinterConfig(connection="dummy")
    scanner_max_gap_ms: int = Field(30, ge=5, le=500)
    scanner_min_length: int = Field(6, ge=1, le=64)
    idle_timeout_s: int = Field(300, ge=15, le=86_400)
    # A cashier without pos.discount_override may give up to this percent off on their own.
    cashier_discount_limit_percent: Decimal = Field(Decimal(0), ge=0, le=100)


def load(data_dir: Path) -> TillConfig:
    """The saved settings, or the defaults when there is no file (or it is unreadable)."""
    path = data_dir / FILE_NAME
    try:
        return TillConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return TillConfig()
    except (ValidationError, ValueError, OSError):
        # A damaged settings file must not stop the till selling; the defaults are safe.
        return TillConfig()


def save(data_dir: Path, config: TillConfig) -> None:
    """Write the settings atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(config.model_dump(mode="json"), indent=2), encoding="utf-8")
    os.replace(tmp, path)

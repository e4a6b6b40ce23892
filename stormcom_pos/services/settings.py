"""This till's settings page: the receipt printer (with a test print), the scanner timing and
the idle lock. Saved in ``till-settings.json`` beside the database."""

from __future__ import annotations

from collections.abc import Callable

from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.services.errors import InvalidInput, ServiceError
from stormcom_pos.services.printing import Printing
from stormcom_pos.services.runtime import TillRuntime


class SettingsService:
    def __init__(self, runtime: TillRuntime, printing: Printing,
                 make_printer: Callable[[PrinterConfig], object]) -> None:
        self._runtime = runtime
        self._printing = printing
        self._make_printer = make_printer

    def printer(self) -> PrinterConfig:
        return self._runtime.config.printer

    def save_printer(self, config: PrinterConfig) -> None:
        self._runtime.save_config(self._runtime.config.model_copy(update={"printer": config}))
        self._printing.replace_printer(self._make_printer(config))  # type: ignore[arg-type]
        self._runtime.poke_status()

    def test_print(self) -> None:
        outcome = self._printing.submit("test", None, None)
        self._runtime.poke_status()
        if outcome.ok is False:
            raise ServiceError(outcome.error or "The printer failed.")
        if outcome.ok is None:
            raise ServiceError("The printer did not answer in time.")

    def scanner(self) -> tuple[int, int]:
        config = self._runtime.config
        return config.scanner_max_gap_ms, config.scanner_min_length

    def save_scanner(self, max_gap_ms: int, min_length: int) -> None:
        if not 5 <= max_gap_ms <= 500:
            raise InvalidInput("max_gap_ms", "The gap between scanner keys must be 5-500 ms.")
        if not 1 <= min_length <= 64:
            raise InvalidInput("min_length", "The shortest barcode must be 1-64 characters.")
        self._runtime.save_config(self._runtime.config.model_copy(
            update={"scanner_max_gap_ms": max_gap_ms, "scanner_min_length": min_length}))

    @property
    def idle_timeout_s(self) -> int:
        return self._runtime.config.idle_timeout_s

    @idle_timeout_s.setter
    def idle_timeout_s(self, seconds: int) -> None:
        if not 15 <= seconds <= 86_400:
            raise InvalidInput("idle_timeout_s", "The idle lock must be 15 s to 24 h.")
        self._runtime.save_config(self._runtime.config.model_copy(
            update={"idle_timeout_s": seconds}))

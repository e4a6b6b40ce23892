"""Printer and scanner settings, with a test print. Edits the services' PrinterConfig."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, TouchButton

CONNECTIONS = ("network", "usb", "serial", "file", "dummy")


def _text(value: object) -> str:
    return "" if value is None else str(value)


class SettingsDialog(QDialog):
    def __init__(self, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Printer and scanner")
        self._settings = settings
        config = settings.printer()
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.connection = QComboBox(self)
        self.connection.addItems(CONNECTIONS)
        self.connection.setCurrentText(config.connection)
        self.host = QLineEdit(_text(config.host), self)
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(config.port)
        self.serial_device = QLineEdit(_text(config.serial_device), self)
        self.file_path = QLineEdit(_text(config.file_path), self)
        self.usb_ids = QLineEdit(self)
        self.usb_ids.setPlaceholderText("vendor:product in hex, e.g. 04b8:0202")
        if config.usb_vendor is not None and config.usb_product is not None:
            self.usb_ids.setText(f"{config.usb_vendor:04x}:{config.usb_product:04x}")
        self.profile = QLineEdit(config.profile, self)
        self.codepage = QLineEdit(_text(config.codepage), self)
        self.paper = QComboBox(self)
        self.paper.addItems(["80", "58"])
        self.paper.setCurrentText(str(config.paper_width_mm))
        self.timeout = QSpinBox(self)
        self.timeout.setRange(1, 120)
        self.timeout.setValue(round(config.timeout_s))
        gap, min_length = settings.scanner()
        self.scan_gap = QSpinBox(self)
        self.scan_gap.setRange(5, 500)
        self.scan_gap.setValue(gap)
        self.scan_min = QSpinBox(self)
        self.scan_min.setRange(1, 64)
        self.scan_min.setValue(min_length)
        self.idle = QSpinBox(self)
        self.idle.setRange(30, 3600)
        self.idle.setValue(settings.idle_timeout_s)
        rows = (("Connection", self.connection), ("Host or IP", self.host), ("Port", self.port),
                ("USB ids", self.usb_ids), ("Serial device", self.serial_device),
                ("Device file", self.file_path), ("Printer profile", self.profile),
                ("Code page", self.codepage), ("Paper width (mm)", self.paper),
                ("Timeout (s)", self.timeout), ("Scanner key gap (ms)", self.scan_gap),
                ("Shortest scan (chars)", self.scan_min), ("Lock after idle (s)", self.idle))
        for label, widget in rows:
            widget.setMinimumHeight(TOUCH_MIN_PX)
            form.addRow(label, widget)
        layout.addLayout(form)
        self.message = ErrorLabel(self)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.addWidget(TouchButton("Save", self, key="Ctrl+S", on_click=self.save))
        row.addWidget(TouchButton("Test print", self, key="Ctrl+P", on_click=self.test_print))
        row.addWidget(TouchButton("Close", self, key="Esc", on_click=self.reject))
        layout.addLayout(row)

    def _config(self) -> Any:
        current = self._settings.printer()
        vendor = product = None
        if self.usb_ids.text().strip():
            vendor_text, _, product_text = self.usb_ids.text().strip().partition(":")
            vendor, product = int(vendor_text, 16), int(product_text or "0", 16)
        values = {**current.model_dump(), "connection": self.connection.currentText(),
                  "host": self.host.text(), "port": self.port.value(),
                  "usb_vendor": vendor, "usb_product": product,
                  "serial_device": self.serial_device.text(), "file_path": self.file_path.text(),
                  "profile": self.profile.text().strip(), "codepage": self.codepage.text(),
                  "paper_width_mm": int(self.paper.currentText()),
                  "timeout_s": float(self.timeout.value())}
        return type(current).model_validate(values)

    def save(self) -> bool:
        try:
            config = self._config()
            self._settings.save_printer(config)
            self._settings.save_scanner(self.scan_gap.value(), self.scan_min.value())
            self._settings.idle_timeout_s = self.idle.value()
        except ServiceError as exc:
            self.message.show_error(str(exc))
            return False
        except ValueError as exc:  # pydantic's ValidationError: the config's own messages
            errors = getattr(exc, "errors", None)
            text = "; ".join(e["msg"] for e in errors()) if callable(errors) else str(exc)
            self.message.show_error(text)
            return False
        self.message.show_info("Saved.")
        return True

    def test_print(self) -> None:
        if not self.save():
            return
        try:
            self._settings.test_print()
        except ServiceError as exc:
            self.message.show_error(f"Test print failed: {exc}")
            return
        self.message.show_info("Test page sent to the printer.")

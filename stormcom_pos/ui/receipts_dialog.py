"""Receipts: reprint the last or any receipt, save one as PDF, and retry the print queue
(receipts that failed to print stay queued until they do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGridLayout,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.prompts import ask_text
from stormcom_pos.ui.widgets import ErrorLabel, TouchButton, heading


class ReceiptsDialog(QDialog):
    def __init__(self, receipts: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Receipts")
        self._receipts = receipts
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Waiting to print", self))
        self.queue_list = QListWidget(self)
        self.queue_list.setMinimumSize(460, 140)
        layout.addWidget(self.queue_list)
        grid = QGridLayout()
        actions = [("F1", "Reprint last", self.reprint_last),
                   ("F2", "Reprint a receipt…", self.reprint_number),
                   ("F3", "Retry the queue", self.retry_queue),
                   ("F4", "Save as PDF…", self.save_pdf)]
        for index, (key, label, slot) in enumerate(actions):
            grid.addWidget(TouchButton(label, self, key=key, on_click=slot), 0, index)
        layout.addLayout(grid)
        self.message = ErrorLabel(self)
        layout.addWidget(self.message)
        self.update_queue()

    def update_queue(self) -> None:
        self.queue_list.clear()
        for job in self._receipts.queue():
            self.queue_list.addItem(f"{job.label}   ({job.error})" if job.error else job.label)
        if not self.queue_list.count():
            self.queue_list.addItem("Nothing is waiting: every receipt printed.")

    def _do(self, action: Any, done: str) -> None:
        try:
            action()
        except ServiceError as exc:
            self.message.show_error(str(exc))
        else:
            self.message.show_info(done)
        self.update_queue()

    def reprint_last(self) -> None:
        self._do(self._receipts.reprint_last, "Reprinting the last receipt.")

    def reprint_number(self) -> None:
        number = ask_text(self, "Reprint", "Receipt number (or scan it)")
        if number:
            self._do(lambda: self._receipts.reprint(number.strip()), f"Reprinting {number}.")

    def retry_queue(self) -> None:
        try:
            printed = self._receipts.retry_queue()
        except ServiceError as exc:
            self.message.show_error(str(exc))
        else:
            left = len(self._receipts.queue())
            text = f"Printed {printed}; {left} still waiting." if left else f"Printed {printed}."
            (self.message.show_error if left else self.message.show_info)(text)
        self.update_queue()

    def save_pdf(self) -> None:
        number = ask_text(self, "Save as PDF", "Receipt number")
        if not number:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save the receipt", f"{number}.pdf",
                                              "PDF (*.pdf)")
        if path:
            self._do(lambda: Path(path).write_bytes(self._receipts.pdf(number.strip())),
                     f"Saved {path}.")

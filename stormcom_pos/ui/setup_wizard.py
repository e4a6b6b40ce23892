"""First run: enrol the till with a pairing code, then the initial sync with progress and ETA.

``SetupService.bootstrap`` is resumable, so a failed or interrupted sync is simply run again
("Resume"); it runs on a worker thread and reports progress through a queued signal.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QStackedLayout,
    QVBoxLayout,
    QWidget,
)

from stormcom_pos.services.errors import ServiceError
from stormcom_pos.ui.widgets import TOUCH_MIN_PX, ErrorLabel, TouchButton


def describe_eta(seconds: float | None) -> str:
    if seconds is None:
        return "estimating time left…"
    if seconds < 60:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


class _BootstrapRunner(QObject):
    progressed = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, setup: Any) -> None:
        super().__init__()
        self._setup = setup

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name="bootstrap", daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        try:
            self._setup.bootstrap(self.progressed.emit)
        except ServiceError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a crashed sync must not kill the wizard
            self.failed.emit(f"The sync stopped: {exc}")
            return
        self.finished.emit()


class SetupPage(QWidget):
    """Two steps in one page: the enrolment form, then the sync progress."""

    completed = Signal()

    def __init__(self, setup: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._setup = setup
        self._runner: _BootstrapRunner | None = None
        self.thread: threading.Thread | None = None
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self._build_form())
        self.stack.addWidget(self._build_progress())

    def _build_form(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel("Set up this till", page)
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        layout.addWidget(QLabel(
            "Ask a manager for a pairing code (Back office → Devices → Pair a till).", page))
        form = QFormLayout()
        self.server_url = QLineEdit(page)
        self.server_url.setPlaceholderText("https://pos.example.com")
        self.pairing_code = QLineEdit(page)
        self.pairing_code.setPlaceholderText("e.g. 4KD7-92QX")
        self.terminal_name = QLineEdit("Till 1", page)
        for edit in (self.server_url, self.pairing_code, self.terminal_name):
            edit.setMinimumHeight(TOUCH_MIN_PX)
        form.addRow("Server address", self.server_url)
        form.addRow("Pairing code", self.pairing_code)
        form.addRow("Name of this till", self.terminal_name)
        layout.addLayout(form)
        self.form_error = ErrorLabel(page)
        layout.addWidget(self.form_error)
        self.enrol_button = TouchButton("Pair this till", page, on_click=self.enrol)
        self.enrol_button.setObjectName("primaryButton")
        layout.addWidget(self.enrol_button)
        layout.addStretch(1)
        self.server_url.returnPressed.connect(self.pairing_code.setFocus)
        self.terminal_name.returnPressed.connect(self.enrol)
        self.pairing_code.returnPressed.connect(self.enrol)
        return page

    def _build_progress(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel("Loading the store onto this till", page)
        title.setObjectName("screenTitle")
        layout.addWidget(title)
        self.phase_label = QLabel("Starting…", page)
        layout.addWidget(self.phase_label)
        self.progress = QProgressBar(page)
        self.progress.setMinimumHeight(TOUCH_MIN_PX)
        self.progress.setRange(0, 1000)
        layout.addWidget(self.progress)
        self.eta_label = QLabel(page)
        layout.addWidget(self.eta_label)
        self.ready_label = QLabel(page)
        layout.addWidget(self.ready_label)
        self.sync_error = ErrorLabel(page)
        layout.addWidget(self.sync_error)
        self.resume_button = TouchButton("Resume loading", page, on_click=self.start_bootstrap)
        self.resume_button.hide()
        layout.addWidget(self.resume_button)
        layout.addStretch(1)
        return page

    def prefill(self, server_url: str, pairing_code: str) -> None:
        """Fill in what the operator passed on the command line (the demo passes both)."""
        if server_url:
            self.server_url.setText(server_url)
        if pairing_code:
            self.pairing_code.setText(pairing_code)

    def enrol(self) -> None:
        url, code = self.server_url.text().strip(), self.pairing_code.text().strip()
        if not url or not code:
            self.form_error.show_error("Enter the server address and the pairing code.")
            return
        self.enrol_button.setEnabled(False)
        try:
            self._setup.enrol(url, code, self.terminal_name.text().strip() or "Till")
        except ServiceError as exc:
            self.form_error.show_error(str(exc))
            self.enrol_button.setEnabled(True)
            return
        self.start_bootstrap()

    def start_bootstrap(self) -> None:
        """Run (or resume) the initial sync on a worker thread."""
        self.stack.setCurrentIndex(1)
        self.sync_error.clear_message()
        self.resume_button.hide()
        self._runner = _BootstrapRunner(self._setup)
        self._runner.progressed.connect(self._on_progress)
        self._runner.failed.connect(self._on_failed)
        self._runner.finished.connect(self.completed.emit)
        self.thread = self._runner.start()

    def _on_progress(self, step: Any) -> None:
        self.phase_label.setText(f"{step.phase}: {step.loaded:,} of "
                                 f"{step.total:,}" if step.total else f"{step.phase}: "
                                 f"{step.loaded:,} loaded")
        if step.fraction is None:
            self.progress.setRange(0, 0)
        else:
            self.progress.setRange(0, 1000)
            self.progress.setValue(round(step.fraction * 1000))
        self.eta_label.setText("Done." if step.done else describe_eta(step.eta_seconds))
        if step.selling_ready and not step.done:
            self.ready_label.setText("Products and prices are in: selling is possible; "
                                     "the rest keeps loading.")

    def _on_failed(self, message: str) -> None:
        self.sync_error.show_error(message + "\nWhat is loaded is kept; resume to go on.")
        self.resume_button.show()

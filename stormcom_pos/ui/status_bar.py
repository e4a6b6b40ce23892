"""The till's status bar: online or offline, pending sync count and printer state, always shown.

StatusService calls its listeners from background threads (sync, printing); ``StatusBridge``
re-emits each snapshot as a Qt signal so the labels are only touched on the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from stormcom_pos.ui.widgets import set_tone

REFRESH_MS = 5000


class StatusBridge(QObject):
    """Lives on the GUI thread; ``publish`` may be called from any thread."""

    changed = Signal(object)

    def publish(self, snapshot: Any = None) -> None:
        self.changed.emit(snapshot)


class TillStatusBar(QStatusBar):
    def __init__(self, status_service: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._status = status_service
        self.setSizeGripEnabled(False)
        self.network_label = QLabel(self)
        self.sync_label = QLabel(self)
        self.printer_label = QLabel(self)
        self.cashier_label = QLabel(self)
        for label in (self.network_label, self.sync_label, self.printer_label):
            label.setObjectName("statusPill")
            self.addPermanentWidget(label)
        self.addWidget(self.cashier_label, 1)
        self.bridge = StatusBridge(self)
        self.bridge.changed.connect(self._on_changed)
        status_service.add_listener(self.bridge.publish)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.refresh)
        self._timer.start(REFRESH_MS)
        self._stopped = False
        self.refresh()

    def stop(self) -> None:
        """No more refreshes: the till behind it is closing (a queued status signal from the
        sync thread may still arrive after its database is closed)."""
        self._stopped = True
        self._timer.stop()

    def refresh(self) -> None:
        if self._stopped:
            return
        self._update(self._status.snapshot())

    def set_cashier(self, text: str) -> None:
        self.cashier_label.setText(text)

    def _on_changed(self, _snapshot: Any) -> None:
        # The queued signal may arrive after later changes: show the latest state, not the
        # snapshot the background thread happened to pass.
        self.refresh()

    def _update(self, snap: Any) -> None:
        if snap.online is None:
            network, tone = "Network: checking", "warn"
        elif snap.online:
            network, tone = "Online", "ok"
        else:
            network, tone = "Offline: selling locally", "warn"
        self._set(self.network_label, network, tone)
        sync_text = f"To sync: {snap.pending}"
        sync_tone = "ok" if snap.pending == 0 else "warn"
        if snap.quarantined:
            sync_text += f"  Problems: {snap.quarantined}"
            sync_tone = "error"
        if snap.last_error and not snap.online:
            self.sync_label.setToolTip(snap.last_error)
        self._set(self.sync_label, sync_text, sync_tone)
        if snap.printer_ok is None:
            printer = f"Printer: {snap.printer_message or 'not used yet'}"
            printer_tone = "warn"
        elif snap.printer_ok:
            printer, printer_tone = "Printer OK", "ok"
        else:
            printer, printer_tone = f"Printer: {snap.printer_message or 'not answering'}", "error"
        if snap.reprint_count:
            printer += f"  Reprints waiting: {snap.reprint_count}"
            printer_tone = "error"
        self._set(self.printer_label, printer, printer_tone)

    @staticmethod
    def _set(label: QLabel, text: str, tone: str) -> None:
        if label.text() != text:  # the refresh runs every few seconds, a scan may be running
            label.setText(text)
        set_tone(label, tone)

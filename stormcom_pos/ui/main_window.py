"""The till's window: setup, sign-in, sell and returns pages, the status bar, the scanner and
the idle lock. It only wires screens to the services in ``PosContext``; the screens do the rest."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMainWindow, QStackedWidget, QWidget

from stormcom_pos.ui.cash_menu import CashMenuDialog
from stormcom_pos.ui.drawer_dialogs import OpenDrawerDialog
from stormcom_pos.ui.login_page import LoginPage
from stormcom_pos.ui.returns_screen import ReturnsScreen
from stormcom_pos.ui.scanner_filter import ScannerEventFilter
from stormcom_pos.ui.sell_screen import SellScreen
from stormcom_pos.ui.settings_dialog import SettingsDialog
from stormcom_pos.ui.setup_wizard import SetupPage
from stormcom_pos.ui.status_bar import TillStatusBar
from stormcom_pos.ui.style import TILL_QSS

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin,
             QEvent.Type.Wheel}


class IdleWatcher(QObject):
    """Restarts a timer on every key, click or touch anywhere; ``timer.timeout`` means idle."""

    def __init__(self, timeout_s: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(timeout_s * 1000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


class MainWindow(QMainWindow):
    def __init__(self, ctx: Any, *, currency: str | None = None, scanner_clock: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.currency = currency or getattr(ctx, "currency", None) or "USD"
        self.setWindowTitle("StormCom POS")
        self.setStyleSheet(TILL_QSS)
        self.resize(1280, 800)
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.setup_page = SetupPage(ctx.setup, self)
        self.login_page = LoginPage(ctx.auth, self)
        self.sell_screen = SellScreen(ctx, self.currency, self)
        self.returns_screen = ReturnsScreen(ctx, self.currency, self)
        for page in (self.setup_page, self.login_page, self.sell_screen, self.returns_screen):
            self.stack.addWidget(page)
        self.status = TillStatusBar(ctx.status, self)
        self.setStatusBar(self.status)
        gap, min_length = ctx.settings.scanner()
        self.scanner = ScannerEventFilter(gap, min_length, clock_ms=scanner_clock, parent=self)
        self.scanner.enabled = False
        self.scanner.scanned.connect(self.on_scanned)
        self.idle = IdleWatcher(ctx.auth.idle_timeout_s, self)
        self.idle.timer.timeout.connect(self.lock)
        app = QApplication.instance()
        app.installEventFilter(self.scanner)
        app.installEventFilter(self.idle)
        self._quick_keys_loaded = False
        self.setup_page.completed.connect(self.show_login)
        self.login_page.logged_in.connect(self._on_logged_in)
        self.sell_screen.returns_requested.connect(self.show_returns)
        self.sell_screen.cash_requested.connect(self.open_cash_menu)
        self.sell_screen.switch_cashier_requested.connect(self.switch_cashier)
        self.sell_screen.settings_requested.connect(self.open_settings)
        self.returns_screen.back_requested.connect(self.show_sell)

    def start(self) -> None:
        if self.ctx.needs_setup:
            self.stack.setCurrentWidget(self.setup_page)
            self.setup_page.server_url.setFocus()
        else:
            self.show_login()

    def shutdown(self) -> None:
        self.status.stop()
        self.idle.timer.stop()
        app = QApplication.instance()
        app.removeEventFilter(self.scanner)
        app.removeEventFilter(self.idle)

    # --- sign-in and locking ------------------------------------------------------------------
    def show_login(self, locked_by: str | None = None) -> None:
        self.scanner.enabled = False
        self.idle.timer.stop()
        self.login_page.reload(locked_by)
        self.stack.setCurrentWidget(self.login_page)
        self.status.set_cashier("Locked" if locked_by else "Signed out")

    def _on_logged_in(self, cashier: Any) -> None:
        if self.ctx.drawer.current() is None:
            dialog = OpenDrawerDialog(self.ctx.drawer, self.currency, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                self.ctx.auth.logout()
                self.show_login()
                return
        self.status.set_cashier(f"Cashier: {cashier.name}")
        self.idle.timer.setInterval(self.ctx.auth.idle_timeout_s * 1000)
        self.idle.timer.start()
        self.show_sell()

    def lock(self) -> None:
        """Idle timeout (or stepping away): the cart and the drawer stay; a PIN unlocks."""
        current = self.ctx.auth.current
        if current is None:
            return
        self.ctx.auth.lock()
        self.show_login(locked_by=current.name)
        self.login_page.select_staff(current.user_id, current.name)

    def switch_cashier(self) -> None:
        """Another cashier takes over the till; the drawer session stays open."""
        self.ctx.auth.logout()
        self.show_login()

    # --- pages --------------------------------------------------------------------------------
    def show_sell(self) -> None:
        if not self._quick_keys_loaded:
            self.sell_screen.load_quick_keys()
            self._quick_keys_loaded = True
        self.scanner.configure(*self.ctx.settings.scanner())
        self.scanner.enabled = True
        self.sell_screen.refresh()
        self.stack.setCurrentWidget(self.sell_screen)
        self.sell_screen.focus_search()

    def show_returns(self) -> None:
        self.returns_screen.reset()
        self.stack.setCurrentWidget(self.returns_screen)
        self.returns_screen.search.setFocus()

    def open_cash_menu(self) -> None:
        menu = CashMenuDialog(self.ctx, self.currency, self)
        menu.till_closed.connect(self._on_till_closed)
        menu.exec()
        self.sell_screen.refresh()

    def _on_till_closed(self, _result: Any) -> None:
        self.ctx.auth.logout()
        QTimer.singleShot(0, self.show_login)

    def open_settings(self) -> None:
        SettingsDialog(self.ctx.settings, self).exec()
        self.scanner.configure(*self.ctx.settings.scanner())
        self.idle.timer.setInterval(self.ctx.auth.idle_timeout_s * 1000)

    def on_scanned(self, code: str) -> None:
        # A scan while a dialog is open (e.g. the tender amount) must not become cash tendered.
        if QApplication.activeModalWidget() is not None:
            QApplication.beep()
            return
        page = self.stack.currentWidget()
        if page is self.sell_screen:
            self.sell_screen.scan(code)
        elif page is self.returns_screen:
            self.returns_screen.lookup(code)

"""Screens and behaviours around the sale, on the fake services."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from tests.terminal.ui.fakes import FakePos
from tests.terminal.ui.test_shift_journey import COFFEE, MILK, approve, sign_in

K = Qt.Key
SHIFT = Qt.KeyboardModifier.ShiftModifier
pytestmark = pytest.mark.ui


@pytest.fixture
def pos() -> FakePos:
    return FakePos(needs_setup=True)


def test_setup_wizard_pairs_shows_progress_and_resumes_after_a_failure(window, pos, cashier,
                                                                         qtbot):
    page = window.setup_page
    assert window.stack.currentWidget() is page
    cashier.type("https://pos.example.test", page.server_url)
    cashier.type("WRONG", page.pairing_code)
    page.enrol()
    assert "pairing code" in page.form_error.text()

    page.pairing_code.setText("PAIR-1234")
    pos.setup.fail_next_bootstrap = True
    page.enrol()
    qtbot.waitUntil(lambda: page.resume_button.isVisible(), timeout=5000)
    assert "stopped answering" in page.sync_error.text()
    assert page.progress.value() == 500  # half loaded, kept
    assert "selling is possible" in page.ready_label.text()

    with qtbot.waitSignal(page.completed, timeout=5000):
        page.resume_button.click()
    assert window.stack.currentWidget() is window.login_page
    assert page.progress.value() == 1000
    assert pos.setup.enrolled_with == ("https://pos.example.test", "PAIR-1234", "Till 1")


def test_setup_progress_shows_an_eta(window, pos):
    from tests.terminal.ui.fakes import SetupProgress

    window.setup_page._on_progress(SetupProgress("Products", 50_000, 200_000, 0.25, 95.0,
                                                 False, False))
    assert window.setup_page.phase_label.text() == "Products: 50,000 of 200,000"
    assert window.setup_page.eta_label.text() == "about 2 min left"


class TestSelling:
    @pytest.fixture
    def pos(self) -> FakePos:
        return FakePos()

    def test_wrong_pin_is_refused_and_the_till_stays_locked(self, window, pos, cashier):
        cashier.key(K.Key_F1)
        cashier.type("0000")
        cashier.key(K.Key_Return)
        assert window.stack.currentWidget() is window.login_page
        assert "Wrong PIN" in window.login_page.pin_error.text()

    def test_password_sign_in_offline_says_to_use_the_pin(self, window, pos):
        pos.status.set_online(False)
        page = window.login_page
        page.email.setText("ann@shop.test")
        page.password.setText("secret")
        page.password_login()
        assert "use your PIN" in page.password_error.text()

    def test_idle_lock_keeps_the_cart_and_the_same_cashier_unlocks(self, window, pos, cashier):
        sign_in(cashier, window)
        cashier.scan(COFFEE)
        window.idle.timer.timeout.emit()  # the idle timeout elapsed
        assert window.stack.currentWidget() is window.login_page
        assert pos.auth.locked and "Locked: Ann Cashier" in window.login_page.title.text()
        assert not window.scanner.enabled
        cashier.type("1111")
        cashier.key(K.Key_Return)
        assert window.stack.currentWidget() is window.sell_screen
        assert len(pos.sales.cart().lines) == 1

    def test_switch_cashier_keeps_the_drawer_open(self, window, pos, cashier):
        sign_in(cashier, window)
        cashier.key(K.Key_F4, SHIFT)
        assert window.stack.currentWidget() is window.login_page
        assert pos.drawer.session is not None
        cashier.key(K.Key_F2)  # Max Manager
        cashier.type("9999")
        cashier.key(K.Key_Return)  # no open-drawer dialog: the session is still open
        assert window.stack.currentWidget() is window.sell_screen
        assert pos.auth.current.name == "Max Manager"

    def test_a_printer_failure_never_blocks_the_sale_and_says_so(self, window, pos, cashier,
                                                                  qtbot):
        sign_in(cashier, window)
        pos.receipts.printer_broken = True
        cashier.scan(MILK)

        def pay(dialog):
            cashier.key(K.Key_Return)  # exact cash, prefilled
        cashier.when_dialog(pay)
        cashier.key(K.Key_F12)
        sell = window.sell_screen
        assert len(pos.sales.completed) == 1
        assert sell.print_warning.isVisible() and "reprint queue" in sell.print_warning.text()
        qtbot.waitUntil(lambda: "Reprints waiting: 1" in window.status.printer_label.text())
        assert window.status.printer_label.property("tone") == "error"

    def test_a_scan_while_a_dialog_is_open_is_not_taken_as_cash(self, window, pos, cashier):
        sign_in(cashier, window)
        cashier.scan(MILK)
        amounts = []

        def pay(dialog):
            cashier.scan(COFFEE)
            amounts.append(dialog.amount.text())
            cashier.key(K.Key_Escape)
        cashier.when_dialog(pay)
        cashier.key(K.Key_F12)
        assert amounts == [str(pos.sales.quick_amounts()[0])]
        assert [line.name for line in pos.sales.cart().lines] == ["Whole milk 1 L"]
        assert pos.sales.completed == []

    def test_price_override_asks_approval_and_a_wrong_pin_is_refused(self, window, pos,
                                                                     cashier):
        sign_in(cashier, window)
        cashier.scan(COFFEE)
        errors = []

        def price(dialog):
            cashier.type("5.00")

            def reason(prompt):
                cashier.type("price match")

                def approval(d):
                    cashier.type("1234")
                    cashier.key(K.Key_Tab)
                    cashier.type("match")
                    cashier.key(K.Key_Return)
                    errors.append(d.error.text())
                    d.pin.setFocus()
                    cashier.type("9999")
                    cashier.key(K.Key_Return)
                cashier.when_dialog(approval)
                cashier.key(K.Key_Return)
            cashier.when_dialog(reason)
            cashier.key(K.Key_Return)
        cashier.when_dialog(price)
        cashier.key(K.Key_F7)
        assert errors and "refused" in errors[0]
        assert pos.sales.cart().lines[0].unit_price == Decimal("5.00")

    def test_park_recall_and_customer(self, window, pos, cashier):
        sign_in(cashier, window)
        cashier.scan(COFFEE)

        def customer(dialog):
            dialog.first.setFocus()
            cashier.type("Nadia")
            cashier.key(K.Key_Tab)
            cashier.key(K.Key_Tab)
            cashier.type("01812345678")
            dialog._create()
        cashier.when_dialog(customer)
        cashier.key(K.Key_F9)
        assert pos.sales.cart().customer_name == "Nadia"
        assert "Customer: Nadia" in window.sell_screen.customer_label.text()

        def label(dialog):
            cashier.type("blue jacket")
            cashier.key(K.Key_Return)
        cashier.when_dialog(label)
        cashier.key(K.Key_F10)
        assert pos.sales.cart().lines == [] and window.sell_screen.table.rowCount() == 0

        def recall(dialog):
            assert "blue jacket" in dialog.list.item(0).text()
            cashier.key(K.Key_Return)
        cashier.when_dialog(recall)
        cashier.key(K.Key_F11)
        assert [line.name for line in pos.sales.cart().lines] == ["Ground coffee 250 g"]

    def test_printer_settings_test_print_shows_the_printer_error(self, window, pos, cashier):
        sign_in(cashier, window)

        def settings(dialog):
            dialog.connection.setCurrentText("network")
            dialog.host.setText("")
            dialog.save()
            errors.append(dialog.message.text())
            dialog.host.setText("10.0.0.99")
            dialog.test_print()
            errors.append(dialog.message.text())
            dialog.connection.setCurrentText("dummy")
            dialog.test_print()
            errors.append(dialog.message.text())
            cashier.key(K.Key_Escape)
        errors: list[str] = []
        cashier.when_dialog(settings)
        cashier.key(K.Key_F5, SHIFT)
        assert "host" in errors[0]
        assert "10.0.0.99" in errors[1] and "did not answer" in errors[1]
        assert errors[2] == "Test page sent to the printer."
        assert pos.settings.test_prints == 1

    def test_no_sale_needs_a_reason_and_approval(self, window, pos, cashier):
        sign_in(cashier, window)

        def menu(dialog):
            def reason(prompt):
                cashier.type("change for the float")
                approve(cashier)
                cashier.key(K.Key_Return)
            cashier.when_dialog(reason)
            cashier.key(K.Key_F4)
            cashier.key(K.Key_Escape)
        cashier.when_dialog(menu)
        cashier.key(K.Key_F2, SHIFT)
        assert pos.drawer.no_sales == ["change for the float"]

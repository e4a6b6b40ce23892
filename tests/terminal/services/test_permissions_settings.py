"""The till's permission strings match the server's; settings persist; the test print reports
the printer's error; PIN sign-in and the idle lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.identity import permissions as server_permissions
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.services import permissions
from stormcom_pos.services.context import PosContext
from stormcom_pos.services.errors import InvalidInput, LoginFailed, ServiceError
from tests.terminal.services.conftest import CASHIER_PIN, MILK, Printers


def test_permission_strings_match_the_server() -> None:
    assert list(permissions.POS_BASIC) == server_permissions.POS_BASIC
    assert list(permissions.POS_APPROVALS) == server_permissions.POS_APPROVALS
    assert set(permissions.DESCRIPTIONS) == set(server_permissions.POS_APPROVALS)


def test_pin_login_lock_and_switch(till: PosContext) -> None:
    assert [s.name for s in till.auth.staff()] == ["Cara Cashier", "Max Manager"]
    with pytest.raises(LoginFailed):
        till.auth.pin_login("u-cashier", "1111")
    cashier = till.auth.pin_login("u-cashier", CASHIER_PIN)
    assert cashier.role == "CASHIER" and not till.auth.can("pos.refund")
    till.auth.lock()
    with pytest.raises(LoginFailed):
        till.sales.scan(MILK)
    till.auth.pin_login("u-cashier", CASHIER_PIN)
    assert till.sales.scan(MILK).line_id is not None
    with pytest.raises(LoginFailed, match="not paired"):
        till.auth.password_login("u-cashier@shop.test", "secret", None)


def test_settings_survive_a_restart(tmp_path: Path, till: PosContext) -> None:
    till.settings.save_scanner(40, 8)
    till.settings.idle_timeout_s = 120
    with pytest.raises(InvalidInput):
        till.settings.save_scanner(1, 8)
    till.settings.save_printer(PrinterConfig(connection="network", host="192.0.2.10",
                                             paper_width_mm=58, timeout_s=0.5))
    data_dir = till.runtime.data_dir
    till.close()
    again = PosContext.for_tests(data_dir)
    try:
        assert again.settings.scanner() == (40, 8) and again.auth.idle_timeout_s == 120
        assert again.settings.printer().host == "192.0.2.10"
        assert again.runtime.terminal_number == 3
    finally:
        again.close()


def test_test_print_raises_the_printers_error(till: PosContext, printers: Printers) -> None:
    till.settings.test_print()
    printers.alive = False
    with pytest.raises(ServiceError, match="refused"):
        till.settings.test_print()
    assert till.status.snapshot().printer_ok is False


def test_a_second_instance_on_the_same_till_is_refused(till: PosContext) -> None:
    with pytest.raises(ServiceError, match="already running"):
        PosContext.for_tests(till.runtime.data_dir)


def test_a_till_without_a_printer_says_so_until_one_is_set_up(tmp_path: Path) -> None:
    fresh = PosContext.for_tests(tmp_path / "fresh")
    try:
        status = fresh.status.snapshot()
        assert status.printer_ok is None and "no receipt printer" in (status.printer_message or "")
        fresh.settings.save_printer(PrinterConfig(connection="network", host="192.0.2.10",
                                                  timeout_s=0.5))
        assert "no receipt printer" not in (fresh.status.snapshot().printer_message or "")
    finally:
        fresh.close()

"""The network down throughout a sale, then restored and synced: the real till (PosContext on
an SQLite file) paired through the setup wizard with the real server app in-process, behind
the sync tests' fault-injecting transport."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from PySide6.QtCore import Qt
from sqlalchemy import update

from server.db.engine import make_engine
from server.identity.models import User
from stormcom_pos.hardware.printer_config import PrinterConfig
from stormcom_pos.hardware.printers import ReceiptPrinter
from stormcom_pos.services.context import PosContext
from tests.server.conftest import (  # noqa: F401 - fixtures
    _templates,
    clock,
    settings,
    settings_overrides,
    world,
    world_db,
)
from tests.server.sync_fixtures import seed_catalog
from tests.terminal.services.conftest import Printers
from tests.terminal.sync.conftest import backend, server  # noqa: F401 - fixtures
from tests.terminal.sync.server_harness import BASE_URL, ServerHarness
from tests.terminal.ui.conftest import Cashier, SteppingClock

K = Qt.Key
PIN = "4826"
pytestmark = [pytest.mark.ui, pytest.mark.filterwarnings(
    "ignore:The Result.tuples\\(\\) method is deprecated")]


def set_pin(harness: ServerHarness, user_id: str, pin: str) -> None:
    engine = make_engine(harness.url)
    try:
        with engine.begin() as conn:
            conn.execute(update(User).where(User.id == user_id).values(
                pos_pin_hash=bcrypt.hashpw(pin.encode(), bcrypt.gensalt(4)).decode()))
    finally:
        engine.dispose()


@pytest.fixture
def till(tmp_path: Path, server: ServerHarness) -> Iterator[PosContext]:  # noqa: F811
    printers = Printers()
    printer = ReceiptPrinter(PrinterConfig(connection="dummy", timeout_s=2.0),
                             open_device=printers.open)
    context = PosContext.for_tests(tmp_path / "till", transport=server.transport,
                                   printer=printer)
    context.printers = printers  # type: ignore[attr-defined]
    yield context
    context.close()


@pytest.fixture
def till_window(qtbot: Any, till: PosContext, keys_clock: SteppingClock) -> Iterator[Any]:
    from stormcom_pos.ui.main_window import MainWindow

    main = MainWindow(till, scanner_clock=keys_clock)
    qtbot.addWidget(main)
    main.show()
    main.activateWindow()
    qtbot.waitExposed(main)
    main.start()
    yield main
    main.shutdown()


def test_pair_then_sell_offline_then_sync_when_the_network_returns(
        qtbot, server, world, till, till_window, keys_clock):  # noqa: F811
    tenant = world.a
    catalog = seed_catalog(server.url, tenant.store_id, variants=3, stock=10)
    set_pin(server, tenant.users["cashier"], PIN)
    window, driver = till_window, Cashier(qtbot, till_window, keys_clock)

    # First run: the wizard pairs the till and loads the store.
    page = window.setup_page
    assert window.stack.currentWidget() is page
    driver.type(BASE_URL)
    driver.key(K.Key_Return)
    assert page.pairing_code.hasFocus()
    driver.type(server.pairing_code(tenant, "Till 1"))
    with qtbot.waitSignal(page.completed, timeout=30_000):
        driver.key(K.Key_Return)
    assert page.progress.value() == 1000
    assert window.stack.currentWidget() is window.login_page

    # The network goes down for good (until restored below).
    server.transport.add("drop_request", times=10_000)

    index = list(window.login_page.staff_buttons).index(tenant.users["cashier"])
    driver.key(getattr(K, f"Key_F{index + 1}"))

    def open_drawer(dialog: Any) -> None:
        driver.type("50")
        driver.key(K.Key_Return)
    driver.when_dialog(open_drawer)
    driver.type(PIN)
    driver.key(K.Key_Return)
    assert window.stack.currentWidget() is window.sell_screen

    sku = catalog.skus[catalog.variant_ids[0]]
    driver.scan(sku)
    assert len(till.sales.cart().lines) == 1

    def pay(dialog: Any) -> None:
        driver.key(K.Key_Return)  # exact cash
    driver.when_dialog(pay)
    driver.key(K.Key_F12)
    assert window.sell_screen.change_banner.isVisible()

    till.sync_now()  # a sync round while the network is down
    qtbot.waitUntil(lambda: window.status.network_label.text().startswith("Offline"),
                    timeout=5000)
    pending = till.status.snapshot().pending
    assert pending >= 2  # the drawer session and the sale, at least
    assert window.status.sync_label.text() == f"To sync: {pending}"
    assert server.scalar('SELECT count(*) FROM "order" WHERE store_id = :s',
                         s=tenant.store_id) == 0

    # The network is back: the next round pushes everything, exactly once.
    server.transport.clear()
    till.sync_now()
    qtbot.waitUntil(lambda: window.status.network_label.text() == "Online", timeout=5000)
    qtbot.waitUntil(lambda: window.status.sync_label.text() == "To sync: 0", timeout=5000)
    till.sync_now()
    assert server.scalar('SELECT count(*) FROM "order" WHERE store_id = :s',
                         s=tenant.store_id) == 1

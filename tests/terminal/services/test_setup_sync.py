"""Pairing and first sync against the real server app (in-process), then sales made with the
network down that reach the server exactly once when it comes back."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from server.clock import FakeClock
from server.config import Settings
from server.identity.hashing import hash_password
from server.identity.models import User
from server.stores.models import Store
from stormcom_pos.domain.enums import PaymentMethod
from stormcom_pos.local_db import outbox
from stormcom_pos.services.context import PosContext
from stormcom_pos.services.errors import LoginFailed, SetupError
from stormcom_pos.services.sale_record import Tender
from tests.server.conftest import (  # noqa: F401 - fixtures used here
    World,
    _templates,
    clock,
    settings,
    settings_overrides,
    world,
    world_db,
)
from tests.server.security_helpers import service_session
from tests.server.sync_fixtures import seed_catalog
from tests.terminal.services.conftest import Printers, open_till
from tests.terminal.sync.server_harness import BASE_URL, ServerHarness

PIN = "4826"


@pytest.fixture
def server(settings: Settings, clock: FakeClock, world: World,  # noqa: F811 - fixtures
           ) -> Iterator[ServerHarness]:
    harness = ServerHarness(settings, clock, world)
    yield harness
    harness.app.state.engine.dispose()


def _prepare_store(server: ServerHarness, world: World) -> tuple[str, dict[str, Decimal]]:  # noqa: F811
    tenant = world.a
    catalog = seed_catalog(server.url, tenant.store_id, variants=3, stock=10)
    with service_session(server.url, tenant.store_id) as db:
        store = db.get(Store, tenant.store_id)
        assert store is not None
        store.settings = {**(store.settings or {}), "tax_address": {"country": "US"}}
        cashier = db.get(User, tenant.users["cashier"])
        assert cashier is not None
        cashier.pos_pin_hash = hash_password(PIN, cost=4)
        db.commit()
    return catalog.variant_ids[0], catalog.prices


def _paired_till(tmp_path: Path, server: ServerHarness, world: World,  # noqa: F811
                 printers: Printers) -> PosContext:
    till = open_till(tmp_path / "till", printers, server.clock)
    till.close()
    till = PosContext.for_tests(tmp_path / "till", transport=server.transport,
                                printer=till.printing.printer, clock=server.clock)
    assert till.needs_setup
    till.setup.enrol(BASE_URL, server.pairing_code(world.a, "Front till"), "Front till")
    return till


def test_pairing_with_a_bad_code_says_so(tmp_path: Path, server: ServerHarness,
                                         printers: Printers) -> None:
    till = PosContext.for_tests(tmp_path / "till", transport=server.transport,
                                clock=server.clock)
    try:
        with pytest.raises(SetupError, match="Pairing failed"):
            till.setup.enrol(BASE_URL, "DEMO-XXXX-XXXX", "Till")
        with pytest.raises(SetupError, match="not a server address"):
            till.setup.enrol("localhost:8000", "DEMO-XXXX-XXXX", "Till")
        assert till.needs_setup
    finally:
        till.close()


def test_enrol_bootstrap_then_offline_sales_reach_the_server_once(
        tmp_path: Path, server: ServerHarness, world: World,  # noqa: F811
        printers: Printers) -> None:
    variant_id, prices = _prepare_store(server, world)
    till = _paired_till(tmp_path, server, world, printers)
    try:
        progress = []
        till.setup.bootstrap(progress.append)
        assert progress[-1].done and progress[-1].selling_ready
        assert [p.fraction for p in progress] == sorted(p.fraction for p in progress)
        assert not till.needs_setup and till.runtime.config.terminal_name == "Front till"

        # The network is down from here until sync_now: the sales only reach the ledger.
        till.auth.pin_login(world.a.users["cashier"], PIN)
        till.drawer.open(Decimal("50.00"))
        till.sales.add_variant(variant_id, Decimal(2))
        first = till.sales.complete([Tender(PaymentMethod.CASH, Decimal("20.00"))])
        till.sales.add_variant(variant_id)
        second = till.sales.complete([Tender(PaymentMethod.CARD_PRESENT,
                                             till.sales.cart().total,
                                             "REF-9")])
        assert till.status.snapshot().pending == 3
        # 2 x 2.50 = 5.00 plus 8.25% (0.41): the till priced it by the shared rules.
        assert first.total == Decimal("5.41") and prices[variant_id] == Decimal("2.50")

        status = till.sync_now()
        assert status.online and status.pending == 0
        assert till.sync_now().pending == 0  # a second round pushes nothing again
        for sale in (first, second):
            rows = server.rows('SELECT total, receipt_number FROM "order" WHERE id = :i',
                               i=sale.order_id)
            assert [(Decimal(str(r[0])), r[1]) for r in rows] == [
                (sale.total, sale.receipt_number)]
        with till.runtime.db.read() as conn:
            assert outbox.counts(conn).pending == 0
        assert first.receipt_number.startswith(server.store_code(world.a.store_id) + "-")
    finally:
        till.close()


def test_password_sign_in_at_the_till_asks_for_the_second_factor_when_mfa_is_on(
        tmp_path: Path, server: ServerHarness, world: World,  # noqa: F811
        printers: Printers) -> None:
    from server.identity import mfa_service
    from tests.server.conftest import PASSWORD
    from tests.server.security_helpers import totp_now, user_by_email

    _prepare_store(server, world)
    till = _paired_till(tmp_path, server, world, printers)
    try:
        till.setup.bootstrap(lambda _p: None)
        email = world.a.emails["cashier"]
        with pytest.raises(LoginFailed):
            till.auth.password_login(email, PASSWORD + "x", None)
        cashier = till.auth.password_login(email, PASSWORD, None)
        assert cashier.user_id == world.a.users["cashier"] and till.auth.current == cashier

        with service_session(server.url) as db:
            user = user_by_email(db, email)
            enrolment = mfa_service.begin_totp_enrolment(db, user=user)
            first_code = totp_now(enrolment.secret, server.clock.now)
            mfa_service.confirm_totp(db, user=user, code=first_code, now=server.clock.now,
                                     bcrypt_cost=4)
            db.commit()
        server.clock.advance(seconds=60)
        till.auth.logout()
        with pytest.raises(LoginFailed, match="authenticator"):
            till.auth.password_login(email, PASSWORD, None)
        with pytest.raises(LoginFailed):
            till.auth.password_login(email, PASSWORD, "000000")
        cashier = till.auth.password_login(email, PASSWORD,
                                           totp_now(enrolment.secret, server.clock.now))
        assert cashier.user_id == world.a.users["cashier"]
    finally:
        till.close()

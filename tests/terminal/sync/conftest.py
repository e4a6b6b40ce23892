"""Sync engine tests: the real server app on an SQLite file, reached through a fault-injecting
transport (``faults.FaultTransport``), and tills with their own SQLite files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.clock import FakeClock
from server.config import Settings
from tests.server.conftest import (  # noqa: F401 - fixtures used by this package's tests
    World,
    _templates,
    clock,
    settings,
    settings_overrides,
    world,
    world_db,
)
from tests.terminal.sync.server_harness import ServerHarness


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Tills talk to one server process; a server restart reuses its SQLite file."""
    return str(request.param)


@pytest.fixture
def server(settings: Settings, clock: FakeClock, world: World,  # noqa: F811 - fixtures
           ) -> Iterator[ServerHarness]:
    harness = ServerHarness(settings, clock, world)
    yield harness
    harness.app.state.engine.dispose()


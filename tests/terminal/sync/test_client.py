"""ServerClient against the real server app: enrolment, tokens, retries, errors."""

from __future__ import annotations

import random

import pytest

from stormcom_pos.domain import sync_protocol as proto
from stormcom_pos.sync.client import Backoff, ServerClient
from stormcom_pos.sync.errors import (
    DeviceRevoked,
    NotEnrolled,
    Offline,
    ResyncRequired,
    StaffLoginFailed,
)
from tests.server.conftest import PASSWORD
from tests.terminal.sync.server_harness import BASE_URL, ServerHarness

EMPTY_PUSH = proto.PushRequest(app_version="test", cache_schema_version=1, ops=[])


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _client(server: ServerHarness, sleep: RecordingSleep | None = None,
            retries: int = 4) -> ServerClient:
    return ServerClient(BASE_URL, transport=server.transport, retries=retries,
                        sleep=sleep or RecordingSleep(), rng=random.Random(7))


@pytest.fixture
def enrolled(server: ServerHarness) -> ServerClient:
    client = _client(server)
    client.enrol(server.pairing_code(server.world.a, "Till 1"))
    return client


def test_enrol_stores_the_credential_and_a_token_is_fetched_on_first_use(
        server: ServerHarness) -> None:
    client = _client(server)
    with pytest.raises(NotEnrolled):
        client.push(EMPTY_PUSH)
    enrolment = client.enrol(server.pairing_code(server.world.a, "Till 7"), "Front till")
    assert enrolment.name == "Till 7"
    assert enrolment.store_id == server.world.a.store_id
    assert client.credential is not None
    assert client.credential.credential == enrolment.credential.strip()
    response = client.push(EMPTY_PUSH)
    assert response.last_applied_device_seq == 0
    assert [s.path for s in server.transport.sent][-2:] == [
        "/api/v1/devices/token", "/api/v1/sync/push"]
    assert client.server_time() == server.clock.now


def test_a_dropped_push_is_retried_with_the_same_bytes_after_a_jittered_backoff(
        server: ServerHarness, enrolled: ServerClient) -> None:
    sleep = RecordingSleep()
    enrolled._sleep = sleep
    server.transport.add("drop_request", "POST", "/sync/push", times=2)
    server.transport.add("status", "POST", "/sync/push", status=503)
    server.transport.add("drop_response", "POST", "/sync/push")
    enrolled.push(EMPTY_PUSH)
    pushes = server.transport.calls("/sync/push")
    assert [p.outcome for p in pushes] == ["drop_request", "drop_request", "status",
                                           "drop_response", "200"]
    assert len({p.body for p in pushes}) == 1
    backoff = Backoff()
    assert len(sleep.delays) == 4
    for attempt, delay in enumerate(sleep.delays):
        assert 0 <= delay <= min(backoff.cap, backoff.base * backoff.factor ** attempt)


def test_a_server_that_stays_down_raises_offline_naming_what_failed(
        server: ServerHarness, enrolled: ServerClient) -> None:
    server.transport.add("status", "GET", "/sync/pull", times=10, status=503)
    with pytest.raises(Offline) as caught:
        enrolled.pull(None)
    assert "GET http://testserver/api/v1/sync/pull" in caught.value.message
    assert "5 attempts" in caught.value.message and "503" in caught.value.message


def test_an_expired_token_is_refreshed_once_on_401(
        server: ServerHarness, enrolled: ServerClient) -> None:
    enrolled.pull(None)
    server.clock.advance(minutes=16)  # past the 15-minute access token
    enrolled.pull(None)
    outcomes = [(s.path, s.outcome) for s in server.transport.sent]
    assert outcomes[-3:] == [("/api/v1/sync/pull", "401"), ("/api/v1/devices/token", "200"),
                             ("/api/v1/sync/pull", "200")]


def test_a_revoked_device_raises_device_revoked(
        server: ServerHarness, enrolled: ServerClient) -> None:
    enrolled.pull(None)
    assert enrolled.credential is not None
    server.revoke(server.world.a, enrolled.credential.device_id)
    with pytest.raises(DeviceRevoked) as caught:
        enrolled.push(EMPTY_PUSH)
    assert "Pair the till again" in caught.value.message


def test_a_cursor_from_another_epoch_raises_resync_required(
        server: ServerHarness, enrolled: ServerClient) -> None:
    with pytest.raises(ResyncRequired):
        enrolled.pull(proto.encode_cursor("another-epoch", 0))


def test_enrolment_is_not_resent_once_it_may_have_reached_the_server(
        server: ServerHarness) -> None:
    client = _client(server)
    code = server.pairing_code(server.world.a)
    server.transport.add("drop_response", "POST", "/devices/enrol")
    with pytest.raises(Offline, match="not resent"):
        client.enrol(code)
    assert len(server.transport.calls("/devices/enrol")) == 1


def test_staff_login_online(server: ServerHarness) -> None:
    client = _client(server)
    login = client.staff_login(server.world.a.emails["manager"], PASSWORD)
    assert login.user_id == server.world.a.users["manager"]
    assert login.token
    with pytest.raises(StaffLoginFailed):
        client.staff_login(server.world.a.emails["manager"], "Wrong-Password-1")

"""Email verification and password reset through a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.audit.models import AuditLog
from server.clock import FakeClock
from server.identity.hashing import hash_token
from server.identity.mail import (
    LoggingMailSender,
    MailError,
    MailSettings,
    OutgoingMail,
    SmtpMailSender,
    SmtpSecurity,
    build_message,
    deliver,
    sender_from_settings,
)
from server.identity.models import User, VerificationToken
from tests.server.conftest import PASSWORD, World, bearer, db_session, login
from tests.server.security_helpers import API

FORGOT = f"{API}/auth/password/forgot"
RESET = f"{API}/auth/password/reset"
NEW_PASSWORD = "Brand-New-Pass-7"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    def token(self, index: int = -1) -> str:
        body = self.messages[index].get_content()
        found = re.search(r"token=([A-Za-z0-9_-]+)", body)
        assert found, body
        return found.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def inbox(app: FastAPI, smtp: tuple[Inbox, int]) -> Inbox:
    """Point the app's mail at the local SMTP server."""
    settings = MailSettings(host="127.0.0.1", port=smtp[1], security=SmtpSecurity.NONE,
                            from_address="StormCom <no-reply@stormcom.test>",
                            app_url="https://backoffice.test")
    app.state.mail_settings = settings
    app.state.mail_sender = SmtpMailSender(settings)
    return smtp[0]


def test_password_reset_by_mail_sets_the_password_and_signs_out_everywhere(
    client: TestClient, app: FastAPI, world: World, inbox: Inbox
) -> None:
    email = world.a.emails["cashier"]
    old_session = login(client, email)
    assert client.post(FORGOT, json={"email": email.upper()}).status_code == 202
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["To"] == email and msg["From"] == "StormCom <no-reply@stormcom.test>"
    assert "https://backoffice.test/reset-password?token=" in msg.get_content()
    token = inbox.token()
    with db_session(app) as db:
        row = db.scalar(select(VerificationToken).where(
            VerificationToken.identifier.startswith("password-reset:")))
        assert row is not None and row.token == hash_token(token) != token
    r = client.post(RESET, json={"token": token, "new_password": "short"})
    assert r.status_code == 422 and r.json()["code"] == "weak_password"
    r = client.post(RESET, json={"token": token, "new_password": PASSWORD})
    assert r.status_code == 422 and r.json()["code"] == "password_reused"
    assert client.post(RESET, json={"token": token, "new_password": NEW_PASSWORD}
                       ).status_code == 204
    # Single use; old sessions are gone; the new password works.
    r = client.post(RESET, json={"token": token, "new_password": "Another-Pass-8"})
    assert r.status_code == 400 and r.json()["code"] == "token_invalid"
    assert client.get(f"{API}/auth/me", headers=bearer(old_session)).status_code == 401
    login(client, email, NEW_PASSWORD)
    with db_session(app) as db:
        actions = db.scalars(select(AuditLog.action).where(
            AuditLog.action.startswith("password.reset"))).all()
    assert sorted(actions) == ["password.reset", "password.reset.request"]


def test_the_answer_never_reveals_whether_the_email_exists(
    client: TestClient, world: World, inbox: Inbox
) -> None:
    unknown = client.post(FORGOT, json={"email": "nobody@nowhere.test"})
    known = client.post(FORGOT, json={"email": world.b.emails["owner"]})
    assert unknown.status_code == known.status_code == 202
    assert unknown.content == known.content == b""
    assert [m["To"] for m in inbox.messages] == [world.b.emails["owner"]]


def test_a_reset_link_expires_after_an_hour_and_a_newer_one_replaces_it(
    client: TestClient, world: World, inbox: Inbox, clock: FakeClock
) -> None:
    email = world.a.emails["manager"]
    client.post(FORGOT, json={"email": email})
    first = inbox.token()
    client.post(FORGOT, json={"email": email})
    second = inbox.token()
    r = client.post(RESET, json={"token": first, "new_password": NEW_PASSWORD})
    assert r.status_code == 400  # replaced by the newer link
    clock.advance(minutes=61)
    r = client.post(RESET, json={"token": second, "new_password": NEW_PASSWORD})
    assert r.status_code == 400 and r.json()["code"] == "token_expired"


def test_reset_refuses_any_of_the_last_five_passwords(
    client: TestClient, world: World, inbox: Inbox, clock: FakeClock
) -> None:
    email = world.b.emails["cashier"]
    history = [PASSWORD] + [f"History-Pass-{i}!" for i in range(5)]
    current = PASSWORD
    for new in history[1:]:
        clock.advance(minutes=1)  # after the seeded user's creation, one change a minute
        r = client.post(f"{API}/auth/password", headers=bearer(login(client, email, current)),
                        json={"current_password": current, "new_password": new})
        assert r.status_code == 204, r.text
        current = new
    client.post(FORGOT, json={"email": email})
    token = inbox.token()
    for reused in history[-5:]:
        r = client.post(RESET, json={"token": token, "new_password": reused})
        assert r.status_code == 422 and r.json()["code"] == "password_reused", reused
    assert client.post(RESET, json={"token": token, "new_password": PASSWORD}).status_code == 204


def test_email_verification_link_confirms_the_address_once_within_a_day(
    client: TestClient, app: FastAPI, world: World, inbox: Inbox, clock: FakeClock
) -> None:
    headers = bearer(login(client, world.a.emails["owner"]))
    assert client.post(f"{API}/auth/email/verification", headers=headers).status_code == 202
    msg = inbox.messages[-1]
    assert msg["Subject"] == "Confirm your email address"
    assert "https://backoffice.test/verify-email?token=" in msg.get_content()
    token = inbox.token()
    r = client.post(f"{API}/auth/email/verify", json={"token": token})
    assert r.status_code == 200 and r.json()["email"] == world.a.emails["owner"]
    assert client.post(f"{API}/auth/email/verify", json={"token": token}).status_code == 400
    assert client.post(f"{API}/auth/email/verification", headers=headers).status_code == 204
    # A second user's link lapses after 24 hours.
    headers_b = bearer(login(client, world.b.emails["owner"]))
    client.post(f"{API}/auth/email/verification", headers=headers_b)
    late = inbox.token()
    clock.advance(hours=24, seconds=1)
    r = client.post(f"{API}/auth/email/verify", json={"token": late})
    assert r.status_code == 400 and r.json()["code"] == "token_expired"
    # A reset token is not a verification token, and vice versa.
    client.post(FORGOT, json={"email": world.b.emails["owner"]})
    assert client.post(f"{API}/auth/email/verify", json={"token": inbox.token()}
                       ).status_code == 400
    with db_session(app) as db:
        owner = db.scalar(select(User).where(User.email == world.b.emails["owner"]))
        assert owner is not None and owner.email_verified is None


def test_senders(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mail = OutgoingMail(to="x@y.test", subject="Hi", text="Body ✓")
    settings = MailSettings(host="127.0.0.1", port=port, security=SmtpSecurity.NONE)
    assert isinstance(sender_from_settings(settings), SmtpMailSender)
    assert deliver(sender_from_settings(settings), mail, from_address="a@b.test")
    assert inbox.messages[-1].get_content().strip() == "Body ✓"
    dead = SmtpMailSender(MailSettings(host="127.0.0.1", port=_free_port(),
                                       security=SmtpSecurity.NONE, timeout=2))
    with pytest.raises(MailError):
        dead.send(build_message(mail, from_address="a@b.test"))
    assert not deliver(dead, mail, from_address="a@b.test")
    dev = sender_from_settings(MailSettings(host=None))
    assert isinstance(dev, LoggingMailSender)
    dev.send(build_message(mail, from_address="a@b.test"))
    assert dev.sent[-1]["Subject"] == "Hi"


def test_mail_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STORMCOM_SMTP_HOST", "smtp.example.test")
    monkeypatch.setenv("STORMCOM_SMTP_PORT", "465")
    monkeypatch.setenv("STORMCOM_SMTP_SECURITY", "ssl")
    s = MailSettings()
    assert (s.host, s.port, s.security) == ("smtp.example.test", 465, SmtpSecurity.SSL)

"""Outgoing mail: a ``MailSender`` interface, an SMTP sender (smtplib) and a logging sender.

Configuration comes from ``STORMCOM_SMTP_*`` environment variables (``MailSettings``):

- ``STORMCOM_SMTP_HOST`` / ``_PORT``: the relay. With no host, mail goes to the log
  (``LoggingMailSender``), which is what a developer wants and never what production wants:
  a warning says so once per sender.
- ``STORMCOM_SMTP_SECURITY``: ``none``, ``starttls`` (upgrade after connecting, port 587) or
  ``ssl`` (implicit TLS, port 465).
- ``STORMCOM_SMTP_USERNAME`` / ``_PASSWORD``: login, when the relay wants one.
- ``STORMCOM_SMTP_FROM_ADDRESS``: the envelope and header sender.
- ``STORMCOM_SMTP_APP_URL``: the back office's address, used to build links in mail.
- ``STORMCOM_SMTP_TIMEOUT``: seconds for connect and each command.

Senders are blocking (smtplib); call them from a worker thread or a background task, never on
the event loop.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from typing import Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    SSL = "ssl"


class MailSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORMCOM_SMTP_", extra="ignore")

    host: str | None = None
    port: int = 587
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = None
    from_address: str = "StormCom <no-reply@stormcom.local>"
    app_url: str = "http://127.0.0.1:8000"
    timeout: float = 10.0


class MailError(RuntimeError):
    """The message could not be handed to the relay."""


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str


def build_message(mail: OutgoingMail, *, from_address: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = from_address
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg.set_content(mail.text)
    return msg


class SmtpMailSender:
    """Sends through an SMTP relay with smtplib, one connection per message."""

    def __init__(self, settings: MailSettings) -> None:
        if not settings.host:
            raise ValueError("SmtpMailSender needs STORMCOM_SMTP_HOST")
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.host is not None
        if "From" not in message:
            message["From"] = s.from_address
        try:
            if s.security is SmtpSecurity.SSL:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with smtp:
                if s.security is SmtpSecurity.STARTTLS:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"could not send mail via {s.host}:{s.port}: {exc}") from exc


class LoggingMailSender:
    """Development sender: logs each message (body included) and keeps it in ``sent``."""

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []
        log.warning("mail is logged, not sent: set STORMCOM_SMTP_HOST to send it")

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)
        log.info(
            "mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content()
        )


def sender_from_settings(settings: MailSettings | None = None) -> MailSender:
    """SMTP when a host is configured, else the logging development sender."""
    settings = settings or MailSettings()
    if settings.host:
        return SmtpMailSender(settings)
    return LoggingMailSender()


def deliver(sender: MailSender, mail: OutgoingMail, *, from_address: str) -> bool:
    """Send one message; log and return False on failure (callers must not leak the outcome)."""
    try:
        sender.send(build_message(mail, from_address=from_address))
    except MailError:
        log.exception("mail to %s failed", mail.to)
        return False
    return True

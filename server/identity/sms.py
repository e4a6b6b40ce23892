"""Outgoing SMS for the MFA fallback: an ``SmsProvider`` interface and a logging provider.

A real gateway (Twilio, an SSLCommerz/bKash-region aggregator, ...) implements ``send`` and is
selected by ``STORMCOM_SMS_PROVIDER``; only the development provider ships today, and it logs
the message (code included), so it must never run in production: a warning says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger(__name__)


class SmsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORMCOM_SMS_", extra="ignore")

    provider: str = "log"
    sender_id: str = "StormCom"


class SmsError(RuntimeError):
    """The provider refused or could not take the message."""


class SmsProvider(Protocol):
    def send(self, to: str, body: str) -> None: ...


@dataclass(frozen=True, slots=True)
class SentSms:
    to: str
    body: str


class LoggingSmsProvider:
    """Development provider: logs each message and keeps it in ``sent``."""

    def __init__(self) -> None:
        self.sent: list[SentSms] = []
        log.warning("SMS messages are logged, not sent (development provider)")

    def send(self, to: str, body: str) -> None:
        self.sent.append(SentSms(to=to, body=body))
        log.info("SMS to %s: %s", to, body)


def provider_from_settings(settings: SmsSettings | None = None) -> SmsProvider:
    settings = settings or SmsSettings()
    if settings.provider == "log":
        return LoggingSmsProvider()
    raise SmsError(f"unknown SMS provider {settings.provider!r} (STORMCOM_SMS_PROVIDER)")

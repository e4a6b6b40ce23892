"""Server settings from the environment (prefix ``STORMCOM_``) and the database URL check."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg")


class ConfigError(Exception):
    """A setting is unusable; the message says which and how to fix it."""


def default_database_url() -> str:
    """An SQLite file in the user's data directory (created on first use)."""
    data_dir = Path(user_data_dir("stormcom", "StormCom"))
    return f"sqlite:///{data_dir / 'stormcom-server.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STORMCOM_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    sql_echo: bool = False
    # Fernet keys for the secret columns, comma-separated; the first encrypts, every one
    # decrypts. Unset: a key file beside an SQLite database; required on PostgreSQL
    # (server.db.encrypted says why).
    data_keys: SecretStr = SecretStr("")

    # Identity (product-decisions §3, §4). bcrypt stays 12 in production; tests lower it.
    bcrypt_cost: int = Field(default=12, ge=4, le=16)
    session_idle_days: int = 7
    session_absolute_days: int = 30
    lockout_threshold: int = 5
    lockout_window_minutes: int = 15
    lockout_minutes: int = 15
    login_ip_limit: int = 20  # attempts per IP ...
    login_ip_period_seconds: int = 300  # ... per 5 minutes

    # Rate limits: per user from the store's plan; unauthenticated requests per IP.
    rate_limit_enabled: bool = True
    rate_limit_store: Literal["memory", "database"] = "memory"
    anonymous_rate_limit: int = 60  # per minute per IP
    # Take the client IP from X-Forwarded-For (only behind a proxy you control).
    trust_forwarded_for: bool = False

    # Refuse (500) any request that writes data without an audit-log row.
    audit_enforce: bool = True


def parse_database_url(raw: str) -> URL:
    """Validate a database URL; raise ConfigError with a one-line reason if it is unusable."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(
            f"STORMCOM_DATABASE_URL is not a database URL: {raw!r} "
            "(expected sqlite:///path/to/file.db or postgresql+psycopg://user:pass@host/db)"
        ) from exc
    if url.drivername not in SUPPORTED_SCHEMES:
        raise ConfigError(
            f"STORMCOM_DATABASE_URL uses an unsupported scheme {url.drivername!r}: "
            "use sqlite:/// or postgresql+psycopg://"
        )
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return url

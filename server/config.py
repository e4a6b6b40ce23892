"""Server settings from the environment (prefix ``STORMCOM_``) and the database URL check."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
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

"""Application-level encryption of the secret columns (data-model.md marks them "encrypted"):
``user.mfa_secret``, the payment gateways' ``secret_key``/``webhook_secret`` and the
integrations' ``api_key``/``api_secret``/``webhook_secret``.

``EncryptedString`` stores a Fernet token (AES-128-CBC with HMAC-SHA256) in a TEXT column and
hands the services plain strings, so a dump, a backup or a replica never holds a usable secret.
Each encryption differs (random IV): the columns cannot be compared or indexed in SQL.

The keyring is process-wide and set once from the settings (:func:`configure_from_settings`:
``create_app``, the CLI, the jobs and the Alembic environment):

- ``STORMCOM_DATA_KEYS``: comma-separated Fernet keys. The first encrypts, every one decrypts:
  to rotate, put the new key first and keep the old ones after it while values written under
  them remain (a value moves to the first key when it is next written).
- Unset, on SQLite: ``data.key`` beside the database file, made with mode 0600 on first use
  (one key per line, the first encrypts), so the embedded default needs no setup.
- Unset, on PostgreSQL: refused. Several server hosts share one database; a key file per host
  would leave each unable to read what the others wrote.

The key must be backed up with the database: without it the MFA enrolments and the gateway
and integration credentials are lost.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Column, Connection, MetaData, Text, TypeDecorator, event
from sqlalchemy.engine import Dialect

from server.config import ConfigError, Settings, parse_database_url
from server.db import rls

log = logging.getLogger("stormcom.data_key")

KEY_FILE = "data.key"
ENV = "STORMCOM_DATA_KEYS"
HOW_TO_MAKE = "make one with `stormcom-server gen-data-key` (python -m server.cli gen-data-key)"


class NoDataKey(RuntimeError):
    """A secret column was used before the keyring was configured (a wiring bug)."""


class WrongDataKey(Exception):
    """A stored value does not decrypt with any configured data key."""


@dataclass(frozen=True)
class _Keyring:
    fernet: MultiFernet
    source: str  # where the keys came from, for the error messages


_keyring: _Keyring | None = None


def generate_key() -> str:
    """A new random data key (url-safe base64 of 32 bytes)."""
    return Fernet.generate_key().decode()


def configure(keys: Sequence[str | bytes], *, source: str = ENV) -> None:
    """Set the process's keyring: the first key encrypts, every key decrypts."""
    global _keyring
    if not keys:
        raise ConfigError(f"{source} holds no data key; {HOW_TO_MAKE}.")
    try:
        fernets = [Fernet(key) for key in keys]
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source} holds something that is not a data key (each is 44 "
                          f"characters of url-safe base64); {HOW_TO_MAKE}.") from exc
    _keyring = _Keyring(MultiFernet(fernets), source)


def is_configured() -> bool:
    return _keyring is not None


def load_keys(settings: Settings) -> tuple[list[str], str]:
    """The data keys the settings call for, and where they came from (the module's rule)."""
    raw = settings.data_keys.get_secret_value()
    if raw.strip():
        return _split(raw), ENV
    url = parse_database_url(settings.database_url)
    if not url.drivername.startswith("sqlite"):
        raise ConfigError(
            f"{ENV} is not set. On PostgreSQL every server host must use the same data key, "
            f"so it is never kept in a file: {HOW_TO_MAKE}, keep it with the database backups "
            f"and set {ENV}=<key> on every host.")
    if not url.database or url.database == ":memory:":
        # The database lives and dies with the process; so may its key.
        return [generate_key()], "the in-memory database's key"
    path = Path(url.database).expanduser().resolve().parent / KEY_FILE
    return _split(_read_or_create(path)), f"the key file {path}"


def configure_from_settings(settings: Settings) -> None:
    keys, source = load_keys(settings)
    configure(keys, source=source)


def _split(raw: str) -> list[str]:
    return [key for key in re.split(r"[,\s]+", raw) if key]


def _read_or_create(path: Path) -> str:
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            with os.fdopen(fd, "w") as f:
                f.write(generate_key() + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                # A link never replaces a key another process made first (a rename would).
                os.link(tmp, path)
            except FileExistsError:
                pass
            else:
                log.warning("created the data key %s: back it up with the database", path)
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text(encoding="ascii")


def _current() -> _Keyring:
    if _keyring is None:
        raise NoDataKey("the data keyring is not configured: call server.db.encrypted."
                        "configure_from_settings(settings) first (create_app and the CLI do)")
    return _keyring


def encrypt(value: str) -> str:
    """A Fernet token of ``value`` under the first data key."""
    return _current().fernet.encrypt(value.encode()).decode("ascii")


def decrypt(token: str, *, where: str) -> str:
    """The value of a token written under any configured key; ``where`` names the column."""
    keyring = _current()
    try:
        return keyring.fernet.decrypt(token.encode("ascii", "replace")).decode()
    except InvalidToken:
        raise _wrong_key(where, keyring) from None


def rotate(token: str, *, where: str) -> str:
    """The same value, re-encrypted under the first key (``stormcom-server rotate-data-key``)."""
    keyring = _current()
    try:
        return keyring.fernet.rotate(token.encode("ascii", "replace")).decode("ascii")
    except InvalidToken:
        raise _wrong_key(where, keyring) from None


def _wrong_key(where: str, keyring: _Keyring) -> WrongDataKey:
    return WrongDataKey(
        f"{where}: a stored value does not decrypt with the data key from {keyring.source}."
        f" The data key does not match the one it was written with: set {ENV} (or restore "
        f"the {KEY_FILE} file beside the SQLite database) to that key, older keys after the "
        "current one; or the value was never encrypted (run `stormcom-server migrate`).")


def secret_columns(metadata: MetaData) -> dict[str, list[str]]:
    """Every table's ``EncryptedString`` columns."""
    found: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, EncryptedString)]
        if names:
            found[table.name] = names
    return found


def rewrite_columns(conn: Connection, columns: Mapping[str, Sequence[str]],
                    convert: Callable[..., str]) -> int:
    """Replace every stored non-NULL value of these columns with ``convert(value,
    where="table.column")``, in every store (past row-level security); the number replaced.
    Migration 0008 encrypts with it, ``rotate-data-key`` re-encrypts."""
    replaced = 0
    with rls.bypass_rls(conn):
        if not rls.sees_every_store(conn):
            raise ConfigError(
                "rewriting the secret columns needs the database owner (the role migrations "
                "run as): this role is held to one store by row-level security and would "
                "leave the other stores' secrets as they are")
        for name, names in columns.items():
            # Untyped columns: the stored text as it is, not decrypted on the way out.
            table = sa.table(name, sa.column("id"), *(sa.column(c, sa.Text()) for c in names))
            rows = conn.execute(sa.select(table).where(
                sa.or_(*(table.c[c].is_not(None) for c in names)))).all()
            if not rows:
                continue
            values = [{"row_id": row.id, **{
                f"new_{c}": None if getattr(row, c) is None
                else convert(getattr(row, c), where=f"{name}.{c}") for c in names}}
                for row in rows]
            replaced += sum(v is not None for row in values for k, v in row.items()
                            if k != "row_id")
            conn.execute(table.update().where(table.c.id == sa.bindparam("row_id"))
                         .values({c: sa.bindparam(f"new_{c}") for c in names}), values)
    return replaced


class EncryptedString(TypeDecorator[str]):
    """A string stored as a Fernet token in TEXT; None stays NULL."""

    impl = Text
    cache_ok = True
    column: Column[Any] | None = None  # set when attached, to name it in errors

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        column = self.column
        where = f"{column.table.name}.{column.name}" if column is not None else "a secret column"
        return decrypt(value, where=where)


@event.listens_for(EncryptedString, "after_parent_attach")
def _remember_column(type_: EncryptedString, column: Column[Any]) -> None:
    type_.column = column

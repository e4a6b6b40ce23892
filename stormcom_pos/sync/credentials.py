"""Where the terminal keeps its device credential: the OS keyring, or an encrypted file.

The credential (``sdc_...``) is what the server pairs a till by; anyone holding it can push
sales as this till. It lives in the OS keyring (Secret Service/KWallet, macOS Keychain,
Windows Credential Manager) through ``keyring``. When the active keyring backend is not a
secure one (keyring's fail or null backends, a plaintext file backend), the keyring store
refuses with :class:`NoSecureKeyring` instead of writing the secret anywhere readable. The
only fallback is an :class:`EncryptedFileCredentialStore` the operator configures explicitly
with a passphrase (Fernet, key derived with scrypt).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import keyring
import keyring.errors
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from keyring.backend import KeyringBackend

from stormcom_pos.sync.errors import CredentialFileUnreadable, NoSecureKeyring

SERVICE = "stormcom-pos"
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null")
_FIX = ("Install and unlock an OS keyring (GNOME Keyring or KWallet through the Secret "
        "Service on Linux, the Keychain on macOS, the Credential Manager on Windows), or "
        "configure an encrypted credential file with a passphrase "
        "(EncryptedFileCredentialStore).")


@dataclass(frozen=True)
class DeviceCredential:
    server_url: str
    device_id: str
    store_id: str
    credential: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DeviceCredential:
        data = json.loads(text)
        return cls(server_url=data["server_url"], device_id=data["device_id"],
                   store_id=data["store_id"], credential=data["credential"])


class CredentialStore(Protocol):
    def load(self) -> DeviceCredential | None: ...

    def save(self, credential: DeviceCredential) -> None: ...

    def clear(self) -> None: ...


def _backend_is_secure(backend: KeyringBackend) -> bool:
    inner = getattr(backend, "backends", None)
    if inner is not None:  # keyring's ChainerBackend: secure only if every link is
        return bool(inner) and all(_backend_is_secure(b) for b in inner)
    cls = type(backend)
    if cls.__module__.startswith(_INSECURE_MODULES) or "plaintext" in cls.__name__.lower():
        return False
    try:
        return float(backend.priority) > 0  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - a backend whose priority check fails is not viable
        return False


class KeyringCredentialStore:
    """The device credential in the OS keyring, one entry per till database (``account``)."""

    def __init__(self, service: str = SERVICE, account: str = "default", *,
                 backend: KeyringBackend | None = None) -> None:
        self.service, self.account = service, account
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        backend = self._backend or keyring.get_keyring()
        if not _backend_is_secure(backend):
            name = f"{type(backend).__module__}.{type(backend).__name__}"
            raise NoSecureKeyring(
                f"No secure keyring is available to keep this till's device credential "
                f"(the active keyring backend is {name}); it will not be stored in "
                f"plaintext. {_FIX}")
        return backend

    def load(self) -> DeviceCredential | None:
        text = self._keyring().get_password(self.service, self.account)
        return DeviceCredential.from_json(text) if text else None

    def save(self, credential: DeviceCredential) -> None:
        self._keyring().set_password(self.service, self.account, credential.to_json())

    def clear(self) -> None:
        try:
            self._keyring().delete_password(self.service, self.account)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored


class EncryptedFileCredentialStore:
    """The credential in a file encrypted with a key derived from ``passphrase`` (scrypt).

    Only for machines without a usable keyring, and only when configured explicitly. The file
    is written atomically and readable by its owner only.
    """

    SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

    def __init__(self, path: Path, passphrase: str) -> None:
        if not passphrase:
            raise ValueError("An encrypted credential file needs a non-empty passphrase.")
        self.path = Path(path)
        self._passphrase = passphrase.encode()

    def _fernet(self, salt: bytes, n: int, r: int, p: int) -> Fernet:
        kdf = Scrypt(salt=salt, length=32, n=n, r=r, p=p)
        return Fernet(base64.urlsafe_b64encode(kdf.derive(self._passphrase)))

    def load(self) -> DeviceCredential | None:
        if not self.path.exists():
            return None
        try:
            data = json.loads(self.path.read_text())
            salt = base64.b64decode(data["salt"])
            fernet = self._fernet(salt, int(data["n"]), int(data["r"]), int(data["p"]))
            return DeviceCredential.from_json(fernet.decrypt(data["token"].encode()).decode())
        except (InvalidToken, ValueError, KeyError, TypeError) as exc:
            raise CredentialFileUnreadable(
                f"The credential file {self.path} cannot be decrypted: wrong passphrase or a "
                f"damaged file. Enter the right passphrase or pair the till again.") from exc

    def save(self, credential: DeviceCredential) -> None:
        salt = secrets.token_bytes(16)
        fernet = self._fernet(salt, self.SCRYPT_N, self.SCRYPT_R, self.SCRYPT_P)
        body = json.dumps({
            "version": 1, "kdf": "scrypt", "n": self.SCRYPT_N, "r": self.SCRYPT_R,
            "p": self.SCRYPT_P, "salt": base64.b64encode(salt).decode(),
            "token": fernet.encrypt(credential.to_json().encode()).decode()})
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self.path)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class MemoryCredentialStore:
    """Keeps the credential in memory only (tests and throwaway tills)."""

    def __init__(self, credential: DeviceCredential | None = None) -> None:
        self._credential = credential

    def load(self) -> DeviceCredential | None:
        return self._credential

    def save(self, credential: DeviceCredential) -> None:
        self._credential = credential

    def clear(self) -> None:
        self._credential = None

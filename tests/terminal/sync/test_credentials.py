"""Where the device credential is kept: a secure keyring or an explicit encrypted file only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from stormcom_pos.sync.credentials import (
    DeviceCredential,
    EncryptedFileCredentialStore,
    KeyringCredentialStore,
)
from stormcom_pos.sync.errors import CredentialFileUnreadable, NoSecureKeyring

CREDENTIAL = DeviceCredential("https://pos.example", "dev1", "store1", "sdc_store1.s3cret-value")


class SecureMemoryKeyring(KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username), None)


class PlaintextKeyring(SecureMemoryKeyring):
    """Named like keyrings.alt's plaintext file backend."""


def test_a_secure_keyring_round_trips_the_credential() -> None:
    backend = SecureMemoryKeyring()
    store = KeyringCredentialStore(account="/var/till.db", backend=backend)
    assert store.load() is None
    store.save(CREDENTIAL)
    assert store.load() == CREDENTIAL
    assert ("stormcom-pos", "/var/till.db") in backend.items
    store.clear()
    assert store.load() is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), PlaintextKeyring(),
                                     chainer.ChainerBackend()],
                         ids=["fail", "null", "plaintext", "empty-chain"])
def test_an_insecure_keyring_is_refused_with_the_fix_named(backend: KeyringBackend) -> None:
    store = KeyringCredentialStore(backend=backend)
    for action in (store.load, lambda: store.save(CREDENTIAL)):
        with pytest.raises(NoSecureKeyring) as caught:
            action()
        assert "EncryptedFileCredentialStore" in caught.value.message
        assert "plaintext" in caught.value.message


def test_the_encrypted_file_is_private_and_unreadable_without_the_passphrase(
        tmp_path: Path) -> None:
    path = tmp_path / "conf" / "device.cred"
    store = EncryptedFileCredentialStore(path, "correct horse")
    assert store.load() is None
    store.save(CREDENTIAL)
    assert CREDENTIAL.credential not in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert EncryptedFileCredentialStore(path, "correct horse").load() == CREDENTIAL
    with pytest.raises(CredentialFileUnreadable, match="wrong passphrase"):
        EncryptedFileCredentialStore(path, "wrong").load()
    store.clear()
    assert not path.exists()
    with pytest.raises(ValueError):
        EncryptedFileCredentialStore(path, "")

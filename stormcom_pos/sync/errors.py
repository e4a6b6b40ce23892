"""What can go wrong talking to the server, named for what went wrong.

Every message says what failed and where (the method and URL), so a status bar or a log line
is enough to act on.
"""

from __future__ import annotations


class SyncError(Exception):
    """The root of the sync package's errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Offline(SyncError):
    """The server could not be reached (or kept failing) after every retry."""


class DeviceRevoked(SyncError):
    """The server no longer accepts this terminal: it was revoked or paired again elsewhere.
    Syncing stops; the outbox is kept until the terminal is paired again."""


class ResyncRequired(SyncError):
    """410: the cursor is from another epoch or below the compaction horizon."""

    def __init__(self, message: str, server_epoch: str | None = None) -> None:
        super().__init__(message)
        self.server_epoch = server_epoch


class ServerRejected(SyncError):
    """A 4xx answer other than the ones above: the request itself was refused."""

    def __init__(self, message: str, *, status: int, code: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class NotEnrolled(SyncError):
    """The terminal has no device credential yet: pair it with a code first."""


class StaffLoginFailed(SyncError):
    """Sign-in refused (wrong email, password or second-factor code)."""


class MfaRequired(StaffLoginFailed):
    """The account has a second factor: ask for the code and sign in again with it."""


class NoSecureKeyring(SyncError):
    """No secure OS keyring is available and no encrypted credential file was configured."""


class CredentialFileUnreadable(SyncError):
    """The encrypted credential file could not be decrypted (wrong passphrase or damaged)."""


class AlreadyRunning(SyncError):
    """Another process holds this till database's instance lock."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid

"""One syncing process per till database: an OS file lock beside the database.

Two app instances on one database would both push the same outbox and race on its results
(Odoo's two-tab duplicates). The lock is ``<database>.lock``, held with ``fcntl.flock`` (or
``msvcrt.locking`` on Windows) for the life of the process; the OS releases it when the
process dies, even by SIGKILL, so a crash never leaves a stale lock. The file holds the
holder's pid, for the message. It is never deleted (deleting a lock file races with a second
process opening it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from stormcom_pos.sync.errors import AlreadyRunning


def _try_lock(handle: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(handle: IO[str]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class InstanceLock:
    """``with InstanceLock(db_path):`` or ``acquire()``/``release()``."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        if self._handle is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process's life
        if not _try_lock(handle):
            handle.seek(0)
            text = handle.read().strip()
            handle.close()
            pid = int(text) if text.isdigit() else None
            holder = f"process {pid}" if pid else "another process"
            raise AlreadyRunning(
                f"The till database {str(self.path)[:-5]} is already in use by {holder}: "
                f"close the other StormCom POS window first.", pid)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            _unlock(self._handle)
        finally:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

"""Only one process syncs a till database: an OS lock that dies with its holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from stormcom_pos.sync.errors import AlreadyRunning
from stormcom_pos.sync.instance_lock import InstanceLock

HOLDER = ("import sys, time; from pathlib import Path;"
          "from stormcom_pos.sync.instance_lock import InstanceLock;"
          "lock = InstanceLock(Path(sys.argv[1])); lock.acquire();"
          "print('held', flush=True); time.sleep(600)")


def test_a_second_lock_on_the_same_database_is_refused_until_released(tmp_path: Path) -> None:
    db = tmp_path / "till.db"
    with InstanceLock(db) as first:
        assert first.held
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(db).acquire()
        assert caught.value.pid == os.getpid()
        assert str(db) in caught.value.message
        InstanceLock(tmp_path / "other.db").acquire()  # another database is independent
    second = InstanceLock(db)
    second.acquire()
    second.release()


def test_the_lock_names_another_process_and_is_freed_when_it_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "till.db"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdout=subprocess.PIPE,
                              text=True, cwd=Path(__file__).resolve().parents[3])
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning) as caught:
            InstanceLock(db).acquire()
        assert caught.value.pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
    with InstanceLock(db) as lock:
        assert lock.held

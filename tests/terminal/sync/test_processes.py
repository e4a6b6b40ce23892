"""Process tier: ``stormcom-server serve`` as a real process on an SQLite file, and a till
process (process_till.py) killed with SIGKILL after its local commits (F8) and right after the
server answered a push (F10). After a clean restart of the till, every sale it recorded is on
the server exactly once and its outbox is drained."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from server.db import migrate
from server.db.engine import make_engine
from server.seed.demo import SeedReport, seed_demo
from stormcom_pos.local_db import outbox
from stormcom_pos.local_db.database import LocalDb

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """(server url, database url, pairing code) of a seeded demo store being served."""
    url = f"sqlite:///{tmp_path / 'server.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    report = seed_demo(engine, products=0)
    assert isinstance(report, SeedReport)
    engine.dispose()
    port = _free_port()
    env = {**os.environ, "STORMCOM_DATABASE_URL": url}
    proc = subprocess.Popen([str(BIN / "stormcom-server"), "serve", "--host", "127.0.0.1",
                             "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("stormcom-server serve did not start")
        yield base, url, report.pairing_code
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _till(tmp_path: Path, base: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.terminal.sync.process_till", str(tmp_path / "till.db"),
         base, str(tmp_path / "device.cred"), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_a_till_killed_after_its_commits_and_inside_its_push_loses_and_duplicates_nothing(
        served: tuple[str, str, str], tmp_path: Path) -> None:
    base, url, code = served
    enrolled = _till(tmp_path, base, "enrol", code)
    assert enrolled.returncode == 0, enrolled.stderr
    killed = _till(tmp_path, base, "sell", "5")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    in_push = _till(tmp_path, base, "sell-kill-in-push", "3")
    assert in_push.returncode == -signal.SIGKILL, in_push.stderr
    db = LocalDb(tmp_path / "till.db")
    db.open()
    with db.read() as conn:
        assert outbox.counts(conn).pending == 9  # a drawer open and 8 sales, none marked
    synced = _till(tmp_path, base, "sync")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout) == {"pending": 0, "error": None, "online": True}
    with db.read() as conn:
        local = dict(conn.execute(text(
            "SELECT subject_id, payload FROM outbox WHERE kind = 'order.submit'")).all())
        assert outbox.last_device_seq(conn) == 9
    db.close()
    engine = make_engine(url)
    with engine.connect() as conn:
        for order_id, payload in local.items():
            rows = conn.execute(text('SELECT total FROM "order" WHERE id = :i'),
                                {"i": order_id}).all()
            assert len(rows) == 1
            assert str(rows[0][0]) == json.loads(payload)["total"]
        applied = conn.execute(text("SELECT count(*) FROM push_inbox")).scalar_one()
    engine.dispose()
    assert len(local) == 8 and applied == 9

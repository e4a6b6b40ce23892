"""Operator errors are one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env_url: str | None = None) -> subprocess.CompletedProcess[str]:
    import os

    env = dict(os.environ)
    if env_url is not None:
        env["STORMCOM_DATABASE_URL"] = env_url
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url at all", "is not a database URL"),
        ("mysql://root@localhost/shop", "unsupported scheme 'mysql'"),
        (f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/x", "cannot reach the database"),
    ],
)
def test_bad_database_url_is_one_clear_line(url: str, expected: str) -> None:
    result = run_cli("migrate", env_url=url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("stormcom-server: error:")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


def test_migrate_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "dir" / "s.db"
    result = run_cli("migrate", env_url=f"sqlite:///{db}")
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout
    assert db.exists()


def test_pair_terminal_prints_a_code_that_enrols_once(tmp_path: Path) -> None:
    from server.db.engine import make_engine, make_session_factory
    from server.pos import devices_service
    from server.pos.models import Device

    url = f"sqlite:///{tmp_path / 's.db'}"
    assert run_cli("migrate", env_url=url).returncode == 0
    assert run_cli("create-store", "--name", "Corner", "--slug", "corner", "--email",
                   "o@corner.test", "--plan", "BASIC", env_url=url).returncode == 0
    assert run_cli("create-store", "--name", "Free", "--slug", "free", "--email",
                   "o@free.test", env_url=url).returncode == 0
    free = run_cli("pair-terminal", "--store", "free", env_url=url)
    assert free.returncode == 2
    assert "does not include POS terminals. Upgrade to Basic or above." in free.stderr
    missing = run_cli("pair-terminal", "--store", "nope", env_url=url)
    assert missing.returncode == 2 and "no store with the slug 'nope'" in missing.stderr
    result = run_cli("pair-terminal", "--store", "corner", "--name", "Front till", "--quiet",
                     env_url=url)
    assert result.returncode == 0, result.stderr
    code = result.stdout.strip()
    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        from datetime import UTC, datetime

        enrolled = devices_service.enrol(db, code=code, now=datetime.now(UTC))
        db.commit()
        device = db.get(Device, enrolled.device.id)
        assert device is not None and device.name == "Front till" and enrolled.credential
    engine.dispose()

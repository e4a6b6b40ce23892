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


def test_pair_terminal_twice_gives_the_waiting_till_a_fresh_code(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from sqlalchemy import select

    from server.db.engine import make_engine, make_session_factory
    from server.errors import ServiceError
    from server.pos import devices_service
    from server.pos.models import Device

    url = f"sqlite:///{tmp_path / 's.db'}"
    assert run_cli("migrate", env_url=url).returncode == 0
    assert run_cli("create-store", "--name", "Corner", "--slug", "corner", "--email",
                   "o@corner.test", "--plan", "BASIC", env_url=url).returncode == 0
    codes = [run_cli("pair-terminal", "--store", "corner", "--name", "Till 1", "--quiet",
                     env_url=url).stdout.strip() for _ in range(2)]
    engine = make_engine(url)
    with make_session_factory(engine)() as db:
        db.info["store_id"] = None
        names = db.scalars(select(Device.name).execution_options(all_stores=True)).all()
        assert names == ["Till 1"]  # one waiting till, not two
        with pytest.raises(ServiceError):
            devices_service.enrol(db, code=codes[0], now=datetime.now(UTC))
        db.rollback()
        assert devices_service.enrol(db, code=codes[1], now=datetime.now(UTC)).credential
        db.commit()
    # Enrolled: the next code of that name is for a new till.
    assert run_cli("pair-terminal", "--store", "corner", "--name", "Till 1",
                   env_url=url).returncode == 0
    with make_session_factory(engine)() as db:
        count = len(db.scalars(select(Device.id).execution_options(all_stores=True)).all())
        assert count == 2
    engine.dispose()


def _wait_healthy(base: str, proc: subprocess.Popen[str]) -> None:
    import time

    import httpx

    for _ in range(300):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the server did not answer /health")


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = Path(task, "children").read_text().split()
        found.update(int(c) for c in children)
    return found


def _serving_pids(port: int) -> set[int]:
    """The processes with a socket listening on ``port`` (from /proc, as ss would say)."""
    import os

    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                inodes.add(fields[9])
    pids = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in Path(proc, "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.add(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
def test_serve_with_workers_listens_in_each_worker_and_stops_on_sigterm(
        pg_cluster, tmp_path: Path) -> None:
    import os
    import signal

    import httpx

    url = pg_cluster.create_database(f"serve_{os.getpid()}")
    assert run_cli("migrate", env_url=url).returncode == 0
    port = _closed_port()
    env = {**os.environ, "STORMCOM_DATABASE_URL": url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "2", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_healthy(base, proc)
        workers = _children(proc.pid)
        assert len(workers) == 2
        # Each worker has its own listening socket (SO_REUSEPORT), the supervisor none: the
        # kernel spreads the tills' long-lived connections over the workers.
        assert _serving_pids(port) == workers
        statuses = {httpx.get(f"{base}/health", headers={"Connection": "close"}).status_code
                    for _ in range(20)}
        assert statuses == {200}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    assert run_cli("migrate", env_url=f"sqlite:///{db}").returncode == 0
    result = run_cli("serve", "--workers", "2", env_url=f"sqlite:///{db}")
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_says_when_the_port_is_taken(pg_cluster) -> None:
    import os

    url = pg_cluster.create_database(f"taken_{os.getpid()}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2",
                         env_url=url)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr

"""A throwaway PostgreSQL cluster on loopback, in a temporary directory, for tests and benches.

Debian's ``postgresql`` package provides the binaries (``scripts/setup.sh test`` installs it).
initdb refuses to run as root, so as root the cluster runs as the ``postgres`` system user.

A server on PostgreSQL refuses to start without ``STORMCOM_DATA_KEYS`` (``server.db.encrypted``):
:func:`start_cluster` puts this run's :data:`DATA_KEY` in the process's environment unless one is
set, so in-process apps and child servers (which inherit the environment) have it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

DATA_KEY = Fernet.generate_key().decode()  # throwaway data: a fresh key per run


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for cand in reversed(candidates):
        if Path(cand, "initdb").exists():
            return Path(cand)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (no initdb). Run `make test`, which installs "
        "Debian's postgresql package, or `apt-get install postgresql`."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    root: Path
    port: int
    bindir: Path
    run_as: str | None

    superuser = "stormcom"

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql+psycopg://{user or self.superuser}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        data = self.root / "data"
        res = self._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            self.superuser,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
        )
        if res.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {res.stderr.strip() or res.stdout.strip()}")
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        res = self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if res.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise PostgresUnavailable(
                f"PostgreSQL did not start: {res.stderr.strip()} {log[-2000:]}"
            )

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={self.superuser} dbname=postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """Start a fresh cluster; raise PostgresUnavailable with the reason if it cannot start."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="stormcom-pg-"))
    run_as = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root but there is no 'postgres' user") from exc
        os.chown(root, pw.pw_uid, pw.pw_gid)
        root.chmod(0o700)
        run_as = "postgres"
    cluster = PgCluster(root=root, port=_free_port(), bindir=bindir, run_as=run_as)
    cluster.start()
    os.environ.setdefault("STORMCOM_DATA_KEYS", DATA_KEY)
    return cluster

"""Shared fixtures: a real PostgreSQL cluster (started once, on loopback) and per-test databases.

Database tests take the ``db_url`` fixture and run once per backend: SQLite and PostgreSQL.
``STORMCOM_TEST_BACKENDS=sqlite`` narrows that for a quick local run (CI never sets it). If
PostgreSQL cannot start, those tests error: they never skip.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import DATA_KEY, PgCluster, start_cluster

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One data key for every app, migration and child server of the run, on both backends (without
# it SQLite test databases would each make a key file and PostgreSQL would refuse to start).
os.environ["STORMCOM_DATA_KEYS"] = DATA_KEY

BACKENDS = [
    b for b in os.environ.get("STORMCOM_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]
_db_counter = itertools.count(1)
# A test that needs PostgreSQL itself (real concurrent writers, session settings) runs on it
# alone; skipped, saying why, only when STORMCOM_TEST_BACKENDS leaves PostgreSQL out.
postgresql_only = pytest.mark.parametrize("backend", [
    "postgresql" if "postgresql" in BACKENDS else pytest.param("postgresql", marks=pytest.mark.skip(
        reason="needs PostgreSQL, which STORMCOM_TEST_BACKENDS leaves out"))])


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the current backend, private to this test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{os.getpid()}_{next(_db_counter)}")

"""The sync soak (issue 6): many sales from several tills through random faults; 0 lost, 0
duplicated, and every invariant of tests/terminal/sync/invariants.py at the end.

Usage: .venv/bin/python bench/soak.py --seed N [--sales 10000] [--terminals 3]
                                      [--fault-rate 0.1] [--backend sqlite|postgresql]

The real server app runs in-process on an SQLite file (or a throwaway PostgreSQL cluster) with
the two test tenants; store A gets a small taxed catalog. Each till is the test harness's
``Till`` (its own SQLite file, a ``SyncEngine``, a ``ServerClient``) behind the one
fault-injecting transport (tests/terminal/sync/faults.py). A seeded RNG then, step by step,
picks a till and an action:

- a sale of a random basket (1-4 lines, 1-3 units; cash, or card now and then), and now and
  then a refund of one unit of an earlier sale, a pay-in, pay-out or drop, or a drawer close
  (and a new session);
- a sync, before which each fault is armed with probability ``--fault-rate``: a request
  dropped before the server, a response lost after it committed, a duplicated request, a 503,
  each on push or pull; and, rarer, the till killed inside its push (before or after the
  server handled it);
- now and then a server restart (a new app on the same database), and a till "killed" right
  after a local commit (its engine discarded and reopened from its file).

The server's clock moves a few seconds a step (so device tokens expire and are refreshed on
401). At the end the faults are cleared, every till syncs until quiet, and the invariants are
checked. Prints sales made, sales on the server, lost, duplicated, the faults injected by kind
and the wall time; the exit status is 1 if anything was lost or duplicated or an invariant
failed. ``run_soak`` is what tests/terminal/sync/test_soak.py runs (the short version in CI).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.clock import FakeClock  # noqa: E402
from server.config import Settings  # noqa: E402
from stormcom_pos.domain.enums import CashMovementType  # noqa: E402
from stormcom_pos.domain.errors import DomainError  # noqa: E402
from stormcom_pos.domain.sync_payloads import OrderSubmit  # noqa: E402
from tests.server.sync_fixtures import Catalog, seed_catalog  # noqa: E402
from tests.terminal.sync.faults import Killed  # noqa: E402
from tests.terminal.sync.invariants import Audit, audit  # noqa: E402
from tests.terminal.sync.server_harness import ServerHarness  # noqa: E402
from tests.terminal.sync.till import Till  # noqa: E402

PATHS = {"push": ("POST", "/sync/push"), "pull": ("GET", "/sync/pull")}
TRANSPORT_FAULTS = ("drop_request", "drop_response", "duplicate", "status")
QUIET_ROUNDS = 6


@dataclass(frozen=True)
class SoakConfig:
    seed: int = 1
    sales: int = 10_000
    terminals: int = 3
    fault_rate: float = 0.1
    variants: int = 12
    initial_stock: int = 1_000
    sync_every: float = 0.2  # chance that a step is a sync
    close_every: float = 0.003  # chance that a step closes the drawer (and opens a new one)


@dataclass
class SoakResult:
    config: SoakConfig
    audit: Audit
    faults: Counter[str] = field(default_factory=Counter)
    facts: Counter[str] = field(default_factory=Counter)
    syncs: int = 0
    wall_seconds: float = 0.0

    @property
    def lost(self) -> int:
        return len(self.audit.lost)

    @property
    def duplicated(self) -> int:
        return len(self.audit.duplicated)

    @property
    def ok(self) -> bool:
        return self.audit.ok

    def report(self) -> str:
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items())) or "none"
        facts = ", ".join(f"{k} {v}" for k, v in sorted(self.facts.items()))
        lines = [
            f"seed {self.config.seed}, {self.config.terminals} terminals, fault rate "
            f"{self.config.fault_rate}",
            f"sales made: {self.audit.sales_made}",
            f"sales on the server: {self.audit.sales_on_server}",
            f"lost: {self.lost}",
            f"duplicated: {self.duplicated}",
            f"other facts: {facts}",
            f"syncs: {self.syncs}",
            f"faults injected: {faults}",
            f"invariants: {'all hold' if self.ok else 'VIOLATED'}",
            f"wall time: {self.wall_seconds:.1f} s",
        ]
        if not self.ok:
            lines.append(self.audit.summary())
        return "\n".join(lines)


class Soak:
    """One soak run against a server harness; tills live in ``workdir``."""

    def __init__(self, server: ServerHarness, workdir: Path, config: SoakConfig,
                 progress: Callable[[str], None] | None = None) -> None:
        self.server, self.config, self.progress = server, config, progress
        self.rng = random.Random(config.seed)
        self.result = SoakResult(config, Audit())
        self.catalog: Catalog = seed_catalog(server.url, server.world.a.store_id,
                                             variants=config.variants,
                                             stock=config.initial_stock)
        self.tills = [Till(server, server.world.a, workdir / f"till{i + 1}.db")
                      for i in range(config.terminals)]
        self.sold: list[list[OrderSubmit]] = [[] for _ in self.tills]

    # ---- the run -----------------------------------------------------------------------------

    def run(self) -> SoakResult:
        started = time.perf_counter()
        for i in range(len(self.tills)):
            self._sync(i, faults=False)
            self.tills[i].open_drawer()
        made = 0
        while made < self.config.sales:
            self.server.clock.advance(seconds=self.rng.uniform(1, 12))
            i = self.rng.randrange(len(self.tills))
            roll = self.rng.random() - self.config.sync_every
            if roll < 0:
                self._sync(i, faults=True)
            elif roll < 0.03:
                self._refund(i)
            elif roll < 0.05:
                self._cash_move(i)
            elif roll < 0.05 + self.config.close_every:
                self.tills[i].close_drawer()
                self.tills[i].open_drawer(f"{self.rng.randint(50, 200)}.00")
                self.result.facts["drawer closes"] += 1
            else:
                self._sell(i)
                made += 1
                if self.progress and made % 1000 == 0:
                    self.progress(f"{made} sales, {sum(self.result.faults.values())} faults, "
                                  f"{time.perf_counter() - started:.0f} s")
            self._maybe_crash(i)
        self._quiesce()
        self.result.audit = audit(self.server.url, self.tills,
                                  initial_stock=self.config.initial_stock)
        self.result.wall_seconds = time.perf_counter() - started
        return self.result

    def close(self) -> None:
        for till in self.tills:
            till.close()

    # ---- facts -------------------------------------------------------------------------------

    def _sell(self, i: int) -> None:
        variants = self.rng.sample(self.catalog.variant_ids, self.rng.randint(1, 4))
        lines = [(v, self.rng.randint(1, 3)) for v in variants]
        sale = self.tills[i].sell(self.catalog, lines, card=self.rng.random() < 0.3)
        self.sold[i].append(sale)

    def _refund(self, i: int) -> None:
        if not self.sold[i]:
            return
        sale = self.rng.choice(self.sold[i][-200:])
        try:
            self.tills[i].refund(sale, self.rng.choice(sale.lines).id)
        except DomainError:
            return  # that line is refunded already: nothing recorded
        self.result.facts["refunds"] += 1

    def _cash_move(self, i: int) -> None:
        kind = self.rng.choice(list(CashMovementType))
        self.tills[i].cash_move(kind, Decimal(self.rng.randint(1, 20)))
        self.result.facts["cash moves"] += 1

    # ---- faults ------------------------------------------------------------------------------

    def _maybe_crash(self, i: int) -> None:
        """After a step's local commit: the till dies before it pushes, or the server restarts."""
        rate = self.config.fault_rate
        if self.rng.random() < rate / 20:
            self._reopen(i)
            self.result.faults["till killed after a local commit"] += 1
        if self.rng.random() < rate / 50:
            self.server.restart()
            self.result.faults["server restart"] += 1

    def _reopen(self, i: int) -> None:
        old = self.tills[i]
        self.tills[i] = old.reopen()
        old.client.close()

    def _arm(self) -> None:
        transport = self.server.transport
        for action in TRANSPORT_FAULTS:
            if self.rng.random() < self.config.fault_rate:
                method, path = PATHS[self.rng.choice(list(PATHS))]
                transport.add(action, method, path, skip=self.rng.randint(0, 2))  # type: ignore[arg-type]
        if self.rng.random() < self.config.fault_rate / 5:
            transport.add("kill", "POST", "/sync/push", skip=self.rng.randint(0, 1),
                          after=self.rng.random() < 0.5)

    def _sync(self, i: int, *, faults: bool) -> None:
        transport = self.server.transport
        if faults:
            self._arm()
        try:
            self.tills[i].engine.sync_once()
        except Killed:
            self._reopen(i)
        finally:
            transport.clear()
            self.result.faults.update(s.outcome for s in transport.sent
                                      if not s.outcome.isdigit())
            transport.sent.clear()  # bodies add up over thousands of pushes
            self.result.syncs += 1

    def _quiesce(self) -> None:
        """Faults healed: sync every till in turn until a whole round is clean, and then once
        more, so each cache has pulled the others' last pushes."""
        clean_rounds = 0
        for _ in range(QUIET_ROUNDS):
            clean = True
            for i, till in enumerate(self.tills):
                self.server.clock.advance(seconds=5)
                self._sync(i, faults=False)
                status = till.engine.status()
                clean = clean and status.pending == 0 and status.last_error is None
            clean_rounds = clean_rounds + 1 if clean else 0
            if clean_rounds == 2:
                return


def run_soak(server: ServerHarness, workdir: Path, config: SoakConfig,
             progress: Callable[[str], None] | None = None) -> SoakResult:
    """Run one soak on ``server``; returns the counts and the invariants' findings."""
    soak = Soak(server, workdir, config, progress)
    try:
        return soak.run()
    finally:
        soak.close()


# ---- command line -------------------------------------------------------------------------------


def _database(backend: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'server.db'}", lambda: None
    from tests.pgcluster import start_cluster

    cluster = start_cluster()
    return cluster.create_database("soak"), cluster.stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--sales", type=int, default=10_000)
    parser.add_argument("--terminals", type=int, default=3)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    from tests.server.conftest import TEST_BCRYPT_COST, _seed

    config = SoakConfig(seed=args.seed, sales=args.sales, terminals=args.terminals,
                        fault_rate=args.fault_rate)
    with tempfile.TemporaryDirectory(prefix="stormcom-soak-") as tmp:
        workdir = Path(tmp)
        url, stop = _database(args.backend, workdir)
        try:
            world = _seed(url)
            settings = Settings(database_url=url, bcrypt_cost=TEST_BCRYPT_COST)
            clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
            server = ServerHarness(settings, clock, world)
            result = run_soak(server, workdir, config,
                              progress=lambda line: print(line, flush=True))
            server.app.state.engine.dispose()
        finally:
            stop()
    print(f"backend: {args.backend}")
    print(result.report())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())

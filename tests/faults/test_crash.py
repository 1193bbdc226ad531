"""Worker crash: ``kill -9`` at seeded random points of a 100,000-event feed, restart, catch up;
every stored indicator equals the reference computed from the produced events.  Each run has
its own database and consumer group over the same topics."""
from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from tests.faults.harness import FaultRun, kill9
from tests.support import wait_for

pytestmark = pytest.mark.integration

SEED = 274


def _when(what: str, check: Callable[[], bool], timeout: float = 180, interval: float = 0.05) -> None:
    wait_for(check, timeout=timeout, interval=interval, what=what)


def _mid_write(run: FaultRun, share: float, total: int) -> str:
    """After ``share`` of the events are stored, the moment a batch transaction is open."""
    _when(f"{share:.0%} stored", lambda: run.stored() >= share * total)
    _when("a batch transaction open", run.writing, timeout=30, interval=0.002)
    return f"in a write transaction after {share:.0%}"


def _stored_share(run: FaultRun, share: float, total: int) -> str:
    _when(f"{share:.0%} stored", lambda: run.stored() >= share * total)
    return f"after {share:.0%} stored"


def _first_commit(run: FaultRun, total: int) -> str:
    _when("the first rows", lambda: run.stored() > 0)
    return "right after the first batch committed"


def _startup(delay: float) -> str:
    time.sleep(delay)
    return f"{delay:.1f} s after start"


#: run -> the kill points, each a function of (run, total events) that waits for its moment
PLANS: dict[str, Callable[[random.Random], list[Callable[[FaultRun, int], str]]]] = {
    "startup": lambda rng: [lambda run, n, d=rng.uniform(0.5, 3.0): _startup(d)],
    "first-commit": lambda rng: [_first_commit],
    "mid-write": lambda rng: [lambda run, n, s=rng.uniform(0.2, 0.6): _mid_write(run, s, n)],
    "random-share": lambda rng: [lambda run, n, s=rng.uniform(0.3, 0.9): _stored_share(run, s, n)],
    "twice-mid-write": lambda rng: [lambda run, n, s=rng.uniform(0.1, 0.4): _mid_write(run, s, n),
                                    lambda run, n, s=rng.uniform(0.5, 0.9): _mid_write(run, s, n)],
}


@pytest.mark.parametrize("plan", list(PLANS))
def test_worker_killed_mid_feed_loses_and_doubles_nothing(plan, private_stack, fixed_feed, fault_report,
                                                          tmp_path):
    exp = fixed_feed.expected
    run = FaultRun(private_stack, fixed_feed.settings, plan.replace("-", "_"), tmp_path)
    try:
        started = time.monotonic()
        worker = run.start_worker()
        kills = []
        for point in PLANS[plan](random.Random(f"{SEED}:{plan}")):
            where = point(run, exp.events)
            killed_at = kill9(worker)
            kills.append({"at": where, "stored": run.stored(), "s": round(killed_at - started, 1)})
            worker = run.start_worker()
        caught_up = run.wait_caught_up(exp.events)
        result = run.compare(exp)
        reread = run.query("SELECT sum(duplicates)::int FROM source_window")[0][0] - exp.duplicates
        fault_report.add("crash", run=plan, events=exp.events, kills=kills, lost=result.lost,
                         duplicated=result.duplicated, reread=reread, recovery_s=round(caught_up - killed_at, 1),
                         total_s=round(caught_up - started, 1))
        assert result.ok, f"after kills {kills}: {result}\n{run.log_tails()}"
    finally:
        run.close()

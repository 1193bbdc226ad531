"""Rebalance: a second worker joins mid-feed, then the first stops (SIGTERM, or SIGKILL as a
crash) in the middle of a write; partitions move each time, and nothing is lost or counted twice."""
from __future__ import annotations

import signal
import time

import pytest

from tests.faults.feed import FAMILIES
from tests.faults.harness import FaultRun, assignments, unstored
from tests.support import wait_for

pytestmark = pytest.mark.integration


def _owners(run: FaultRun, members: int) -> dict[str, list]:
    """Wait until ``members`` workers own partitions; returns member -> partitions."""
    def check():
        owned = {m: p for m, p in assignments(run.settings).items() if p}
        return owned if len(owned) == members else None

    try:
        return wait_for(check, timeout=60, interval=0.3, what=f"{members} workers owning partitions")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{run.log_tails()}") from None


def _catch_up(run: FaultRun, events: int, *, stall_s: float = 45) -> None:
    """Wait until every event is stored; fail, naming the partitions that hold unstored messages
    and their committed offsets, when nothing more is stored for ``stall_s``."""
    last, since = run.stored(), time.monotonic()
    while (now := run.stored()) < events:
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > stall_s:
            gaps = unstored(run, [run.settings.topic_prefix + f for f in FAMILIES])
            raise AssertionError(f"nothing stored for {stall_s:.0f} s at {now} of {events}; unstored messages "
                                 f"(a committed offset past 'first' is a loss): {gaps}\n{run.log_tails()}")
        time.sleep(0.2)


#: the workers' settings here: batches of at most 5 messages
SLOW = {"IOC_BATCH_MAX": "5"}


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_worker_joins_then_one_stops_mid_write(stop, private_stack, fixed_feed, fault_report, tmp_path):
    exp = fixed_feed.expected
    run = FaultRun(private_stack, fixed_feed.settings, f"rebalance_{stop.name.lower()}", tmp_path)
    try:
        started = time.monotonic()
        # small transactions (5 messages each): a worker drains the backlog in tens of seconds, not in the
        # few seconds a rebalance takes, so the second worker joins, and one stops, while there is work
        first = run.start_worker(**SLOW)
        alone = _owners(run, 1)
        wait_for(lambda: run.stored() >= 0.15 * exp.events, timeout=90, interval=0.1, what="15% stored")
        joined_at = time.monotonic()
        run.start_worker(**SLOW)
        shared = _owners(run, 2)
        shared_at, stored_shared = time.monotonic(), run.stored()
        target = min(stored_shared + 0.15 * exp.events, 0.85 * exp.events)
        wait_for(lambda: run.stored() >= target, timeout=90, interval=0.1, what="more stored by both")
        wait_for(run.writing, timeout=30, interval=0.002, what="a write transaction open")
        stopped_at, stored_stop = time.monotonic(), run.stored()
        first.stop(stop)
        stop_s = time.monotonic() - stopped_at
        remaining = _owners(run, 1)
        moved_at = time.monotonic()
        _catch_up(run, exp.events)
        caught_up = time.monotonic()
        result = run.compare(exp)
        fault_report.add(
            "rebalance", stop=stop.name, events=exp.events, lost=result.lost, duplicated=result.duplicated,
            partitions={"alone": [len(p) for p in alone.values()], "shared": sorted(len(p) for p in shared.values()),
                        "after_stop": [len(p) for p in remaining.values()]},
            join_at_stored=stored_shared, join_to_shared_s=round(shared_at - joined_at, 1),
            stop_at_stored=stored_stop, stop_exit_s=round(stop_s, 1), exit_code=first.proc.returncode,
            stop_to_moved_s=round(moved_at - stopped_at, 1), caught_up_s=round(caught_up - started, 1))
        assert result.ok, f"{result}\n{run.log_tails()}"
        assert sorted(p for ps in shared.values() for p in ps) == sorted(p for ps in alone.values() for p in ps)
        assert sorted(p for ps in remaining.values() for p in ps) == sorted(p for ps in alone.values() for p in ps)
    finally:
        run.close()

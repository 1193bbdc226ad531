"""Database outage: the private PostgreSQL stops for 60 s while a live feed flows.

The worker holds what it cannot write and reads no further (its committed offsets stay where
the writes stopped while the feed's end moves on), says so (``ioc_sink_up`` 0, ``ioc_sink_errors``,
a log line, the wall's banner reason ``db_unreachable``), survives a graceful restart in the
middle of the outage, and catches up afterwards with nothing lost.
"""
from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest

from ioc_dash.figures import freshness
from ioc_dash.repository import Repository, SnapshotCache
from tests.faults.feed import FAMILIES
from tests.deploy.support import scrape, total
from tests.faults.harness import FaultRun, LiveFeed, committed, end_offsets, kafka_python_send, live_feed
from tests.faults.reference import when
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration

OUTAGE_S = 60
FEED_S = 80  # the live feed's length; the outage starts about 10 s in
RATE = 350  # events per second


def _banner(dsn: str) -> str | None:
    repo = Repository(dsn)
    try:
        return freshness(SnapshotCache(repo.snapshot, 0).get(), stale_after=timedelta(seconds=60)).reason
    finally:
        repo.close()


def _lag(settings, topics) -> int:
    ends, done = end_offsets(settings, topics), committed(settings)
    return sum(end - done.get(tp, 0) for tp, end in ends.items())


def test_database_outage_holds_the_feed_and_loses_nothing(private_stack, fault_report, tmp_path):
    base, feed, exp = live_feed(private_stack, "outage", rate=RATE, seconds=FEED_S)
    topics = [base.topic_prefix + f for f in FAMILIES]
    run = FaultRun(private_stack, base, "outage", tmp_path)
    ports = [free_port(), free_port()]
    timeline: dict[str, float] = {}
    try:
        first = run.start_worker(IOC_METRICS_PORT=str(ports[0]))
        send = kafka_python_send(base)
        live = LiveFeed(feed, send)
        live.warm_up(run, 10)

        stored_before = run.stored()
        private_stack.run("stop", "postgres")
        down = time.monotonic()
        timeline["db_down_s"] = down - live.started_at
        metrics = wait_for(lambda: (m := scrape(ports[0])) and m.get(("ioc_sink_up", ())) == 0 and m, timeout=30,
                           interval=0.1, what="ioc_sink_up 0")
        timeline["reported_s"] = time.monotonic() - down
        sink_errors = total(metrics, "ioc_sink_errors_total")
        time.sleep(max(0.0, down + 3 - time.monotonic()))  # offsets of batches written before the stop
        frozen, lag_start = committed(run.settings), _lag(run.settings, topics)
        banner = _banner(run.settings.dsn)

        time.sleep(max(0.0, down + OUTAGE_S / 3 - time.monotonic()))
        restarted = time.monotonic()
        # a deploy during the outage: the held batches must survive, and the new worker, which cannot
        # reach the database for longer than its first connection attempt waits, must write once it is back
        first.stop(signal.SIGTERM)
        timeline["sigterm_exit_s"] = time.monotonic() - restarted
        second = run.start_worker(IOC_METRICS_PORT=str(ports[1]))

        time.sleep(max(0.0, down + OUTAGE_S - time.monotonic()))
        second.proc.send_signal(signal.SIGSTOP)  # no write may slip in between the restart and the check
        try:
            at_end, lag_end = committed(run.settings), _lag(run.settings, topics)
            private_stack.run("start", "postgres")
            up = time.monotonic()
            timeline["outage_s"] = up - down
            keys = run.stored_keys()
        finally:
            second.proc.send_signal(signal.SIGCONT)
        unwritten = []  # events of messages below the committed offsets that are not in the database
        for (_, events), future in zip(feed.decoded(), list(live.results)):
            meta = future.get(timeout=30)
            if meta.offset < at_end.get((meta.topic, meta.partition), 0):
                unwritten += [e["id"] for e in events if (e["id"], when(e["dateObserved"])) not in keys]

        wait_for(lambda: run.stored() > len(keys), timeout=60, interval=0.2, what="writes after the outage")
        timeline["first_write_after_s"] = time.monotonic() - up
        live.finish()
        send.producer.flush()
        caught_up = run.wait_caught_up(exp.events)
        timeline["caught_up_after_s"] = caught_up - up
        wait_for(lambda: _banner(run.settings.dsn) is None, timeout=30, what="the wall's banner to clear")
        result = run.compare(exp)
        log = (tmp_path / "worker-0.log").read_text(errors="replace")
        fault_report.add(
            "outage", events=exp.events, stored_before=stored_before, lag_at_start=lag_start, lag_at_end=lag_end,
            sink_errors=sink_errors, banner=banner, unwritten_below_committed=len(unwritten),
            lost=result.lost, duplicated=result.duplicated, **{k: round(v, 1) for k, v in timeline.items()})

        assert banner == "db_unreachable"
        assert metrics[("ioc_sink_up", ())] == 0 and sink_errors > 0
        assert "database unavailable, holding" in log
        assert at_end == frozen, "committed offsets moved while nothing could be written"
        assert lag_end > lag_start, "the feed's end did not move away from the held offsets"
        assert not unwritten, f"{len(unwritten)} events below the committed offsets were not stored"
        assert result.ok, f"{result}\n{run.log_tails()}"
    finally:
        run.close()

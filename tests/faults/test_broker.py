"""Broker restart: the private Kafka stops and starts while a live feed flows; the project's
producer (``KafkaSender``, what ``ioc simulate`` uses) and the worker reconnect; nothing is lost."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from simulators.kafka import KafkaSender
from streams.metrics import SimulatorMetrics
from tests.faults.harness import FaultRun, LiveFeed, live_feed
from tests.support import wait_for

pytestmark = pytest.mark.integration

FEED_S = 30
RATE = 1000


def test_broker_restart_loses_nothing(private_stack, fault_report, tmp_path):
    base, feed, exp = live_feed(private_stack, "broker", rate=RATE, seconds=FEED_S)
    run = FaultRun(private_stack, base, "broker", tmp_path)
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    try:
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, 8)
        stored_before = run.stored()
        down = time.monotonic()
        stop_s = private_stack.run("stop", "kafka")
        start_s = private_stack.run("start", "kafka")
        up = time.monotonic()
        # the first event produced after the broker was back, stored: producer and worker reconnected
        after = feed.start + timedelta(seconds=up - live.started_at + 1)
        wait_for(lambda: (run.query("SELECT max(time) FROM health_event")[0][0] or after) > after, timeout=90,
                 interval=0.2, what="an event produced after the restart to be stored")
        resumed = time.monotonic()
        live.finish()
        sender.flush(60)
        caught_up = run.wait_caught_up(exp.events, timeout=120)
        result = run.compare(exp)
        fault_report.add("broker", events=exp.events, stored_before=stored_before, stop_s=round(stop_s, 1),
                         start_s=round(start_s, 1), broker_down_s=round(up - down, 1),
                         resumed_after_s=round(resumed - up, 1), caught_up_after_s=round(caught_up - up, 1),
                         producer_errors=sender.errors, worker_restarts=len(run.workers) - 1,
                         lost=result.lost, duplicated=result.duplicated)
        assert sender.errors == 0, "the producer gave up on messages while the broker restarted"
        assert worker.alive(), run.log_tails()
        assert result.ok, f"{result}\n{run.log_tails()}"
    finally:
        sender.close()
        run.close()

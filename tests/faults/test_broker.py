"""Broker restart: the private Kafka stops and starts while a live feed flows; the project's
producer (``KafkaSender``, what ``ioc simulate`` uses) and the worker reconnect; nothing is lost.

On a loaded machine the broker can take longer to start again than the feed has left to run
(17 s instead of 4 s has been seen): the event waited for is the first one due after the broker
was back, or, when the feed ended before that, its last one (sent while the broker was down:
only the reconnected producer can have delivered it).  Every wait lasts as long as the stored
count grows, not for a fixed time."""
from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from simulators.kafka import KafkaSender
from streams.core.metrics import SimulatorMetrics
from tests.faults.feed import Feed
from tests.faults.harness import FaultRun, LiveFeed, live_feed
from tests.faults.reference import when

pytestmark = pytest.mark.integration

FEED_S = 30
RATE = 1000


def _first_health_event_after(feed: Feed, seconds: float) -> tuple[datetime, bool]:
    """The time of the feed's first health event due ``seconds`` after its start, and True; or, when
    the feed ends before then, its last health event's time and False."""
    after = feed.start + timedelta(seconds=seconds)
    times = sorted(when(e["dateObserved"]) for family, events in feed.decoded() if family == "health"
                   for e in events)
    later = [t for t in times if t > after]
    return (later[0], True) if later else (times[-1], False)


def test_broker_restart_loses_nothing(private_stack, fault_report, tmp_path):
    base, feed, exp = live_feed(private_stack, "broker", rate=RATE, seconds=FEED_S)
    run = FaultRun(private_stack, base, "broker", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    try:
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, 8)
        stored_before = run.stored()
        watch.start()
        down = time.monotonic()
        stop_s = private_stack.run("stop", "kafka")
        start_s = private_stack.run("start", "kafka")
        up = time.monotonic()
        # the first event produced after the broker was back, stored: producer and worker reconnected
        target, produced_after = _first_health_event_after(feed, up - live.started_at + 1)
        newest = "SELECT coalesce(max(time) >= %s, false) FROM health_event"
        resumed = run.wait_stored(lambda _: run.query(newest, (target,))[0][0], stall=120,  # rejoining first
                                  what=f"the health event of {target.isoformat()} to be stored")
        live.finish()
        sender.flush(120)
        caught_up = run.wait_caught_up(exp.events)
        run.conclude(fault_report, "broker", exp, worker, sender=sender, fault_at=down, stored_before=stored_before,
                     stop_s=round(stop_s, 1), start_s=round(start_s, 1), broker_down_s=round(up - down, 1),
                     resumed_after_s=round(resumed - up, 1), resumed_on="the first event due after the restart"
                     if produced_after else "the feed's last event (due while the broker was down)",
                     caught_up_after_s=round(caught_up - up, 1))
    finally:
        sender.close()
        run.close()

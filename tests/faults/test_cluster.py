"""The partition leader killed: a private three-node Kafka cluster with production replication
(three replicas, ``min.insync.replicas=2``, no unclean leader election) loses, to SIGKILL, the
broker that leads most of the feed's partitions while a live feed flows.

The controller fences the dead broker once its session times out and makes in-sync followers the
leaders of its partitions; the project's producer (``KafkaSender``: ``acks=all``, idempotent)
retries into them, the worker fetches from them (and finds its group coordinator again when that
lived on the dead broker).  The feed goes on throughout; at the end the database holds the
reference exactly: nothing lost, nothing doubled.

The same cluster also has a broker frozen with SIGSTOP past its session timeout, and a rolling
restart of all three brokers, under live feeds.

"Writes resumed" is measured on the dead broker's own partitions: the first message due a second
after the kill that the producer's partitioner sends to one of them, stored."""
from __future__ import annotations

import math
import os
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry
from psycopg import sql

from simulators.kafka import KafkaSender
from streams.core.metrics import SimulatorMetrics
from streams.core.settings import Settings
from tests.faults.feed import FAMILIES, Feed
from tests.faults.harness import FaultRun, LiveFeed, live_feed
from tests.faults.reference import RAW_TABLES, when
from tests.support import wait_for

pytestmark = pytest.mark.integration

FEED_S = 40
RATE = 800
KILL_AT_S = 10  # seconds into the feed

TopicPartition = tuple[str, int]


class Leaders:
    """Who leads the feed topics' partitions, asked of whichever broker answers."""

    def __init__(self, settings: Settings) -> None:
        from kafka import KafkaAdminClient

        self.topics = [settings.topic_prefix + f for f in FAMILIES]
        self.admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers, client_id="ioc-faults-cluster",
                                      request_timeout_ms=5000)

    def __call__(self) -> dict[TopicPartition, tuple[int, list[int]]]:
        """(topic, partition) -> (leader node, in-sync replicas); leader -1 while there is none."""
        return {(d.get("name") or d["topic"], p["partition_index"]): (p["leader_id"], sorted(p["isr_nodes"]))
                for d in self.admin.describe_topics(self.topics) for p in d["partitions"]}

    def close(self) -> None:
        self.admin.close()


def busiest(leaders: dict[TopicPartition, tuple[int, list[int]]]) -> tuple[int, set[TopicPartition]]:
    """The node leading the most partitions, and those partitions."""
    led: dict[int, set[TopicPartition]] = {}
    for tp, (leader, _) in leaders.items():
        led.setdefault(leader, set()).add(tp)
    node = max(led, key=lambda n: (len(led[n]), -n))
    return node, led[node]


def partition_of(key: str, partitions: int) -> int:
    """The partition kafka-python's default partitioner gives a key (murmur2, as the Java client)."""
    from kafka.partitioner.default import murmur2

    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def first_event_on(feed: Feed, prefix: str, partitions: set[TopicPartition], counts: dict[str, int],
                   after_tick: int) -> tuple[str, str, datetime, bool]:
    """(family, id, time, True) of the first event of the first message due after ``after_tick`` that
    goes to one of ``partitions``; when the feed ends before, the last such message's, and False."""
    import orjson

    found = None
    for (family, key, value), tick in zip(feed.messages, feed.ticks):
        topic = prefix + family
        if (topic, partition_of(key, counts[topic])) in partitions:
            found = family, value, tick
            if tick > after_tick:
                break
    assert found, "no message of the feed goes to the dead broker's partitions"
    family, value, tick = found
    doc = orjson.loads(value)
    event = doc[0] if isinstance(doc, list) else doc
    return family, event["id"], when(event["dateObserved"]), tick > after_tick


def lag(run: FaultRun, feed: Feed, live: LiveFeed) -> float:
    """Seconds between the health events due now and the newest one stored."""
    newest = run.query("SELECT max(time) FROM health_event")[0][0] or feed.start
    return time.monotonic() - live.started_at - (newest - feed.start).total_seconds()


def near_live_edge(run: FaultRun, feed: Feed, live: LiveFeed, *, within: float = 20) -> float:
    """Wait, ``within`` seconds at most, for the worker to store events due two seconds ago: not still
    working off the feed's start, the time until writes resume is then the failover's, not a
    backlog's.  A worker too slow for that (a loaded machine) is measured as it is: returns the lag."""
    deadline = time.monotonic() + within
    while (behind := lag(run, feed, live)) > 2 and time.monotonic() < deadline:
        time.sleep(0.25)
    return behind


def test_the_partition_leader_killed_loses_nothing(cluster_stack, fault_report, tmp_path):
    base, feed, exp = live_feed(cluster_stack, "cluster", rate=RATE, seconds=FEED_S)
    run = FaultRun(cluster_stack, base, "cluster", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    leaders = Leaders(base)
    try:
        before = leaders()
        assert all(len(isr) == 3 for _, isr in before.values()), f"not every replica in sync: {before}"
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, KILL_AT_S)
        behind = near_live_edge(run, feed, live)
        node, led = busiest(leaders())
        stored_before = run.stored()
        watch.start()
        os.kill(cluster_stack.kafka_pid(node), signal.SIGKILL)
        killed = time.monotonic()

        # new leaders, all in sync, none of them the dead node (no unclean election: an in-sync follower)
        def moved() -> bool:
            try:
                now = leaders()
            except KafkaError:  # asked the dead broker: the next call asks another
                return False
            return all(now[tp][0] not in (node, -1) and now[tp][0] in before[tp][1] for tp in led)

        wait_for(moved, timeout=120, interval=0.25, what=f"new leaders of the {len(led)} partitions node {node} led")
        failover = time.monotonic()
        assert all(node not in isr for tp, (_, isr) in leaders().items() if tp in led)

        counts = {t: sum(1 for (topic, _) in before if topic == t) for t in leaders.topics}
        family, event_id, at, after = first_event_on(feed, base.topic_prefix, led, counts,
                                                     math.ceil(killed - live.started_at) + 1)
        table = RAW_TABLES[family]
        present = sql.SQL("SELECT count(*) FROM {} WHERE id = %s AND time = %s").format(sql.Identifier(table))
        resumed = run.wait_stored(lambda _: run.query(present, (event_id, at))[0][0] > 0, stall=120,
                                  what=f"the {family} event {event_id} of {at.isoformat()} (on node {node}'s partitions)")
        live.finish()
        sender.flush(120)
        caught_up = run.wait_caught_up(exp.events)
        run.conclude(fault_report, "cluster", exp, worker, sender=sender, fault_at=killed, brokers=3, replicas=3,
                     min_insync=2, messages=len(feed.messages), rate=RATE, feed_s=FEED_S, stored_before=stored_before,
                     lag_at_kill_s=round(behind, 1), resumed_on="the first message due a second after the kill"
                     if after else "the last message to those partitions (none was due after the kill)",
                     killed_node=node, partitions_led=f"{len(led)} of {len(before)}",
                     new_leaders_after_s=round(failover - killed, 1), resumed_after_s=round(resumed - killed, 1),
                     caught_up_after_s=round(caught_up - killed, 1))
    finally:
        leaders.close()
        sender.close()
        run.close()


def all_in_sync(leaders: Leaders) -> bool:
    try:
        return all(leader != -1 and len(isr) == 3 for leader, isr in leaders().values())
    except KafkaError:  # asked a broker that is away: the next call asks another
        return False


def test_a_broker_frozen_longer_than_its_session_loses_nothing(cluster_stack, fault_report, tmp_path):
    """SIGSTOP, as a broker stuck in a long GC pause or a frozen VM: it does not die, its sockets
    stay open and it answers nothing.  The controllers fence it after the session timeout and its
    partitions get new leaders; the producer's and the worker's requests to it time out and go to
    them.  SIGCONT: it finds itself fenced, catches up and rejoins the in-sync replicas."""
    cluster_stack.run("start", "kafka")  # the node an earlier test killed, back
    base, feed, exp = live_feed(cluster_stack, "frozen", rate=RATE, seconds=FEED_S)
    run = FaultRun(cluster_stack, base, "frozen", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    leaders = Leaders(base)
    node = pid = None
    try:
        wait_for(lambda: all_in_sync(leaders), timeout=120, interval=0.5, what="every replica in sync")
        before = leaders()
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, KILL_AT_S)
        behind = near_live_edge(run, feed, live)
        node, led = busiest(before)
        pid = cluster_stack.kafka_pid(node)
        watch.start()
        os.kill(pid, signal.SIGSTOP)
        frozen = time.monotonic()

        def moved() -> bool:
            try:
                now = leaders()
            except KafkaError:
                return False
            return all(now[tp][0] not in (node, -1) for tp in led)

        wait_for(moved, timeout=120, interval=0.25, what=f"new leaders of the {len(led)} partitions node {node} led")
        failover = time.monotonic()
        os.kill(pid, signal.SIGCONT)
        thawed = time.monotonic()
        pid = None
        wait_for(lambda: all_in_sync(leaders), timeout=180, interval=0.5,
                 what=f"node {node} back among the in-sync replicas")
        rejoined = time.monotonic()
        live.finish()
        sender.flush(180)
        caught_up = run.wait_caught_up(exp.events, stall=120)
        run.conclude(fault_report, "cluster", exp, worker, sender=sender, fault_at=frozen,
                     fault="broker frozen (SIGSTOP) past its session timeout", brokers=3,
                     messages=len(feed.messages), rate=RATE, feed_s=FEED_S, lag_at_freeze_s=round(behind, 1),
                     frozen_node=node, partitions_led=f"{len(led)} of {len(before)}",
                     new_leaders_after_s=round(failover - frozen, 1), frozen_s=round(thawed - frozen, 1),
                     in_sync_again_after_thaw_s=round(rejoined - thawed, 1),
                     caught_up_after_s=round(caught_up - frozen, 1))
    finally:
        if pid is not None:
            os.kill(pid, signal.SIGCONT)
        leaders.close()
        sender.close()
        run.close()


def exited(pid: int) -> bool:
    """The process is gone (a zombie not yet reaped counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z")
    except FileNotFoundError:
        return True


def test_a_rolling_restart_of_every_broker_loses_nothing(cluster_stack, fault_report, tmp_path):
    """An upgrade's rolling restart under a live feed: each broker in turn stopped cleanly (SIGTERM:
    it hands its partitions over at once), started again and waited for until every replica is in
    sync, before the next."""
    seconds, rate = 50, 600  # the three restarts take 35–45 s: all of them under the feed
    cluster_stack.run("start", "kafka")
    base, feed, exp = live_feed(cluster_stack, "rolling", rate=rate, seconds=seconds)
    run = FaultRun(cluster_stack, base, "rolling", tmp_path)
    watch = run.watched()
    sender = KafkaSender(base, SimulatorMetrics(CollectorRegistry()))
    leaders = Leaders(base)
    try:
        wait_for(lambda: all_in_sync(leaders), timeout=120, interval=0.5, what="every replica in sync")
        worker = run.start_worker()
        live = LiveFeed(feed, sender)
        live.warm_up(run, 5)
        watch.start()
        first = time.monotonic()
        restarts = []
        for node in range(1, cluster_stack.nodes + 1):
            pid = cluster_stack.kafka_pid(node)
            started = time.monotonic()
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: exited(pid), timeout=120, interval=0.25, what=f"node {node} to stop")
            stopped = time.monotonic()
            cluster_stack.run("start", "kafka")
            wait_for(lambda: all_in_sync(leaders), timeout=180, interval=0.5,
                     what=f"node {node} back among the in-sync replicas")
            restarts.append({"node": node, "stopped_s": round(stopped - started, 1),
                             "in_sync_after_s": round(time.monotonic() - started, 1),
                             "into_feed_s": round(started - live.started_at, 1)})
        live.finish()
        sender.flush(180)
        caught_up = run.wait_caught_up(exp.events, stall=120)
        run.conclude(fault_report, "cluster", exp, worker, sender=sender, fault_at=first,
                     fault="rolling restart of the three brokers", brokers=3, messages=len(feed.messages), rate=rate,
                     feed_s=seconds, restarts=restarts, caught_up_after_last_restart_s=round(caught_up - started, 1))
    finally:
        leaders.close()
        sender.close()
        run.close()

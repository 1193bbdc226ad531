"""Fixtures of the fault tests: a private stack, and a fixed feed produced to it once.

These tests kill workers and stop the database and the broker (or one of three), so they never use the shared
stack of the other tests (``tests/conftest.py``): ``deploy/stack.sh`` starts a second Kafka and
PostgreSQL for the session with their own ``IOC_RUN_DIR`` and free ports, and stops them at the
end.  Each run then gets a fresh database and consumer group over the same topics.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest

from streams.core.geography import load_province
from streams.kafka.admin import create_topics
from streams.core.settings import Settings
from tests.faults.feed import Feed, build_feed
from tests.faults.harness import PrivateStack, Report, produce
from tests.faults.reference import Expected, expected

FEED_EVENTS = 100_000


def _started(nodes: int, *, standby: bool = False) -> PrivateStack:
    PrivateStack.reap_stale()
    for attempt in range(3):  # another session may have taken the same ports a moment earlier
        stack = PrivateStack.create(nodes, standby=standby)
        try:
            stack.start()
            return stack
        except RuntimeError as exc:
            stack.stop()
            if attempt == 2 or "used by another process" not in str(exc):
                pytest.fail(f"private stack did not start: {exc}", pytrace=False)
    raise AssertionError("unreachable")


@pytest.fixture(scope="session")
def private_stack():
    stack = _started(1)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def cluster_stack():
    """A private stack whose Kafka is a three-node cluster; only for the module that asks for it
    (three more JVMs on a small machine)."""
    stack = _started(3)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def standby_stack():
    """A private stack whose PostgreSQL has a synchronous standby and a WAL archive; only for the
    module that asks for it."""
    stack = _started(1, standby=True)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def fault_report():
    report = Report()
    yield report
    report.write()


@dataclass(frozen=True)
class ProducedFeed:
    settings: Settings  # of the topics it was produced to
    feed: Feed
    expected: Expected


@pytest.fixture(scope="session")
def fixed_feed(private_stack, fault_report) -> ProducedFeed:
    """The deterministic mixed feed of ~100,000 events, in the private stack's ``feed.*`` topics."""
    import time

    settings = private_stack.settings(topic_prefix="feed.")
    create_topics(settings, log_fn=lambda *_: None)
    feed = build_feed(load_province(settings.province_file), events=FEED_EVENTS, end=datetime.now(timezone.utc))
    started = time.monotonic()
    produce(settings, feed.messages)
    produce_s = time.monotonic() - started
    exp = expected(feed.decoded())
    fault_report.add("feed", events=exp.events, copies=exp.duplicates, messages=len(feed.messages),
                     arrays=feed.arrays, produce_s=round(produce_s, 1))
    return ProducedFeed(settings, feed, exp)

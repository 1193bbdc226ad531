"""Prometheus metrics, defined in one place and bound to a registry.

Entry points (``ioc worker``, ``ioc simulate``, ``ioc alerts run``, ``ioc notify run``) create the
registry and start the HTTP server; tests pass a fresh ``CollectorRegistry()`` and read ``get_sample_value``.
"""
from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import count, repeat
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


def observe_all(child: Any, values: Iterable[float]) -> None:
    """Observes every value in a histogram's child (``histogram.labels(…)``), as ``observe`` would one
    by one, with one addition per bucket and one to the sum: a batch of 10,000 delays costs 10,000
    bisections, not 20,000 locked additions.  A client without the buckets it relies on gets the
    values one by one."""
    bounds, buckets, total = getattr(child, "_upper_bounds", None), getattr(child, "_buckets", None), \
        getattr(child, "_sum", None)
    if bounds is None or buckets is None or total is None or len(bounds) != len(buckets):
        for value in values:
            child.observe(value)
        return
    values = values if isinstance(values, (list, tuple)) else list(values)
    # the first bucket whose bound is ≥ the value, counted at C speed
    for index, n in Tally(map(bisect_left, repeat(bounds, len(values)), values)).items():
        buckets[index].inc(n)
    total.inc(sum(values))


class InFlight:
    """The writes in progress: their start times, and how long the oldest one has been waiting (a
    gauge reads it when scraped).  A write that hangs without failing (a commit waiting for a lost
    synchronous standby, a lock) shows here, where no error counter moves."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._started: dict[int, float] = {}
        self._ids = count()

    @contextmanager
    def write(self) -> Iterator[None]:
        key = next(self._ids)
        self._started[key] = self.clock()
        try:
            yield
        finally:
            del self._started[key]

    def oldest_age(self) -> float:
        """Seconds the oldest write in progress has been waiting; 0 when none is.  Called from the
        metrics server's thread while the event loop adds and removes writes: one C-level ``min``
        over the values, never a check and then a read."""
        oldest = min(self._started.values(), default=None)
        return 0.0 if oldest is None else max(0.0, self.clock() - oldest)


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.messages_in = Counter(
            "ioc_messages_in", "Kafka messages consumed", ["topic"], registry=registry
        )
        self.events_in = Counter("ioc_events_in", "events decoded from Kafka messages", ["topic"], registry=registry)
        self.events_fresh = Counter(
            "ioc_events_fresh", "events written for the first time", ["topic"], registry=registry
        )
        self.events_duplicate = Counter(
            "ioc_events_duplicate", "events already stored (replays, re-sends)", ["topic"], registry=registry
        )
        self.dead_letters = Counter(
            "ioc_dead_letters", "events sent to the dead-letter topic", ["topic", "reason"], registry=registry
        )
        self.rows_written = Counter("ioc_rows_written", "rows written to TimescaleDB", ["table"], registry=registry)
        self.write_seconds = Histogram(
            "ioc_write_seconds", "time to write one batch to TimescaleDB", ["topic"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.batch_seconds = Histogram(
            "ioc_batch_seconds", "time to process one batch (decode, write, dead-letter)", ["topic"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.event_delay = Histogram(
            "ioc_event_delay_seconds", "from event time to its rows committed", ["topic"],
            buckets=LATENCY_BUCKETS, registry=registry,
        )
        self.sink_errors = Counter(
            "ioc_sink_errors", "failed batch writes", ["topic", "kind"], registry=registry
        )
        self.sink_up = Gauge("ioc_sink_up", "1 when the last write to TimescaleDB succeeded", registry=registry)
        self.writes = InFlight()
        self.write_waiting = Gauge(
            "ioc_sink_write_waiting_seconds", "how long the oldest write to TimescaleDB in progress has been "
            "waiting (0: none in progress)", registry=registry)
        self.write_waiting.set_function(self.writes.oldest_age)
        self.consumer_lag = Gauge(
            "ioc_consumer_lag", "messages behind the end of the partition", ["topic", "partition"], registry=registry
        )
        self.findings = Counter(
            "ioc_security_findings", "findings written by the security detectors", ["kind", "severity"],
            registry=registry,
        )
        self.last_event_time = Gauge(
            "ioc_last_event_timestamp_seconds", "event time of the newest event written", ["topic"], registry=registry
        )
        self.dead_letter_references = Counter(
            "ioc_dead_letter_references", "dead letters too large for the dead-letter topic, sent as a reference "
            "(size, SHA-256, first KiB)", ["reason"], registry=registry,
        )
        self.dead_letter_errors = Counter(
            "ioc_dead_letter_errors", "failed sends to the dead-letter topic (too_large: re-sent as a reference; "
            "unavailable: retried)", ["kind"], registry=registry,
        )
        self.agent_crashes = Counter(
            "ioc_agent_crashes", "exceptions that ended an ingest agent (Faust restarts it)", ["agent"],
            registry=registry,
        )
        self.degraded = Gauge(
            "ioc_worker_degraded", "1 while an agent of this worker crashed within IOC_AGENT_DEGRADED_S",
            registry=registry,
        )
        self.detect_seconds = Histogram(
            "ioc_detect_seconds", "time of one run of the security detectors (reads and findings saved)",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30), registry=registry,
        )
        self.detect_deferred = Counter(
            "ioc_detect_deferred", "ticks of the detectors' timer skipped because the last run was long "
            "(IOC_DETECT_MAX_SHARE)", registry=registry,
        )
        self.rollup_seconds = Histogram(
            "ioc_rollup_seconds", "time of one run of the rollup job (hourly and daily rollups brought up to date)",
            buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120), registry=registry,
        )


class SimulatorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_sent = Counter("ioc_sim_events_sent", "events produced", ["family"], registry=registry)
        self.messages_sent = Counter("ioc_sim_messages_sent", "Kafka messages produced", ["family"], registry=registry)
        self.send_errors = Counter("ioc_sim_send_errors", "failed sends", ["family"], registry=registry)


class AlertMetrics:
    """The alert engine's rounds (``ioc alerts run``)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.rounds = Counter("ioc_alert_rounds", "evaluation rounds", ["outcome"], registry=registry)
        self.firing = Gauge("ioc_alerts_firing", "alerts firing after the last round", registry=registry)
        self.rules_valid = Gauge("ioc_alert_rules_valid", "1 when the rule files loaded without error",
                                 registry=registry)


class NotifyMetrics:
    """Delivery of notifications (per channel) and the layer-4 link to the upstream SOC."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.sent = Counter("ioc_notify_sent", "notifications delivered", ["channel"], registry=registry)
        self.errors = Counter(
            "ioc_notify_errors", "failed delivery attempts (retried later)", ["channel"], registry=registry
        )
        self.failed = Counter(
            "ioc_notify_failed", "notifications given up (attempts or age exhausted, or rejected)", ["channel"],
            registry=registry,
        )
        self.latency = Histogram(
            "ioc_notify_latency_seconds", "from the outbox row's creation to its delivery", ["channel"],
            buckets=LATENCY_BUCKETS + (600, 1800, 3600), registry=registry,
        )
        self.backlog = Gauge("ioc_notify_backlog", "notifications waiting to be delivered", ["channel"],
                             registry=registry)
        self.resent = Counter("ioc_alertmanager_resent", "alerts re-sent to Alertmanager", registry=registry)
        self.soc_up = Gauge("ioc_soc_link_up", "1 when the last exchange with the upstream SOC succeeded",
                            registry=registry)
        self.soc_last_success = Gauge(
            "ioc_soc_last_success_timestamp_seconds", "time of the last successful exchange with the upstream SOC",
            registry=registry,
        )
        self.soc_backlog = Gauge("ioc_soc_backlog", "security findings not yet forwarded upstream", registry=registry)
        self.soc_forwarded = Counter("ioc_soc_forwarded", "security findings forwarded upstream", registry=registry)
        self.soc_errors = Counter("ioc_soc_errors", "failed exchanges with the upstream SOC", registry=registry)


def serve(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> None:
    """Expose ``/metrics`` for ``registry`` (no-op when port is 0)."""
    if port:
        start_http_server(port, addr=host, registry=registry)

"""Prometheus metrics, defined in one place and bound to a registry.

Entry points (``ioc worker``, ``ioc simulate``, ``ioc dash``) create the registry and start
the HTTP server; tests pass a fresh ``CollectorRegistry()`` and read ``get_sample_value``.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)


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
        self.consumer_lag = Gauge(
            "ioc_consumer_lag", "messages behind the end of the partition", ["topic", "partition"], registry=registry
        )
        self.last_event_time = Gauge(
            "ioc_last_event_timestamp_seconds", "event time of the newest event written", ["topic"], registry=registry
        )


class SimulatorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.events_sent = Counter("ioc_sim_events_sent", "events produced", ["family"], registry=registry)
        self.messages_sent = Counter("ioc_sim_messages_sent", "Kafka messages produced", ["family"], registry=registry)
        self.send_errors = Counter("ioc_sim_send_errors", "failed sends", ["family"], registry=registry)


def serve(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> None:
    """Expose ``/metrics`` for ``registry`` (no-op when port is 0)."""
    if port:
        start_http_server(port, addr=host, registry=registry)

"""Service-health indicators: pure functions from events to window increments.

A batch of fresh events (already de-duplicated by the sink) becomes one increment per
(system, endpoint, window size, window start).  Increments add up in the database, so the
result does not depend on how the stream was cut into batches, nor on which worker saw
which partition.  Ratios and quantiles are computed when read (``health_status``).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agents import sketch
from agents.windows import window_start
from streams.events import Event
from streams.events.health import RequestLog, ServiceProbe
from streams.sinks.base import CounterTable, FeedSpec, Increments, RawTable, States

WINDOWS_S: tuple[int, ...] = (10, 60)
ALL_ENDPOINTS = "*"

@dataclass(slots=True)
class HealthIncrement:
    system: str
    endpoint: str
    window_s: int
    bucket: datetime
    probes: int = 0
    probes_ok: int = 0
    requests: int = 0
    errors: int = 0
    latency_hist: list[int] = field(default_factory=sketch.empty)
    last_event: datetime | None = None

    @property
    def key(self) -> tuple[str, str, int, datetime]:
        return (self.system, self.endpoint, self.window_s, self.bucket)


def aggregate(
    events: Iterable[ServiceProbe | RequestLog], windows_s: tuple[int, ...] = WINDOWS_S
) -> list[HealthIncrement]:
    """Window increments for a batch: per endpoint, and per system (endpoint ``*``)."""
    acc: dict[tuple[str, str, int, datetime], HealthIncrement] = {}
    for ev in events:
        ts = ev.dateObserved
        for size in windows_s:
            start = window_start(ts, size)
            for endpoint in (ev.endpoint, ALL_ENDPOINTS):
                key = (ev.system, endpoint, size, start)
                inc = acc.get(key)
                if inc is None:
                    inc = acc[key] = HealthIncrement(ev.system, endpoint, size, start)
                if isinstance(ev, ServiceProbe):
                    inc.probes += 1
                    inc.probes_ok += ev.success
                else:
                    inc.requests += 1
                    inc.errors += ev.status_code >= 500
                sketch.add(inc.latency_hist, ev.latency_ms)
                if inc.last_event is None or ts > inc.last_event:
                    inc.last_event = ts
    return list(acc.values())


# --- reading: from counters to a status an operator understands -----------------------------


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    degraded_availability: float = 0.99
    down_availability: float = 0.5
    degraded_error_rate: float = 0.05
    down_error_rate: float = 0.5
    degraded_p95_ms: float = 2000.0


@dataclass(frozen=True, slots=True)
class HealthStatus:
    system: str
    status: str  # ok | degraded | down | unknown
    availability: float | None
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    probes: int
    requests: int
    last_event: datetime | None
    reasons: tuple[str, ...] = ()


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def health_status(
    system: str,
    *,
    probes: int,
    probes_ok: int,
    requests: int,
    errors: int,
    latency_hist: list[int] | None,
    last_event: datetime | None,
    now: datetime,
    stale_after: timedelta,
    thresholds: HealthThresholds = HealthThresholds(),
) -> HealthStatus:
    """Status of a system from its counters over the recent window."""
    availability = ratio(probes_ok, probes)
    error_rate = ratio(errors, requests)
    p50 = sketch.quantile(latency_hist, 0.50)
    p95 = sketch.quantile(latency_hist, 0.95)
    p99 = sketch.quantile(latency_hist, 0.99)
    reasons: list[str] = []
    if last_event is None or now - last_event > stale_after:
        status = "unknown"
        reasons.append("no_data")
    else:
        t = thresholds
        down = (availability is not None and availability < t.down_availability) or (
            error_rate is not None and error_rate >= t.down_error_rate
        )
        degraded = (
            (availability is not None and availability < t.degraded_availability)
            or (error_rate is not None and error_rate >= t.degraded_error_rate)
            or (p95 is not None and p95 >= t.degraded_p95_ms)
        )
        if availability is not None and availability < t.degraded_availability:
            reasons.append("availability")
        if error_rate is not None and error_rate >= t.degraded_error_rate:
            reasons.append("error_rate")
        if p95 is not None and p95 >= t.degraded_p95_ms:
            reasons.append("latency")
        status = "down" if down else "degraded" if degraded else "ok"
    return HealthStatus(
        system, status, availability, error_rate, p50, p95, p99, probes, requests, last_event, tuple(reasons)
    )


# --- what the health feed writes ---------------------------------------------------------------

HEALTH_EVENT = RawTable(
    "health_event",
    (
        ("time", "timestamptz"),
        ("id", "text"),
        ("kind", "text"),
        ("system", "text"),
        ("endpoint", "text"),
        ("success", "boolean"),
        ("status_code", "smallint"),
        ("latency_ms", "double precision"),
        ("method", "text"),
        ("client_ip", "inet"),
        ("error", "text"),
    ),
    lambda e: (
        e.dateObserved,
        e.id,
        "probe" if isinstance(e, ServiceProbe) else "request",
        e.system,
        e.endpoint,
        e.optional("success"),
        e.status_code,
        e.latency_ms,
        e.optional("method"),
        e.optional("client_ip"),
        e.optional("error"),
    ),
)

HEALTH_WINDOW = CounterTable(
    "health_window",
    key=("system", "endpoint", "window_s", "time"),
    sums=("probes", "probes_ok", "requests", "errors"),
    hists=("latency_hist",),
    greatest=("last_event",),
)


def health_increments(fresh: Sequence[Event], states: States | None = None) -> Increments:
    incs = Increments()
    for inc in aggregate(fresh):  # type: ignore[arg-type]
        incs.add(
            HEALTH_WINDOW,
            {
                "system": inc.system,
                "endpoint": inc.endpoint,
                "window_s": inc.window_s,
                "time": inc.bucket,
                "probes": inc.probes,
                "probes_ok": inc.probes_ok,
                "requests": inc.requests,
                "errors": inc.errors,
                "latency_hist": inc.latency_hist,
                "last_event": inc.last_event,
            },
        )
    return incs


HEALTH_FEED = FeedSpec("health", HEALTH_EVENT, health_increments)

"""Probe sequences of one system, and the counters the wall and the engine would read at a moment.

``counters_at`` is ``agents.indicators.queries.health.STATUS_SQL`` without a database: the worker's
own increments (``health_increments``) of the events observed by ``now``, 60 s windows of the whole
system since ``now - window_s``, added up the way the database adds them (``combine``).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from agents.indicators.health import ALL_ENDPOINTS, HealthStatus, StatusRules, health_increments, health_status
from streams.core.contracts.health import ServiceProbe
from streams.core.tables import combine

T0 = datetime(2026, 11, 27, 2, 0, 0, tzinfo=timezone.utc)


def probes(system: str, endpoints: Sequence[str], start: datetime, end: datetime,
           answers: Callable[[datetime], bool], *, interval_s: float = 10.0) -> list[ServiceProbe]:
    """A prober's events: every endpoint every ``interval_s``, the endpoints spread over the interval."""
    out = []
    for i, ep in enumerate(endpoints):
        at = start + timedelta(seconds=interval_s * i / len(endpoints))
        while at < end:
            ok = answers(at)
            out.append(ServiceProbe(id=f"{system}{ep}{at.isoformat()}", type="ServiceProbe", system=system,
                                    endpoint=ep, dateObserved=at, success=ok, latency_ms=80.0 if ok else 5000.0))
            at += timedelta(seconds=interval_s)
    return sorted(out, key=lambda e: e.dateObserved)


def counters_at(events: Sequence[ServiceProbe], now: datetime, window_s: int) -> dict[str, Any]:
    row: dict[str, Any] | None = None
    incs = health_increments([e for e in events if e.dateObserved <= now])
    for table, rows in incs.rows.items():
        for r in rows:
            recent = r["time"] >= now - timedelta(seconds=window_s)
            if r["window_s"] == 60 and r["endpoint"] == ALL_ENDPOINTS and recent:
                row = combine(table, row, r)
    return row or {}


def status_at(events: Sequence[ServiceProbe], now: datetime, rules: StatusRules) -> HealthStatus:
    system = events[0].system if events else "x"
    return health_status(system, counters_at(events, now, rules.window_s), now=now, rules=rules)


def seconds(start: datetime, end: datetime) -> list[datetime]:
    return [start + timedelta(seconds=s) for s in range(int((end - start).total_seconds()) + 1)]

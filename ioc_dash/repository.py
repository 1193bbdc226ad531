"""Reads for the dashboard: one snapshot per refresh period, shared by every screen.

This and the worker's sink are the only modules that talk to the database.  ``SnapshotCache``
makes thirty wall screens cost the database what one does: the first request in a period
reads, the others (in any thread) get the same snapshot.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from streams.errors import SinkUnavailable


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    systems: list[dict[str, Any]] = field(default_factory=list)  # one row per system, recent counters
    sources: list[dict[str, Any]] = field(default_factory=list)  # one row per feed source
    workers: list[dict[str, Any]] = field(default_factory=list)
    uptime: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # system -> (24 h, 30 d)
    error: str | None = None  # set when the database could not be read

    @property
    def newest_data(self) -> datetime | None:
        times = [s["last_arrival"] for s in self.sources if s.get("last_arrival")]
        return max(times) if times else None


SYSTEMS_SQL = """
SELECT system,
       sum(probes)::bigint    AS probes,
       sum(probes_ok)::bigint AS probes_ok,
       sum(requests)::bigint  AS requests,
       sum(errors)::bigint    AS errors,
       ioc_hist_sum(latency_hist) AS latency_hist,
       max(last_event)        AS last_event
FROM health_window
WHERE window_s = 60 AND endpoint = '*' AND time >= now() - make_interval(secs => %(window_s)s)
GROUP BY system
"""

SOURCES_SQL = """
SELECT source,
       coalesce(sum(received)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS received,
       coalesce(sum(accepted)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS accepted,
       coalesce(sum(rejected)   FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS rejected,
       coalesce(sum(duplicates) FILTER (WHERE time >= now() - interval '5 minutes'), 0)::bigint AS duplicates,
       max(last_event)   AS last_event,
       max(last_arrival) AS last_arrival,
       CASE WHEN min(time) FILTER (WHERE time < now() - interval '10 minutes') <= now() - interval '70 minutes'
            THEN (sum(received) FILTER (WHERE time < now() - interval '10 minutes'))::float8
                 / extract(epoch FROM (now() - interval '10 minutes'
                                       - min(time) FILTER (WHERE time < now() - interval '10 minutes')))
       END AS expected_per_s
FROM source_window
WHERE time >= now() - interval '24 hours'
GROUP BY source
"""

UPTIME_SQL = """
SELECT s.system,
       ioc_uptime(s.system, now() - interval '24 hours', now()) AS up_24h,
       ioc_uptime(s.system, now() - interval '30 days', now())  AS up_30d
FROM unnest(%(systems)s::text[]) AS s(system)
"""

WORKERS_SQL = "SELECT worker, started_at, last_seen, info FROM worker_heartbeat ORDER BY last_seen DESC LIMIT 50"


class Repository:
    def __init__(self, dsn: str, *, window_s: int = 300, systems: list[str] | None = None,
                 uptime_every_s: float = 60.0) -> None:
        self.window_s = window_s
        self.systems = systems or []
        self.uptime_every_s = uptime_every_s
        self._uptime: dict[str, tuple[float | None, float | None]] = {}
        self._uptime_at = -1e18
        self.pool = ConnectionPool(dsn, min_size=0, max_size=2, open=False, kwargs={"connect_timeout": 3})
        self._opened = False
        self._lock = threading.Lock()
        self.queries = 0  # how many database round trips this process made (benchmarks read it)

    def _open(self) -> None:
        with self._lock:
            if not self._opened:
                self.pool.open(wait=False)
                self._opened = True

    def snapshot(self) -> Snapshot:
        self._open()
        now = datetime.now(timezone.utc)
        try:
            with self.pool.connection(timeout=3) as conn:
                conn.row_factory = dict_row
                with conn.transaction():
                    systems = conn.execute(SYSTEMS_SQL, {"window_s": self.window_s}).fetchall()
                    sources = conn.execute(SOURCES_SQL).fetchall()
                    workers = conn.execute(WORKERS_SQL).fetchall()
                    self.queries += 3
                    if self.systems and time.monotonic() - self._uptime_at >= self.uptime_every_s:
                        rows = conn.execute(UPTIME_SQL, {"systems": self.systems}).fetchall()
                        self._uptime = {r["system"]: (r["up_24h"], r["up_30d"]) for r in rows}
                        self._uptime_at = time.monotonic()
                        self.queries += 1
        except (psycopg.Error, PoolTimeout) as exc:
            raise SinkUnavailable(f"dashboard cannot read the database: {str(exc).strip()[:200]}") from exc
        return Snapshot(now, systems, sources, workers, dict(self._uptime))

    def close(self) -> None:
        if self._opened:
            self.pool.close()


class SnapshotCache:
    """At most one read per ``period_s``; concurrent callers wait for the same read."""

    def __init__(self, read: Callable[[], Snapshot], period_s: float, clock: Callable[[], float] = time.monotonic):
        self.read = read
        self.period_s = period_s
        self.clock = clock
        self._lock = threading.Lock()
        self._value: Snapshot | None = None
        self._at = -1e18
        self.reads = 0

    def get(self) -> Snapshot:
        with self._lock:
            if self._value is None or self.clock() - self._at >= self.period_s:
                try:
                    self._value = self.read()
                except SinkUnavailable as exc:
                    old = self._value
                    self._value = Snapshot(
                        datetime.now(timezone.utc),
                        old.systems if old else [], old.sources if old else [], old.workers if old else [],
                        old.uptime if old else {}, error=str(exc),
                    )
                self._at = self.clock()
                self.reads += 1
            return self._value

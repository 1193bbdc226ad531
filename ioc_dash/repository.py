"""Reads for the dashboard: one snapshot per refresh period, shared by every screen.

Its connections come from a pool of ``streams.db.connect`` (two at most).  ``SnapshotCache``
makes thirty wall screens cost the database what one does: the first request in a period
reads, the others (in any thread) get the same snapshot.  Inside a read, ``Repository`` runs
the queries of ``ioc_dash.queries`` whose tier is due — the fast ones every time, the hour of
history and the month of dossiers every ``medium_s``, the 30-day uptime every ``slow_s`` — in
one transaction, and keeps the last values of the slower parts in between.  An optional part
(the security register, the users' states) is read in a savepoint: when the database refuses it,
its value is ``None`` and the rest of the snapshot stands.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from agents.indicators.dossier_kpi import local_month_start
from agents.indicators.health import StatusRules, load_status_rules
from agents.indicators.register import Entry
from ioc_dash.queries import MEDIUM_S, PARTS, SLOW_S, Part
from streams.core.errors import SinkError, SinkUnavailable
from streams.core.geography import Province
from streams.db.connect import Connection, Pool
from streams.db.errors import translated

log = logging.getLogger(__name__)
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    systems: Rows = field(default_factory=list)  # one row per system, counters of the recent window
    sources: Rows = field(default_factory=list)  # one row per feed source
    producers: Rows = field(default_factory=list)  # one row per producer seen in the last day: counts of the last hour
    producer_history: Rows = field(default_factory=list)  # per producer, the same hours of past weeks
    workers: Rows = field(default_factory=list)
    uptime: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)  # system -> (24 h, 30 d)
    error: str | None = None  # set when the database could not be read
    alerts: Rows = field(default_factory=list)  # open alerts (pending, firing), worst first
    drills: Rows = field(default_factory=list)  # drill runs in progress (the DIỄN TẬP banner)
    cameras: Rows = field(default_factory=list)  # camera_state rows
    sensors: Rows = field(default_factory=list)  # sensor_latest rows
    network: Rows = field(default_factory=list)  # network_state rows: links and systems' IPv6
    soc_links: Rows = field(default_factory=list)  # layer-4 link health
    history: Rows = field(default_factory=list)  # health_window 60 s rows of the last hour, per system
    rain_1h: dict[str, float] = field(default_factory=dict)  # station -> mm over the last hour
    attack_rate: Rows = field(default_factory=list)  # security events per minute and severity, last hour
    finding_counts: Rows = field(default_factory=list)  # findings of the last 24 h per severity, layer and target
    findings: Rows = field(default_factory=list)  # the worst and newest of those findings (50)
    top_sources: Rows = field(default_factory=list)  # failed logins per source, last hour
    citizen_open: Rows = field(default_factory=list)  # open citizen reports
    citizen_service: Rows = field(default_factory=list)  # per agency, this month
    dossier_days: Rows = field(default_factory=list)  # dossier_day per day, unit and level, this month
    dossier_open: Rows = field(default_factory=list)  # dossiers in progress
    document_month: Rows = field(default_factory=list)  # the e-office's document tallies of the month, per level
    month_start: datetime | None = None  # the local month the monthly parts cover
    border_hour: Rows = field(default_factory=list)  # border cameras' new tracks per label: last hour, same hour yesterday
    border_earlier: Rows = field(default_factory=list)  # border cameras' new tracks per label, 24 h to 1 h ago
    border_tracks: Rows = field(default_factory=list)  # the border cameras' newest tracks of the hour
    border_usual: Rows = field(default_factory=list)  # border cameras' tracks in this hour of the 8 weeks before
    register: list[Entry] | None = None  # the security register's current entries; None: not read
    user_states: dict[str, bool] | None = None  # user name -> active (the register's on-site force); None: not read

    @property
    def newest_data(self) -> datetime | None:
        times = [s["last_arrival"] for s in self.sources if s.get("last_arrival")]
        return max(times) if times else None


class Repository:
    def __init__(self, dsn: str, *, window_s: int = 300, systems: Sequence[str] = (), medium_s: float = MEDIUM_S,
                 slow_s: float = SLOW_S, parts: Sequence[Part] = PARTS, border_cameras: Sequence[str] = (),
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.window_s = window_s
        self.systems = list(systems)
        self.border_cameras = list(border_cameras)
        self.parts = tuple(parts)
        self.every = {"fast": 0.0, "medium": medium_s, "slow": slow_s}
        self.clock = clock
        self._values: dict[str, Any] = {}
        self._read_at: dict[str, float] = {}
        self.pool = Pool(dsn, role="dash", max_size=2, timeout_s=3, dict_rows=True)
        self.queries = 0  # database round trips this process made (benchmarks read it)
        self.reads = 0  # snapshots read

    def due(self) -> list[Part]:
        now = self.clock()
        return [p for p in self.parts
                if p.name not in self._read_at or now - self._read_at[p.name] >= self.every[p.tier]]

    def snapshot(self) -> Snapshot:
        now = datetime.now(timezone.utc)
        params = {"window_s": self.window_s, "systems": self.systems, "month_start": local_month_start(now),
                  "border_cameras": self.border_cameras}
        values: dict[str, Any] = {}
        due = self.due()
        with translated("dashboard cannot read the database", limit=200), self.pool.connection() as conn, \
                conn.transaction():
            for part in due:
                read = self._optional if part.optional else self._read
                values[part.name] = read(conn, part, params)
        at = self.clock()
        for part in due:
            self._read_at[part.name] = at
        if any(p.tier != "fast" for p in due):
            values["month_start"] = params["month_start"]
        self._values.update(values)
        self.reads += 1
        return Snapshot(now, **self._values)

    def _read(self, conn: Connection, part: Part, params: dict[str, Any]) -> Any:
        rows = conn.execute(part.sql, params if "%(" in part.sql else None).fetchall()
        self.queries += 1
        return part.shape(rows)

    def _optional(self, conn: Connection, part: Part, params: dict[str, Any]) -> Any:
        """The part read in a savepoint; ``None`` when the database refuses it (a lost connection still
        fails the snapshot)."""
        try:
            with translated(f"dashboard cannot read {part.name}", refused=SinkError, limit=200), conn.transaction():
                return self._read(conn, part, params)
        except SinkUnavailable:
            raise
        except SinkError as exc:
            self.queries += 1
            log.warning("%s", exc)
            return None

    def close(self) -> None:
        self.pool.close()


def wall_repository(dsn: str, province: Province, status_rules: StatusRules | None = None) -> Repository:
    """The wall's reads: the province's systems and its border cameras (those in a zone), counters over
    the status rules' window (default: the shipped ``status.yaml``)."""
    rules = status_rules or load_status_rules()
    return Repository(dsn, window_s=rules.window_s, systems=[s.code for s in province.systems],
                      border_cameras=[c.code for c in province.cameras if c.zone])


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
                except SinkUnavailable as exc:  # keep showing the last values, flagged
                    now = datetime.now(timezone.utc)
                    self._value = dataclasses.replace(self._value or Snapshot(now), taken_at=now, error=str(exc))
                self._at = self.clock()
                self.reads += 1
            return self._value

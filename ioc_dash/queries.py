"""What the wall reads: one query per part of the snapshot, and how often each part is read.

A part with ``every_s = 0`` is read on every snapshot (once per refresh period, shared by every
screen); the others only when their own period has passed (the hour of history, the month of
dossiers) or seldom (30-day uptime).  Each query returns rows as dicts; ``shape`` turns them
into the value the ``Snapshot`` field holds.  Parameters: ``window_s`` (recent window of the
status table), ``systems`` (codes), ``month_start`` (local month start, UTC), ``border_cameras``
(codes of the cameras of a border zone).  An ``optional`` part may fail (a table not migrated yet,
a read refused) without failing the snapshot: its value is then ``None`` and the page says so.

The indicator families' SQL is in ``agents/indicators/queries/`` (one module per family, shared
with the alert engine); the queries here are the wall's own: workers, open alerts, drills running,
the layer-4 link.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.indicators.queries import camera, citizen, dossier, health, network, register, security, sensor, sources
from agents.indicators.register import Entry, entry_from_row

#: periods of the slower parts, seconds (overridable per Repository)
MEDIUM_S = 10.0
SLOW_S = 60.0


@dataclass(frozen=True)
class Part:
    name: str  # the Snapshot field it fills
    sql: str
    tier: str = "fast"  # fast | medium | slow
    shape: Callable[[list[dict[str, Any]]], Any] = list
    optional: bool = False  # a failed read gives None instead of failing the snapshot


def _uptime(rows: list[dict[str, Any]]) -> dict[str, tuple[float | None, float | None]]:
    return {r["system"]: (r["up_24h"], r["up_30d"]) for r in rows}


def _entries(rows: list[dict[str, Any]]) -> list[Entry]:
    return [entry_from_row(r) for r in rows]


def _user_states(rows: list[dict[str, Any]]) -> dict[str, bool]:
    return {r["name"]: bool(r["active"]) for r in rows}


def _by_station(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["station"]: r["mm"] for r in rows}


WORKERS = "SELECT worker, started_at, last_seen, info FROM worker_heartbeat ORDER BY last_seen DESC LIMIT 50"

ALERTS = """
SELECT id, rule, entity, severity, state, started_at, fired_at, value, summary_vi, summary_en,
       acknowledged_by, acknowledged_at, silenced_until, suppressed_by, flapping, drill
FROM alert
WHERE state IN ('pending', 'firing')
ORDER BY array_position(ARRAY['critical', 'high', 'medium', 'low', 'informational'], severity),
         started_at DESC
LIMIT 500
"""

# drills running now (the wall's "DIỄN TẬP" banner); a run whose process died stops showing at its planned end
DRILLS = """
SELECT id, scenario, title_vi, title_en, started_at, ends_at
FROM drill_run
WHERE status = 'running' AND ends_at > now()
ORDER BY started_at
"""

SOC_LINK = "SELECT link, up, failures, last_attempt_at, last_success_at, last_error, forwarded FROM soc_link"

PARTS: tuple[Part, ...] = (
    Part("systems", health.STATUS_SQL),
    Part("sources", sources.SOURCES),
    Part("producers", sources.PRODUCER_RECENT, "medium"),
    Part("producer_history", sources.PRODUCER_HISTORY, "slow"),
    Part("workers", WORKERS),
    Part("alerts", ALERTS),
    Part("drills", DRILLS),
    Part("cameras", camera.CAMERAS),
    Part("sensors", sensor.SENSORS),
    Part("network", network.STATES),
    Part("soc_links", SOC_LINK),
    Part("history", health.HISTORY, "medium"),
    Part("rain_1h", sensor.RAIN, "medium", _by_station),
    Part("attack_rate", security.ATTACK_RATE, "medium"),
    Part("finding_counts", security.FINDING_COUNTS, "medium"),
    Part("findings", security.FINDINGS, "medium"),
    Part("top_sources", security.TOP_SOURCES, "medium"),
    Part("citizen_open", citizen.CITIZEN_OPEN, "medium"),
    Part("citizen_service", citizen.CITIZEN_SERVICE, "medium"),
    Part("dossier_days", dossier.DOSSIER_DAYS, "medium"),
    Part("dossier_open", dossier.DOSSIER_OPEN, "medium"),
    Part("document_month", health.DOCUMENT_MONTH, "medium"),
    Part("border_hour", camera.BORDER_HOUR, "medium"),
    Part("border_tracks", camera.BORDER_TRACKS, "medium"),
    Part("border_earlier", camera.BORDER_EARLIER, "slow"),
    Part("border_usual", camera.BORDER_USUAL, "slow"),
    Part("uptime", health.UPTIME, "slow", _uptime),
    Part("register", register.CURRENT, "medium", _entries, optional=True),
    Part("user_states", register.USER_STATES, "medium", _user_states, optional=True),
)

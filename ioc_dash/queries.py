"""What the wall reads: one query per part of the snapshot, and how often each part is read.

A part with ``every_s = 0`` is read on every snapshot (once per refresh period, shared by every
screen); the others only when their own period has passed (the hour of history, the month of
dossiers) or seldom (30-day uptime).  Each query returns rows as dicts; ``shape`` turns them
into the value the ``Snapshot`` field holds.  Parameters: ``window_s`` (recent window of the
status table), ``systems`` (codes), ``month_start`` (local month start, UTC).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents.indicators.health import STATUS_SQL

#: periods of the slower parts, seconds (overridable per Repository)
MEDIUM_S = 10.0
SLOW_S = 60.0


@dataclass(frozen=True)
class Part:
    name: str  # the Snapshot field it fills
    sql: str
    tier: str = "fast"  # fast | medium | slow
    shape: Callable[[list[dict[str, Any]]], Any] = list


def _uptime(rows: list[dict[str, Any]]) -> dict[str, tuple[float | None, float | None]]:
    return {r["system"]: (r["up_24h"], r["up_30d"]) for r in rows}


def _by_station(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {r["station"]: r["mm"] for r in rows}


SYSTEMS = STATUS_SQL  # the alert engine's health indicators read the same counters

SOURCES = """
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

SOURCE_RATE = """
SELECT time_bucket('1 minute', time) AS minute, source,
       sum(received)::bigint AS received, sum(rejected)::bigint AS rejected
FROM source_window
WHERE time >= now() - interval '1 hour'
GROUP BY 1, 2
ORDER BY 1
"""

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

CAMERAS = "SELECT camera, state, since, observed, observed_since, last_seen, flapping_since, conditions FROM camera_state"

SENSORS = """
SELECT station, metric, type, value, text_value, observed_at, rise_per_h, alert_level, danger_level
FROM sensor_latest
"""

NETWORK = "SELECT * FROM network_state"
SOC_LINK = "SELECT link, up, failures, last_attempt_at, last_success_at, last_error, forwarded FROM soc_link"

HISTORY = """
SELECT system, time, probes, probes_ok, requests, errors, latency_hist, last_event, last_ok, last_failed
FROM health_window
WHERE window_s = 60 AND endpoint = '*' AND time >= now() - interval '1 hour'
ORDER BY system, time
"""

RAIN = """
SELECT station, sum(sum) AS mm
FROM sensor_window
WHERE metric = 'precipitation' AND window_s = 600 AND time > now() - interval '1 hour'
GROUP BY station
"""

ATTACK_RATE = """
SELECT time, severity, sum(events)::bigint AS events, sum(blocked)::bigint AS blocked
FROM security_window
WHERE window_s = 60 AND time >= now() - interval '1 hour'
GROUP BY time, severity
ORDER BY time
"""

# one finding is one (kind, subject, target): its 5-minute rows are counted once per severity reached
FINDING_COUNTS = """
SELECT severity, layer, count(DISTINCT (kind, subject, target))::bigint AS n
FROM security_finding
WHERE last_seen >= now() - interval '24 hours'
GROUP BY severity, layer
"""

# repeated findings of the same kind, subject and target are one row: how many 5-minute rows,
# first and last seen, the worst severity and the largest value
FINDINGS = """
SELECT kind, subject, target,
       (ARRAY['critical', 'high', 'medium', 'low', 'informational'])[min(array_position(
         ARRAY['critical', 'high', 'medium', 'low', 'informational'], severity))] AS severity,
       max(layer) AS layer, max(value) AS value, max(threshold) AS threshold,
       (array_agg(detail ORDER BY last_seen DESC))[1] AS detail,
       min(first_seen) AS first_seen, max(last_seen) AS last_seen, count(*)::bigint AS count
FROM security_finding
WHERE last_seen >= now() - interval '24 hours'
GROUP BY kind, subject, target
ORDER BY min(array_position(ARRAY['critical', 'high', 'medium', 'low', 'informational'], severity)), last_seen DESC
LIMIT 50
"""

TOP_SOURCES = """
SELECT a.*, (SELECT count(DISTINCT (f.kind, f.target)) FROM security_finding f
             WHERE f.subject = a.src_ip AND f.last_seen >= now() - interval '24 hours') AS findings
FROM (SELECT src_ip, sum(failures)::bigint AS failures, count(DISTINCT target) AS targets,
             max(last_event) AS last_event
      FROM auth_failure_window
      WHERE time >= now() - interval '1 hour'
      GROUP BY src_ip
      ORDER BY failures DESC
      LIMIT 10) a
ORDER BY a.failures DESC
"""

CITIZEN_OPEN = """
SELECT report_id, category, unit_code, lon, lat, agency, deadline, reported_at, responded_at, status
FROM citizen_report
WHERE status <> 'closed'
ORDER BY reported_at DESC
LIMIT 5000
"""

CITIZEN_SERVICE = """
SELECT agency, sum(responded)::bigint AS responded, sum(responded_late)::bigint AS responded_late,
       sum(ratings)::bigint AS ratings, sum(rating_sum)::bigint AS rating_sum, sum(satisfied)::bigint AS satisfied,
       ioc_hist_sum(response_minutes_hist) AS response_minutes_hist
FROM citizen_agency_day
WHERE time >= %(month_start)s
GROUP BY agency
"""

DOSSIER_DAYS = """
SELECT time, unit_code, level,
       sum(received)::bigint AS received, sum(carried_over)::bigint AS carried_over,
       sum(resolved_early)::bigint AS resolved_early, sum(resolved_on_time)::bigint AS resolved_on_time,
       sum(resolved_late)::bigint AS resolved_late, sum(returned)::bigint AS returned,
       sum(withdrawn)::bigint AS withdrawn, sum(digitised)::bigint AS digitised,
       sum(results_digitised)::bigint AS results_digitised, sum(online)::bigint AS online,
       sum(full_process)::bigint AS full_process
FROM dossier_day
WHERE time >= %(month_start)s
GROUP BY time, unit_code, level
"""

DOSSIER_OPEN = """
SELECT unit_code, level, received_date, due_date, status
FROM dossier_state
WHERE status = 'in_progress'
"""

UPTIME = """
SELECT s.system,
       ioc_uptime(s.system, now() - interval '24 hours', now()) AS up_24h,
       ioc_uptime(s.system, now() - interval '30 days', now())  AS up_30d
FROM unnest(%(systems)s::text[]) AS s(system)
"""

PARTS: tuple[Part, ...] = (
    Part("systems", SYSTEMS),
    Part("sources", SOURCES),
    Part("workers", WORKERS),
    Part("alerts", ALERTS),
    Part("drills", DRILLS),
    Part("cameras", CAMERAS),
    Part("sensors", SENSORS),
    Part("network", NETWORK),
    Part("soc_links", SOC_LINK),
    Part("history", HISTORY, "medium"),
    Part("source_rate", SOURCE_RATE, "medium"),
    Part("rain_1h", RAIN, "medium", _by_station),
    Part("attack_rate", ATTACK_RATE, "medium"),
    Part("finding_counts", FINDING_COUNTS, "medium"),
    Part("findings", FINDINGS, "medium"),
    Part("top_sources", TOP_SOURCES, "medium"),
    Part("citizen_open", CITIZEN_OPEN, "medium"),
    Part("citizen_service", CITIZEN_SERVICE, "medium"),
    Part("dossier_days", DOSSIER_DAYS, "medium"),
    Part("dossier_open", DOSSIER_OPEN, "medium"),
    Part("uptime", UPTIME, "slow", _uptime),
)

"""Indicators computed in Python from current-state rows (cameras, sensors, dossiers, reports).

Each reader takes the rows the alert store fetched and the province, and returns
``{indicator: {entity: value}}``; the SQL-only indicators are in ``agents/alerting/store.py``, every
query in ``agents/indicators/queries/``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from agents.indicators.camera import camera_states
from agents.indicators.health import StatusRules, system_statuses
from agents.indicators.queries.health import STATUS_SQL
from agents.indicators.citizen_kpi import agency_backlog, citizen_indicators
from agents.indicators.dossier_kpi import dossier_indicators, dossier_kpis, local_month_start
from agents.indicators.queries import register as register_sql
from agents.indicators.producers import SourceRules, producer_healths, quiet_values
from agents.indicators.queries.security import FINDINGS_RECENT
from agents.indicators.queries.sources import PRODUCER_HISTORY, PRODUCER_RECENT
from agents.indicators.register import Policy, entry_from_row, obligation_values, weighted_severity
from agents.indicators.sensor_kpi import SensorRules, sensor_indicators
from streams.core.clock import LOCAL_TZ
from streams.core.geography import Province

Values = dict[str, dict[str, float | None]]


def camera_values(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime) -> Values:
    """``camera.offline``: 1 for a camera offline (debounced, or silent past its missed heartbeats), 0 otherwise."""
    known = {c.code for c in province.cameras}
    states = camera_states([r for r in rows if not known or r["camera"] in known], province.cameras, now)
    return {"camera.offline": {code: 1.0 if state == "offline" else 0.0 for code, state in states.items()}}


def intrusion_values(rows: Iterable[Mapping[str, Any]], province: Province) -> Values:
    """``camera.intrusions``: new intrusion tracks per border zone of the province file over the
    last hour, from ``(camera, tracks)`` rows (the camera's 60-s windows of the last hour summed,
    see ``INTRUSION_ROWS`` in ``agents/indicators/queries/camera.py``).  A camera belongs to its site's
    ``zone``; every border zone (``kind: zone``, or a gate or area some camera names as its zone) has
    a value (0 when quiet) so that an alert can clear.  A track
    seen in two analytics areas of one camera counts in each, as the windows do."""
    zone_of = {c.code: c.zone for c in province.cameras if c.zone}
    named = set(zone_of.values())  # gates and watched areas only when a camera counts in them
    out: dict[str, float | None] = {z.code: 0.0 for z in province.border_zones if z.kind == "zone" or z.code in named}
    for row in rows:
        zone = zone_of.get(row["camera"])
        if zone is not None:
            out[zone] = (out.get(zone) or 0.0) + float(row["tracks"] or 0)
    return {"camera.intrusions": out}


def health_values(rows: Iterable[Mapping[str, Any]], systems: Iterable[str], now: datetime,
                  rules: StatusRules) -> Values:
    """The wall's status of every system, as indicators: ``health.down``, ``health.degraded`` and
    ``health.stale`` are 1 when the system has that status (``agents.indicators.health.health_status``, from
    the rows of ``STATUS_SQL``), else 0; down and degraded are "no data" while the system is stale.
    ``health.availability``, ``.error_rate`` and ``.p95_ms`` are the values the wall shows.
    Systems of the province file, and any other system that sends data."""
    rows = list(rows)
    codes = list(dict.fromkeys([*systems, *(r["system"] for r in rows)]))
    out: Values = {k: {} for k in ("health.down", "health.degraded", "health.stale", "health.availability",
                                   "health.error_rate", "health.p95_ms")}
    for code, st in system_statuses(rows, codes, now=now, rules=rules).items():
        stale = st.status == "stale"
        out["health.stale"][code] = float(stale)
        out["health.down"][code] = None if stale else float(st.status == "down")
        out["health.degraded"][code] = None if stale else float(st.status == "degraded")
        out["health.availability"][code] = st.availability
        out["health.error_rate"][code] = st.error_rate
        out["health.p95_ms"][code] = st.p95_ms
    return out


def health_reader(store, systems: Iterable[str], rules: StatusRules) -> Callable[[datetime], Values]:
    """What the engine calls each round: the counters of ``STATUS_SQL`` read now, judged."""
    codes = list(systems)
    return lambda now: health_values(store.fetch(STATUS_SQL, {"window_s": rules.window_s}), codes, now, rules)


def sensor_values(rows: Iterable[Mapping[str, Any]], province: Province, now: datetime, rules: SensorRules) -> Values:
    return sensor_indicators(rows, province.stations, now, rules)


def dossier_values(day_rows: Iterable[Mapping[str, Any]], open_rows: Iterable[Mapping[str, Any]],
                   now: datetime) -> Values:
    return dossier_indicators(dossier_kpis(day_rows, open_rows, start=local_month_start(now), now=now))


def citizen_values(rows: Iterable[Mapping[str, Any]], now: datetime) -> Values:
    return citizen_indicators(agency_backlog(rows, now))


def register_values(fetch: Callable[[str], Iterable[Mapping[str, Any]]], now: datetime) -> Values:
    """The security register's obligations (``register.*``) on the province's local day of ``now``,
    from the current entries and the users' states (``fetch`` runs a query of
    ``agents/indicators/queries/register.py``)."""
    users = {r["name"]: bool(r["active"]) for r in fetch(register_sql.USER_STATES)}
    entries = [entry_from_row(r) for r in fetch(register_sql.CURRENT)]
    return obligation_values(entries, users, now.astimezone(LOCAL_TZ).date())


def critical_finding_values(rows: Iterable[Mapping[str, Any]], policy: Policy) -> Values:
    """``security.findings_critical``: findings per target whose severity, weighted by the target's
    security level (``agents/indicators/data/register.yaml``), is critical — from the rows of
    ``FINDINGS_RECENT`` (target, detected severity, count, level or None).  Only targets with one."""
    out: dict[str, float | None] = {}
    for r in rows:
        if weighted_severity(r["severity"], r["level"], policy) == "critical":
            out[r["target"]] = (out.get(r["target"]) or 0.0) + float(r["n"])
    return {"security.findings_critical": out}


def critical_finding_reader(fetch: Callable[[str], Iterable[Mapping[str, Any]]], policy: Policy
                            ) -> Callable[[datetime], Values]:
    return lambda now: critical_finding_values(fetch(FINDINGS_RECENT), policy)


def source_quiet_values(recent: Iterable[Mapping[str, Any]], history: Iterable[Mapping[str, Any]],
                        rules: SourceRules, now: datetime) -> Values:
    """``source.quiet``: per producer, the events it was expected to send since its last arrival, from the
    rows of ``PRODUCER_RECENT`` and ``PRODUCER_HISTORY`` (the sources page's own judgement)."""
    return quiet_values(producer_healths(list(recent), list(history), now, rules))


def source_quiet_reader(fetch: Callable[[str], Iterable[Mapping[str, Any]]], rules: SourceRules
                        ) -> Callable[[datetime], Values]:
    return lambda now: source_quiet_values(fetch(PRODUCER_RECENT), fetch(PRODUCER_HISTORY), rules, now)


def topology_parents(province: Province) -> dict[str, str]:
    """Entity -> parent: systems under the data centre or LGSP, network links, cameras behind links."""
    parents = {s.code: s.parent for s in province.systems if s.parent}
    parents.update({n.code: n.parent for n in province.networks if n.parent})
    parents.update({c.code: c.parent for c in province.cameras if c.parent})
    return parents

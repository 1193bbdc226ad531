"""History over a range, read side: the rollup tables only (``agents/indicators/rollups.py``), never
the 60 s windows or the events.  Each query exists at two resolutions: ``hour`` (``<name>_hour``, or
the hour windows cameras and sensors keep themselves, ``window_s`` 3600) and ``day`` (``<name>_day``,
local days).  Every query returns ``at`` (the bucket's start, an instant; a day's local midnight).
Parameters: ``since``, ``until`` (UTC, half-open), ``tz`` (the local zone's name), ``id`` (an
entity's code), ``metric`` (a station's metric, NULL: every metric).
"""
from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

RESOLUTIONS = ("hour", "day")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a family's rollups are: the hour table (and the window it keeps) and the day table."""
    hour_table: str
    day_table: str
    hour_column: str = "hour"
    hour_window_s: int | None = None  # the hour windows of a table that keeps them itself

    def parts(self, res: str) -> dict[str, sql.Composable]:
        if res == "day":
            return {"table": sql.Identifier(self.day_table),
                    "at": sql.SQL("(day::timestamp AT TIME ZONE %(tz)s)"),
                    "range": sql.SQL("day >= (%(since)s AT TIME ZONE %(tz)s)::date "
                                     "AND day < (%(until)s AT TIME ZONE %(tz)s)::date")}
        if res != "hour":
            raise ValueError(f"resolution: {res!r} is not one of {', '.join(RESOLUTIONS)}")
        col = sql.Identifier(self.hour_column)
        window = (sql.SQL("window_s = {} AND ").format(sql.Literal(self.hour_window_s))
                  if self.hour_window_s is not None else sql.SQL(""))
        return {"table": sql.Identifier(self.hour_table), "at": col,
                "range": sql.SQL("{}{} >= %(since)s AND {} < %(until)s").format(window, col, col)}


HEALTH = Source("health_hour", "health_day")
SECURITY = Source("security_hour", "security_day")
SOURCES = Source("source_hour", "source_day")
NETWORK = Source("network_hour", "network_day")
SENSORS = Source("sensor_window", "sensor_day", "time", 3600)
CAMERAS = Source("camera_window", "camera_day", "time", 3600)


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    name: str
    source: Source
    template: str  # {at}, {table}, {range}: filled per resolution

    def sql(self, res: str) -> sql.Composed:
        return sql.SQL(self.template).format(**self.source.parts(res))


# --- the wall's pages: every entity of a family --------------------------------------------------

SYSTEMS = HistoryQuery("systems", HEALTH, """
SELECT {at} AS at, system, probes, probes_ok, requests, errors
FROM {table} WHERE {range} AND endpoint = '*' ORDER BY 1, 2""")

SECURITY_EVENTS = HistoryQuery("security", SECURITY, """
SELECT {at} AS at, severity, sum(events)::bigint AS events, sum(blocked)::bigint AS blocked
FROM {table} WHERE {range} GROUP BY 1, 2 ORDER BY 1, 2""")

SENSOR_METRICS = HistoryQuery("sensors", SENSORS, """
SELECT {at} AS at, metric, sum(n)::bigint AS n, sum(sum) AS total, min(min) AS min, max(max) AS max
FROM {table} WHERE {range} GROUP BY 1, 2 ORDER BY 1, 2""")

SOURCE_COUNTS = HistoryQuery("sources", SOURCES, """
SELECT {at} AS at, source, received, accepted, duplicates, rejected
FROM {table} WHERE {range} ORDER BY 1, 2""")

LINKS = HistoryQuery("network", NETWORK, """
SELECT {at} AS at, link, polls, polls_up, loss_sum, loss_n, latency_sum, latency_n
FROM {table} WHERE {range} ORDER BY 1, 2""")

#: the history each wall page shows, by page key
PAGE_QUERIES = {"systems": SYSTEMS, "security": SECURITY_EVENTS, "environment": SENSOR_METRICS,
                "sources": SOURCE_COUNTS, "network": LINKS}

# --- one entity -----------------------------------------------------------------------------------

SYSTEM = HistoryQuery("system", HEALTH, """
SELECT {at} AS at, probes, probes_ok, requests, errors, latency_hist
FROM {table} WHERE {range} AND endpoint = '*' AND system = %(id)s ORDER BY 1""")

STATION = HistoryQuery("station", SENSORS, """
SELECT {at} AS at, metric, n, sum AS total, min, max
FROM {table} WHERE {range} AND station = %(id)s AND (%(metric)s::text IS NULL OR metric = %(metric)s::text)
ORDER BY 1, 2""")

ZONE = HistoryQuery("zone", CAMERAS, """
SELECT {at} AS at, rule, sum(tracks)::bigint AS tracks
FROM {table} WHERE {range} AND zone = %(id)s GROUP BY 1, 2 ORDER BY 1, 2""")

LINK = HistoryQuery("link", NETWORK, """
SELECT {at} AS at, polls, polls_up, loss_sum, loss_n, latency_sum, latency_n
FROM {table} WHERE {range} AND link = %(id)s ORDER BY 1""")

SOURCE = HistoryQuery("source", SOURCES, """
SELECT {at} AS at, received, accepted, duplicates, rejected
FROM {table} WHERE {range} AND source = %(id)s ORDER BY 1""")

#: the history of one entity, by kind (``agents.indicators.history.KINDS``)
ENTITY_QUERIES = {"system": SYSTEM, "station": STATION, "zone": ZONE, "link": LINK, "source": SOURCE}

#: the alerts of an entity (its code, or ``code:part``) open at some time of the range
ENTITY_ALERTS = """
SELECT id, rule, entity, severity, state, started_at, resolved_at, summary_vi, summary_en
FROM alert
WHERE split_part(entity, ':', 1) = %(id)s AND state <> 'cancelled'
  AND started_at < %(until)s AND (resolved_at IS NULL OR resolved_at > %(since)s)
ORDER BY started_at DESC
LIMIT 200
"""

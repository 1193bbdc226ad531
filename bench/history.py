"""History queries over a year of a province's rollups: ``python -m bench.history [--repeat N] [--days D]``.

A scratch database gets ``--days`` (365) of hourly and daily rollups of the province file — every
system and endpoint (``health_hour``/``health_day``), security events per system, type and severity,
the sources, the network links, every station's metrics (the hour windows sensors keep themselves,
and ``sensor_day``), every border camera — inserted with ``generate_series``, plus one system's 60 s
windows of the current month (the service level reads minutes).  Then each wall page's history query
(``agents/indicators/queries/history.py``, through ``ioc_dash.history_store``) and one entity of each
kind are timed at 24 h, 30 d and 1 year, ``--repeat`` times each: p50 and p95 in milliseconds, the
resolution read and the rows returned.  The target is a p95 under 200 ms.  The database is dropped
at the end.  Uses the local stack (``deploy/stack.sh start``), like ``make bench``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from psycopg import sql

from agents.indicators.history import Entity, HistoryRange
from agents.indicators.queries.history import ENTITY_QUERIES, PAGE_QUERIES
from agents.indicators.sla import load_sla_policy, month_report
from bench.env import ADMIN_DSN
from ioc_dash.history_store import HistoryStore
from streams.core import sketch
from streams.core.clock import LOCAL_TZ, LOCAL_TZ_NAME, utcnow
from streams.core.geography import Province, load_province
from streams.core.settings import Settings
from streams.db.connect import connect
from streams.db.scratch import scratch_database

RANGES = {"24h": timedelta(hours=24), "30d": timedelta(days=30), "1y": timedelta(days=365)}
TARGET_P95_MS = 200.0
SEVERITIES = ["critical", "high", "medium", "low", "informational"]
SECURITY_TYPES = ["intrusion", "malware", "auth"]
METRICS = ["waterLevel", "salinity", "precipitation", "pm25"]
RULES = ["intrusion", "loitering"]

# --- a year of rollups, in SQL (parameters: first, last: hours; tz; the province's codes) --------

HOURS = "generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 hour') AS h"

SEED = (
    "INSERT INTO health_hour SELECT h, s, e, 60, 60 - (random() < 0.01)::int * 40, 600, (random() * 6)::int, "
    "%(hist)s::int[], h + interval '59 min', h + interval '59 min', NULL FROM " + HOURS
    + ", unnest(%(systems)s::text[], %(endpoints)s::text[]) AS x(s, e)",
    "INSERT INTO security_hour SELECT h, s, ty, sev, 3, (random() * 20)::int, (random() * 10)::int, h FROM " + HOURS
    + ", unnest(%(system_codes)s::text[]) AS s, unnest(%(types)s::text[]) AS ty, unnest(%(severities)s::text[]) AS sev",
    "INSERT INTO source_hour SELECT h, s, 3600, 3590, 5, 5, h, h FROM " + HOURS + ", unnest(%(sources)s::text[]) AS s",
    "INSERT INTO network_hour SELECT h, l, 60, 60 - (random() < 0.02)::int * 10, random() * 60, 60, 20 * 60, 60, "
    "random(), h FROM " + HOURS + ", unnest(%(links)s::text[]) AS l",
    "INSERT INTO sensor_window (station, metric, window_s, time, n, sum, max, min, last_event) "
    "SELECT st, m, 3600, h, 12, 12 * (1 + random()), 2.5, 0.5, h FROM " + HOURS
    + ", unnest(%(stations)s::text[]) AS st, unnest(%(metrics)s::text[]) AS m",
    "INSERT INTO camera_window (camera, zone, rule, window_s, time, tracks, last_event) "
    "SELECT c, z, r, 3600, h, (random() * 8)::int, h FROM " + HOURS
    + ", unnest(%(cameras)s::text[], %(zones)s::text[]) AS x(c, z), unnest(%(rules)s::text[]) AS r",
)
#: the days, from the hours (as the rollup job makes them)
DAYS = (
    "INSERT INTO health_day SELECT (hour AT TIME ZONE %(tz)s)::date, system, endpoint, sum(probes), sum(probes_ok), "
    "sum(requests), sum(errors), ioc_hist_sum(latency_hist), max(last_event), max(last_ok), max(last_failed) "
    "FROM health_hour GROUP BY 1, 2, 3",
    "INSERT INTO security_day SELECT (hour AT TIME ZONE %(tz)s)::date, entity, type, severity, layer, sum(events), "
    "sum(blocked), max(last_event) FROM security_hour GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO source_day SELECT (hour AT TIME ZONE %(tz)s)::date, source, sum(received), sum(accepted), "
    "sum(duplicates), sum(rejected), max(last_event), max(last_arrival) FROM source_hour GROUP BY 1, 2",
    "INSERT INTO network_day SELECT (hour AT TIME ZONE %(tz)s)::date, link, sum(polls), sum(polls_up), sum(loss_sum), "
    "sum(loss_n), sum(latency_sum), sum(latency_n), max(utilisation_max), max(last_event) FROM network_hour GROUP BY 1, 2",
    "INSERT INTO sensor_day (day, station, metric, n, sum, max, last_event, min) SELECT (time AT TIME ZONE %(tz)s)::date, "
    "station, metric, sum(n), sum(sum), max(max), max(last_event), min(min) FROM sensor_window WHERE window_s = 3600 "
    "GROUP BY 1, 2, 3",
    "INSERT INTO camera_day SELECT (time AT TIME ZONE %(tz)s)::date, camera, zone, rule, sum(tracks), max(last_event) "
    "FROM camera_window WHERE window_s = 3600 GROUP BY 1, 2, 3, 4",
)
#: one system's 60 s windows of the month so far (what its service level reads)
MINUTES = ("INSERT INTO health_window (system, endpoint, window_s, time, probes, probes_ok, requests, errors, "
           "latency_hist) SELECT %(system)s, '*', 60, m, 1, 1, 10, 0, %(hist)s::int[] FROM generate_series("
           "%(month_start)s::timestamptz, %(last)s::timestamptz, interval '1 minute') AS m")
TABLES = ("health_hour", "health_day", "security_hour", "security_day", "source_hour", "source_day", "network_hour",
          "network_day", "sensor_window", "sensor_day", "camera_window", "camera_day")


def seed_params(province: Province, families: list[str], first: datetime, last: datetime) -> dict:
    pairs = [(s.code, e) for s in province.systems for e in ("*", *s.endpoints)]
    cams = [(c.code, c.zone) for c in province.cameras if c.zone]
    hist = sketch.from_values([40.0] * 50 + [120.0] * 45 + [450.0] * 5)
    return {"first": first, "last": last, "tz": LOCAL_TZ_NAME, "hist": hist,
            "systems": [s for s, _ in pairs], "endpoints": [e for _, e in pairs],
            "system_codes": [s.code for s in province.systems], "types": SECURITY_TYPES, "severities": SEVERITIES,
            "sources": families, "links": [n.code for n in province.networks],
            "stations": [s.code for s in province.stations], "metrics": METRICS,
            "cameras": [c for c, _ in cams], "zones": [z for _, z in cams], "rules": RULES}


def seed(dsn: str, params: dict, month_start: datetime, log: Callable[[str], None] = print) -> dict[str, int]:
    """Insert the year; return the rows of each table."""
    with connect(dsn, what="cannot seed the history benchmark", role="bench-history") as conn:
        for statement in (*SEED, *DAYS):
            conn.execute(statement, params)
        conn.execute(MINUTES, {**params, "system": params["system_codes"][0], "month_start": month_start})
        conn.commit()
        conn.autocommit = True
        counts = {}
        for table in TABLES:
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            counts[table] = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
    log("bench.history: seeded " + ", ".join(f"{t} {n:,}" for t, n in counts.items()))
    return counts


def timed(fn: Callable[[], object], repeat: int) -> tuple[list[float], object]:
    out, times = None, []
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, out


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]


def measure(store: HistoryStore, province: Province, families: list[str], now: datetime, repeat: int,
            log: Callable[[str], None] = print) -> list[dict]:
    entities = {"system": province.systems[0].code, "station": province.stations[0].code,
                "zone": next(c.zone for c in province.cameras if c.zone), "link": province.networks[0].code,
                "source": families[0]}
    rows = []
    for label, span in RANGES.items():
        rng = HistoryRange(label, now - span, now)
        cases = [(f"page {k}", lambda k=k: store.page(k, rng)) for k in PAGE_QUERIES]
        cases += [(f"{k} {entities[k]}", lambda k=k: store.entity(Entity(k, entities[k]), rng)) for k in ENTITY_QUERIES]
        cases.append((f"alerts {entities['system']}", lambda: store.alerts(Entity("system", entities["system"]), rng)))
        for name, fn in cases:
            fn()  # warm: the plan cached, the pages in memory
            times, out = timed(fn, repeat)
            row = {"query": name, "range": label, "resolution": rng.resolution, "rows": len(out),  # type: ignore[arg-type]
                   "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95(times), 1)}
            rows.append(row)
            log(f"bench.history: {label:>4} {name:<28} {row['resolution']:<4} {row['rows']:>6} rows "
                f"p50 {row['p50_ms']:>6.1f} ms  p95 {row['p95_ms']:>6.1f} ms")
    return rows


def measure_sla(dsn: str, system: str, now: datetime, repeat: int, log: Callable[[str], None] = print) -> dict:
    """One system's service level of the current month (the history view reads it per month)."""
    policy = load_sla_policy(Settings().sla_file)
    month = now.astimezone(LOCAL_TZ).date().replace(day=1)
    times, _ = timed(lambda: month_report(dsn, month, [system], policy, LOCAL_TZ, now), repeat)
    row = {"query": f"sla month {system}", "range": "month", "resolution": "window", "rows": 0,
           "p50_ms": round(statistics.median(times), 1), "p95_ms": round(p95(times), 1)}
    log(f"bench.history: month {row['query']:<28} p50 {row['p50_ms']:.1f} ms  p95 {row['p95_ms']:.1f} ms")
    return row


def run(days: int = 365, repeat: int = 30, log: Callable[[str], None] = print) -> dict:
    settings = Settings()
    province = load_province(settings.province_file)
    from streams.core.topics import FEEDS

    families = list(FEEDS)
    now = utcnow()
    last = now.replace(minute=0, second=0, microsecond=0)
    first = last - timedelta(days=days)
    month_start = datetime.combine(now.astimezone(LOCAL_TZ).date().replace(day=1), datetime.min.time(), LOCAL_TZ)
    with scratch_database(ADMIN_DSN, f"ioc_bench_history_{uuid.uuid4().hex[:8]}") as dsn:
        start = time.perf_counter()
        counts = seed(dsn, seed_params(province, families, first, last), month_start, log)
        seeded_s = round(time.perf_counter() - start, 1)
        store = HistoryStore(dsn)
        try:
            rows = measure(store, province, families, now, repeat, log)
        finally:
            store.close()
        rows.append(measure_sla(dsn, province.systems[0].code, now, max(3, repeat // 6), log))
    worst = max(r["p95_ms"] for r in rows if r["range"] != "month")
    log(f"bench.history: worst p95 {worst} ms (target < {TARGET_P95_MS:.0f} ms)")
    return {"days": days, "repeat": repeat, "seed_s": seeded_s, "tables": counts, "queries": rows,
            "worst_p95_ms": worst, "target_p95_ms": TARGET_P95_MS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    p.add_argument("--days", type=int, default=365, help="days of rollups to seed [365]")
    p.add_argument("--repeat", type=int, default=30, help="timed runs of each query [30]")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args(argv)
    result = run(args.days, args.repeat)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")
    return 0 if result["worst_p95_ms"] < TARGET_P95_MS else 1


if __name__ == "__main__":
    sys.exit(main())

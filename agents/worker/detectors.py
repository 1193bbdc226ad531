"""The security detectors' side of the database: what they read at a given time, and the findings
they write (``security_finding``, one row per kind, subject, target and 5-minute bucket, upserted,
so every worker may run the detectors).  The detectors themselves are pure:
``agents.indicators.security.detect_at`` takes a ``DetectorStore``.

It works through the worker's pool (``streams.db.connect.AsyncPool``), shared with the feed writer.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from streams.db.connect import AsyncPool
from streams.db.errors import translated


class DetectorStore:
    """Reads of the security detectors and their findings, through the worker's pool."""

    def __init__(self, pool: AsyncPool) -> None:
        self.pool = pool

    async def security_inputs(self, now: datetime, window_minutes: int, *, min_fanout: int = 10,
                              weeks: int = 4, week_minutes: int = 30) -> dict[str, list[tuple]]:
        """What the security detectors read at ``now``: failed logins, request rates and their baselines,
        firewall fan-out, sensor scans, malware and national alerts of the window ending at ``now``.

        ``now`` is a parameter, not the database's clock, so a simulated hour can be evaluated.
        Only sources with ``min_fanout`` distinct (host, port) targets are returned as fan-out.
        """
        win = timedelta(minutes=window_minutes)
        minute = now.replace(second=0, microsecond=0)
        hour = minute.replace(minute=0)
        window = "time > %(now)s - %(win)s AND time <= %(now)s"
        worst = ("(ARRAY['informational','low','medium','high','critical'])[max(array_position("
                 "ARRAY['informational','low','medium','high','critical'], severity))]")
        p = {"now": now, "win": win}
        queries = {
            "auth": (
                """SELECT src_ip, target, sum(failures)::bigint, max(last_event) FROM auth_failure_window
                   WHERE time > %(now)s - %(win)s AND time <= %(now)s GROUP BY src_ip, target""", p),
            "requests": (
                """SELECT system, requests, time FROM health_window
                   WHERE window_s = 60 AND endpoint = '*' AND time = %(last)s""", {"last": minute - timedelta(minutes=1)}),
            # the same clock hour of the same weekday, over the last ``weeks`` weeks
            "baseline_week": (
                """SELECT w.system, avg(w.requests)::float8, coalesce(stddev_pop(w.requests), 0)::float8
                   FROM generate_series(1, %(weeks)s) k
                   JOIN health_window w ON w.time >= %(hour)s - k * interval '1 week'
                                       AND w.time < %(hour)s - k * interval '1 week' + interval '1 hour'
                   WHERE w.window_s = 60 AND w.endpoint = '*'
                   GROUP BY w.system HAVING count(*) >= %(enough)s""",
                {"weeks": weeks, "hour": hour, "enough": week_minutes}),
            "baseline_recent": (
                """SELECT system, avg(requests)::float8, coalesce(stddev_pop(requests), 0)::float8 FROM health_window
                   WHERE window_s = 60 AND endpoint = '*'
                     AND time >= %(from)s AND time < %(to)s
                   GROUP BY system HAVING count(*) >= 10""",
                {"from": minute - timedelta(minutes=70), "to": minute - timedelta(minutes=10)}),
            # inbound firewall logs, first reduced to the distinct (source, host, port) of the window
            # (one hash aggregate, however often each was hit); a source with ``min_fanout`` of them
            # is a candidate, and only the candidates' logs are read again, by source, for the host
            # probed on most ports and the port probed on most hosts
            "fanout": (
                f"""WITH pairs AS MATERIALIZED (
                      SELECT src_ip, bool_or(action = 'allowed') AS allowed, max(time) AS last
                      FROM security_event
                      WHERE type = 'FirewallLog' AND {window} AND src_ip IS NOT NULL AND dst_ip IS NOT NULL
                        AND attrs->>'direction' IS DISTINCT FROM 'outbound'
                      GROUP BY src_ip, dst_ip, dst_port),
                    cand AS MATERIALIZED (
                      SELECT src_ip, count(*) FILTER (WHERE allowed) AS answered, max(last) AS last
                      FROM pairs GROUP BY src_ip HAVING count(*) >= %(min_fanout)s),
                    fw AS (
                      SELECT src_ip, coalesce(system, host(dst_ip)) AS tgt, dst_ip, dst_port
                      FROM cand JOIN security_event e USING (src_ip)
                      WHERE type = 'FirewallLog' AND {window} AND dst_ip IS NOT NULL
                        AND attrs->>'direction' IS DISTINCT FROM 'outbound'),
                    per_host AS (
                      SELECT DISTINCT ON (src_ip) src_ip, tgt, n FROM (
                        SELECT src_ip, tgt, count(DISTINCT dst_port)::int AS n FROM fw GROUP BY src_ip, tgt) h
                      ORDER BY src_ip, n DESC, tgt),
                    per_port AS (
                      SELECT DISTINCT ON (src_ip) src_ip, dst_port, n FROM (
                        SELECT src_ip, dst_port, count(DISTINCT dst_ip)::int AS n FROM fw GROUP BY src_ip, dst_port) q
                      ORDER BY src_ip, n DESC, dst_port)
                    SELECT host(c.src_ip), h.tgt, h.n, pp.dst_port, pp.n, c.answered::int, c.last
                    FROM cand c JOIN per_host h USING (src_ip) JOIN per_port pp USING (src_ip)""",
                {**p, "min_fanout": min_fanout}),
            "sensor_scans": (
                f"""SELECT host(src_ip), coalesce(system, host(dst_ip)), max((attrs->>'ports_scanned')::int),
                          {worst}, max(time)
                   FROM security_event WHERE type = 'PortScan' AND {window}
                     AND severity IN ('medium', 'high', 'critical')
                   GROUP BY 1, 2""", p),
            "malware": (
                f"""SELECT coalesce(device, system), attrs->>'malware', severity, action, layer, time
                   FROM security_event WHERE type = 'MalwareDetection' AND {window}""", p),
            "national": (
                f"""SELECT host(src_ip), coalesce(system, device), {worst}, count(*)::int, max(time),
                          (array_agg(rule ORDER BY time DESC))[1]
                   FROM security_event WHERE type = 'IdsAlert' AND layer = 4 AND {window}
                   GROUP BY 1, 2""", p),
        }
        out: dict[str, list[tuple]] = {}
        with translated("security detectors cannot read"):
            await self.pool.ensure_open(wait_s=5)
            async with self.pool.connection(timeout=10) as conn:
                # one transaction; compiling these plans costs more than it saves (50–80 ms a run), and
                # a parallel scan would take every core from the feed's writes for the read's length
                await conn.execute("SET LOCAL jit = off")
                await conn.execute("SET LOCAL max_parallel_workers_per_gather = 0")
                for name, (query, params) in queries.items():
                    cur = await conn.execute(query, params)
                    out[name] = await cur.fetchall()
        return out

    async def save_findings(self, findings: Sequence[Any]) -> int:
        """Upsert the findings in one statement; returns how many rows (one per key) were written."""
        rows = finding_rows(findings)
        if not rows:
            return 0
        columns = [list(column) for column in zip(*rows)]
        with translated("findings not saved", table="security_finding"):
            await self.pool.ensure_open(wait_s=5)
            async with self.pool.connection(timeout=10) as conn:
                await conn.execute(SAVE_FINDINGS, columns)
        return len(rows)


#: one row per key; a row already there keeps its first sighting, layer and threshold, takes the
#: largest value and the newest sighting, and the severity and detail of this run.  A row that would
#: not change is left alone (no new row version, no trigger).
SAVE_FINDINGS = """
INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold, detail,
                              first_seen, last_seen)
SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::smallint[],
                     %s::float8[], %s::float8[], %s::text[], %s::timestamptz[], %s::timestamptz[])
ON CONFLICT (kind, subject, target, time) DO UPDATE SET
  value = greatest(security_finding.value, EXCLUDED.value),
  severity = EXCLUDED.severity, detail = EXCLUDED.detail,
  last_seen = greatest(security_finding.last_seen, EXCLUDED.last_seen)
WHERE (security_finding.value, security_finding.severity, security_finding.detail, security_finding.last_seen)
      IS DISTINCT FROM (greatest(security_finding.value, EXCLUDED.value), EXCLUDED.severity, EXCLUDED.detail,
                        greatest(security_finding.last_seen, EXCLUDED.last_seen))"""


def finding_rows(findings: Sequence[Any]) -> list[tuple]:
    """The rows of ``SAVE_FINDINGS``, one per (kind, subject, target, bucket), in key order (so two
    workers saving the same findings lock them in the same order).

    Findings of one key are merged as upserting them one after the other would leave the row: the
    first one's layer, threshold and sighting (``first_seen``), the largest value, the newest
    sighting (``last_seen``), and the last one's severity and detail."""
    merged: dict[tuple, list] = {}
    for f in findings:
        key = (f.kind, f.subject, f.target, f.bucket)
        row = merged.get(key)
        if row is None:
            # one type per column: a list of ints and floats cannot be sent as one array
            merged[key] = [f.bucket, f.kind, f.subject, f.target, f.severity, int(f.layer), float(f.value),
                           float(f.threshold), f.detail, f.seen, f.seen]
        else:
            row[4], row[8] = f.severity, f.detail
            row[6] = max(row[6], float(f.value))
            row[10] = max(row[10], f.seen)
    return [tuple(merged[k]) for k in sorted(merged)]

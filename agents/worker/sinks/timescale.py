"""The TimescaleDB sink: one transaction per batch, idempotent, with offsets committed after.

For each batch:
1. the events' ids go into the id ledger (``event_id_ledger``, keyed by family and id) with
   ``INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING``, which tells which events
   are fresh (a replayed or re-sent event's id is already there, whatever its timestamp); the
   fresh ones go into the raw table in the same statement;
2. the family's increments are computed from the fresh events only, and added with
   ``INSERT … ON CONFLICT DO UPDATE`` (sums add, histograms merge), rows in key order so two
   workers never deadlock;
3. the source's own counters are added; then the transaction commits.

The agent acknowledges the Kafka messages only after ``write`` returns, so a crash at any
point either loses the whole transaction (and the messages are read again) or keeps it (and
the re-read events are duplicates, which change nothing).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from streams.core.errors import SinkError
from streams.core.contracts import Event
from agents.worker.sinks.base import WriteResult
from streams.core.tables import SOURCE_WINDOW, CounterTable, FeedSpec, RawTable, SourceStats, States, StateTable, source_increment
from streams.db.connect import AsyncPool
from streams.db.errors import translated

log = logging.getLogger(__name__)


LEDGER = "event_id_ledger"


def raw_insert_sql(table: RawTable, family: str) -> sql.Composed:
    """One statement per batch: the ids go into the family's ledger first, and only the events whose
    (id, time) the ledger took are stored; it returns those (id, time), the fresh events.

    The raw table alone is keyed by (id, time) (TimescaleDB wants the time in every unique key), so
    an event re-sent with its time written differently would be new to it; the ledger, keyed by
    (family, id), is not fooled.  Of two copies in one batch the first one is kept."""
    names = [c for c, _ in table.columns]
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in names)
    # binary parameters: psycopg's text form of an array quotes every element with regular
    # expressions, three to four times slower than the binary form on a batch of 20,000 events
    arrays = sql.SQL(", ").join(sql.SQL("%b::{}[]").format(sql.SQL(t)) for _, t in table.columns)
    return sql.SQL(
        "WITH batch AS (SELECT * FROM unnest({arrays}) AS b ({cols})), "
        "first AS (INSERT INTO {ledger} (family, id, time) SELECT {family}, id, time FROM batch "
        "ON CONFLICT DO NOTHING RETURNING id, time) "
        "INSERT INTO {t} ({cols}) SELECT batch.* FROM batch JOIN first USING (id, time) "
        "ON CONFLICT DO NOTHING RETURNING id, time"
    ).format(t=sql.Identifier(table.name), cols=cols, arrays=arrays, ledger=sql.Identifier(LEDGER),
             family=sql.Literal(family))


def counter_upsert_sql(table: CounterTable) -> sql.Composed:
    cols = table.columns
    t = sql.Identifier(table.name)
    sets: list[sql.Composable] = []
    for c in table.sums:
        sets.append(sql.SQL("{c} = {t}.{c} + EXCLUDED.{c}").format(c=sql.Identifier(c), t=t))
    for c in table.hists:
        sets.append(sql.SQL("{c} = ioc_hist_add({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.greatest:
        sets.append(sql.SQL("{c} = greatest({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.least:
        sets.append(sql.SQL("{c} = least({t}.{c}, EXCLUDED.{c})").format(c=sql.Identifier(c), t=t))
    for c in table.latest:
        sets.append(sql.SQL("{c} = coalesce(EXCLUDED.{c}, {t}.{c})").format(c=sql.Identifier(c), t=t))
    if table.name != SOURCE_WINDOW.name:
        sets.append(sql.SQL("updated_at = now()"))
    return sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets}").format(
        t=t,
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        vals=sql.SQL(", ").join(sql.Placeholder() for _ in cols),
        key=sql.SQL(", ").join(sql.Identifier(c) for c in table.key),
        sets=sql.SQL(", ").join(sets),
    )


def _adapt(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, (dict, list)) else value  # state columns hold JSON, not arrays


def _sort_key(row: tuple[Any, ...], nkey: int) -> tuple[str, ...]:
    return tuple(str(v) for v in row[:nkey])


class TimescaleSink:
    """Writes feed batches to TimescaleDB through a small async connection pool."""

    def __init__(self, dsn: str, *, min_size: int = 1, max_size: int = 4) -> None:
        self.pool = AsyncPool(dsn, role="worker", min_size=min_size, max_size=max_size)
        self._raw_sql: dict[str, sql.Composed] = {}
        self._counter_sql: dict[str, sql.Composed] = {}

    async def open(self, wait_s: float = 30) -> None:
        """Wait for the pool's first connection; ``SinkUnavailable`` after ``wait_s``."""
        await self.pool.open(wait_s)

    async def close(self) -> None:
        await self.pool.close()

    async def write(self, spec: FeedSpec, events: Sequence[Event], stats: SourceStats) -> WriteResult:
        await self.pool.ensure_open()
        with translated("database unavailable", table=spec.raw.name, refused=SinkError,
                        refused_what="write failed") as where:
            async with self.pool.connection(timeout=10) as conn:
                async with conn.transaction():
                    fresh: list[Event] = []
                    if events:
                        rows = [spec.raw.to_row(e) for e in events]
                        columns = list(zip(*rows))
                        cur = await conn.execute(self._raw(spec), [list(c) for c in columns])
                        inserted = {(r[0], r[1]) for r in await cur.fetchall()}
                        for ev in events:
                            key = (ev.id, ev.event_time)
                            if key in inserted:
                                inserted.discard(key)  # a second copy in the same batch is a duplicate
                                fresh.append(ev)
                    fresh.sort(key=lambda e: e.event_time)
                    states = await self._load_states(conn, spec.state, fresh) if spec.state else {}
                    incs = spec.increments(fresh, states)
                    if spec.state and incs.states:
                        where.table = spec.state.name
                        await self._save_states(conn, spec.state, incs.states)
                    incs.add(SOURCE_WINDOW, source_increment(spec, stats, fresh, len(events) - len(fresh)))
                    written = {spec.raw.name: len(fresh)}
                    for ctable, crows in incs.rows.items():
                        where.table = ctable.name
                        values = [tuple(r[c] for c in ctable.columns) for r in crows]
                        values.sort(key=lambda v, n=len(ctable.key): _sort_key(v, n))
                        async with conn.cursor() as cur:
                            await cur.executemany(self._counter(ctable), values)
                        written[ctable.name] = written.get(ctable.name, 0) + len(values)
        return WriteResult(len(fresh), len(events) - len(fresh), written)

    async def _load_states(self, conn, state: StateTable, fresh: Sequence[Event]) -> States:
        keys = sorted(state.keys_of(fresh), key=lambda k: tuple(str(v) for v in k))
        if not keys:
            return {}
        cols = state.all_columns
        query = sql.SQL(
            "SELECT {cols} FROM {t} WHERE ({key}) IN (SELECT * FROM unnest({arrays})) ORDER BY {key} FOR UPDATE"
        ).format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            t=sql.Identifier(state.name),
            key=sql.SQL(", ").join(sql.Identifier(c) for c in state.key),
            arrays=sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in state.key),
        )
        cur = await conn.execute(query, [[str(k[i]) for k in keys] for i in range(len(state.key))])
        out: States = {}
        for row in await cur.fetchall():
            d = dict(zip(cols, row))
            out[tuple(d[c] for c in state.key)] = d
        return out

    async def _save_states(self, conn, state: StateTable, rows: States) -> None:
        cols = state.all_columns
        query = sql.SQL("INSERT INTO {t} ({cols}) VALUES ({vals}) ON CONFLICT ({key}) DO UPDATE SET {sets}").format(
            t=sql.Identifier(state.name),
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in cols),
            vals=sql.SQL(", ").join(sql.Placeholder() for _ in cols),
            key=sql.SQL(", ").join(sql.Identifier(c) for c in state.key),
            sets=sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in state.columns),
        )
        values = [tuple(_adapt(row.get(c)) for c in cols) for _, row in sorted(rows.items(), key=lambda kv: tuple(
            str(v) for v in kv[0]))]
        async with conn.cursor() as cur:
            await cur.executemany(query, values)

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
            # inbound firewall logs per source: the host probed on most ports, the port probed on most
            # hosts, and how many (host, port) the firewall let through
            "fanout": (
                f"""WITH fw AS (
                      SELECT host(src_ip) AS src, coalesce(system, host(dst_ip)) AS tgt, dst_ip, dst_port,
                             action, time
                      FROM security_event
                      WHERE type = 'FirewallLog' AND {window} AND src_ip IS NOT NULL AND dst_ip IS NOT NULL
                        AND attrs->>'direction' IS DISTINCT FROM 'outbound'),
                    cand AS (
                      SELECT src, count(DISTINCT (dst_ip, dst_port)) FILTER (WHERE action = 'allowed') AS answered,
                             max(time) AS last
                      FROM fw GROUP BY src HAVING count(DISTINCT (dst_ip, dst_port)) >= %(min_fanout)s),
                    per_host AS (
                      SELECT DISTINCT ON (src) src, tgt, n FROM (
                        SELECT fw.src, tgt, count(DISTINCT dst_port)::int AS n FROM fw JOIN cand USING (src)
                        GROUP BY fw.src, tgt) h ORDER BY src, n DESC, tgt),
                    per_port AS (
                      SELECT DISTINCT ON (src) src, dst_port, n FROM (
                        SELECT fw.src, dst_port, count(DISTINCT dst_ip)::int AS n FROM fw JOIN cand USING (src)
                        GROUP BY fw.src, dst_port) q ORDER BY src, n DESC, dst_port)
                    SELECT c.src, h.tgt, h.n, pp.dst_port, pp.n, c.answered::int, c.last
                    FROM cand c JOIN per_host h USING (src) JOIN per_port pp USING (src)""",
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
                for name, (query, params) in queries.items():
                    cur = await conn.execute(query, params)
                    out[name] = await cur.fetchall()
        return out

    async def save_findings(self, findings: Sequence[Any]) -> int:
        if not findings:
            return 0
        rows = sorted(
            ((f.bucket, f.kind, f.subject, f.target, f.severity, f.layer, f.value, f.threshold, f.detail, f.seen)
             for f in findings), key=lambda r: (r[1], r[2], r[3], r[0]))
        with translated("findings not saved", table="security_finding"):
            async with self.pool.connection(timeout=10) as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        """INSERT INTO security_finding (time, kind, subject, target, severity, layer, value,
                                                         threshold, detail, first_seen, last_seen)
                           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                           ON CONFLICT (kind, subject, target, time) DO UPDATE SET
                             value = greatest(security_finding.value, EXCLUDED.value),
                             severity = EXCLUDED.severity, detail = EXCLUDED.detail,
                             last_seen = greatest(security_finding.last_seen, EXCLUDED.last_seen)""",
                        [(*r, r[-1]) for r in rows],
                    )
        return len(rows)

    async def heartbeat(self, worker: str, started: datetime, info: dict[str, Any]) -> None:
        """Record that ``worker`` is alive; the wall tells a stopped pipeline from a quiet feed."""
        with translated("heartbeat not written", table="worker_heartbeat"):
            await self.pool.ensure_open(wait_s=5)
            async with self.pool.connection(timeout=5) as conn:
                await conn.execute(
                    """INSERT INTO worker_heartbeat (worker, started_at, last_seen, info)
                       VALUES (%s, %s, now(), %s)
                       ON CONFLICT (worker) DO UPDATE SET last_seen = now(), info = EXCLUDED.info""",
                    (worker, started, Jsonb(info)),
                )

    async def drop_old_chunks(self, retention: dict[str, timedelta], now: datetime) -> dict[str, int]:
        """``drop_chunks`` per hypertable; returns how many chunks each lost."""
        dropped: dict[str, int] = {}
        # named in the error: the table being cut, or none yet (no connection)
        with translated("retention failed") as where:
            async with self.pool.connection(timeout=10) as conn:
                for table, keep in sorted(retention.items()):
                    where.table = table
                    cur = await conn.execute(
                        "SELECT count(*) FROM drop_chunks(%s::regclass, older_than => %s::timestamptz)",
                        (table, now - keep),
                    )
                    dropped[table] = (await cur.fetchone())[0]
        return dropped

    async def purge_expired(self, older_than: dict[str, datetime]) -> dict[str, int]:
        """Delete closed dossiers and reports whose events are past retention (so no replay revives them),
        and sign-in attempts past theirs."""
        queries = {
            "dossier_state": "DELETE FROM dossier_state WHERE status <> 'in_progress' AND closed_at < %s",
            "citizen_report": "DELETE FROM citizen_report WHERE status = 'closed' AND closed_at < %s",
            "login_attempt": "DELETE FROM login_attempt WHERE at < %s",
        }
        out: dict[str, int] = {}
        with translated("purge failed", table=next(iter(queries))) as where:
            async with self.pool.connection(timeout=10) as conn:
                for table, query in queries.items():
                    where.table = table
                    if table in older_than:
                        cur = await conn.execute(query, (older_than[table],))
                        out[table] = cur.rowcount
        return out

    async def known_ids(self, spec: FeedSpec, ids: Sequence[str]) -> set[str]:
        """Which of these ids the family's ledger holds: events already stored and counted."""
        with translated("id ledger not readable", table=LEDGER):
            await self.pool.ensure_open()
            async with self.pool.connection(timeout=10) as conn:
                cur = await conn.execute(sql.SQL("SELECT id FROM {} WHERE family = %s AND id = ANY(%s)").format(
                    sql.Identifier(LEDGER)), (spec.family, list(ids)))
                return {r[0] for r in await cur.fetchall()}

    async def prune_ledger(self, arrived_before: dict[str, datetime]) -> dict[str, int]:
        """Forget, per family, the ids that arrived before the given instant; returns how many went."""
        out: dict[str, int] = {}
        with translated("id ledger not pruned", table=LEDGER):
            query = sql.SQL("DELETE FROM {} WHERE family = %s AND arrived < %s").format(sql.Identifier(LEDGER))
            async with self.pool.connection(timeout=10) as conn:
                for family, before in sorted(arrived_before.items()):
                    cur = await conn.execute(query, (family, before))
                    out[family] = cur.rowcount
        return out

    async def maintenance_rules(self) -> list[tuple[int, str | None, datetime | None, datetime | None, Any]]:
        """Every maintenance window: (id, system, starts_at, ends_at, recurrence)."""
        with translated("maintenance windows not readable", table="maintenance_window"):
            async with self.pool.connection(timeout=10) as conn:
                cur = await conn.execute(
                    "SELECT id, system, starts_at, ends_at, recurrence FROM maintenance_window ORDER BY id"
                )
                return await cur.fetchall()

    async def save_occurrences(self, rows: list[tuple[int, str | None, datetime, datetime]]) -> int:
        if not rows:
            return 0
        with translated("maintenance expansion failed", table="maintenance_occurrence"):
            async with self.pool.connection(timeout=10) as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        """INSERT INTO maintenance_occurrence (window_id, system, starts_at, ends_at)
                           VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                        rows,
                    )
        return len(rows)

    def _raw(self, spec: FeedSpec) -> sql.Composed:
        q = self._raw_sql.get(spec.family)
        if q is None:
            q = self._raw_sql[spec.family] = raw_insert_sql(spec.raw, spec.family)
        return q

    def _counter(self, table: CounterTable) -> sql.Composed:
        q = self._counter_sql.get(table.name)
        if q is None:
            q = self._counter_sql[table.name] = counter_upsert_sql(table)
        return q


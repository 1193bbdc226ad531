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

This is the feed writer only; the worker's other work on the database goes through the same
pool (``streams.db.connect.AsyncPool``): heartbeat, retention and purges in
``agents.worker.housekeeping``, the security detectors' reads and findings in
``agents.worker.detectors``.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from streams.core.errors import SinkError
from streams.core.contracts import Event
from agents.worker.sinks.base import WriteResult
from streams.core.tables import SOURCE_WINDOW, UPDATED_AT, CounterTable, FeedSpec, RawTable, SourceStats, States, StateTable, source_increment
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
    if table.updated_at:
        sets.append(sql.SQL("{} = now()").format(sql.Identifier(UPDATED_AT)))
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
    """Writes feed batches to TimescaleDB through a small async connection pool: its own, made
    from a DSN, or the worker's (``AsyncPool``), which the worker's other parts share."""

    def __init__(self, db: str | AsyncPool, *, min_size: int = 1, max_size: int = 4) -> None:
        self.pool = db if isinstance(db, AsyncPool) else AsyncPool(db, role="worker", min_size=min_size,
                                                                    max_size=max_size)
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
            sets=sql.SQL(", ").join([*(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in state.columns),
                                     *([sql.SQL("{} = now()").format(sql.Identifier(UPDATED_AT))] if state.updated_at else [])]),
        )
        values = [tuple(_adapt(row.get(c)) for c in cols) for _, row in sorted(rows.items(), key=lambda kv: tuple(
            str(v) for v in kv[0]))]
        async with conn.cursor() as cur:
            await cur.executemany(query, values)

    async def known_ids(self, spec: FeedSpec, ids: Sequence[str]) -> set[str]:
        """Which of these ids the family's ledger holds: events already stored and counted."""
        with translated("id ledger not readable", table=LEDGER):
            await self.pool.ensure_open()
            async with self.pool.connection(timeout=10) as conn:
                cur = await conn.execute(sql.SQL("SELECT id FROM {} WHERE family = %s AND id = ANY(%s)").format(
                    sql.Identifier(LEDGER)), (spec.family, list(ids)))
                return {r[0] for r in await cur.fetchall()}

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


"""A same-guarantees baseline: a minimal hand-written consumer of the worker's backlog.

What a worker must do at the least to keep the pipeline's promises, written plainly and apart
from the project's code: read the backlog's messages with aiokafka ``getmany`` (a consumer
group of its own, partitions assigned by hand from the backlog's start offsets), decode them
with orjson (an event, or an array of events), and for each batch, in one transaction:

1. ``COPY`` (binary) the events (family, id, time, body) into a temporary staging table;
2. one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING`` into an id ledger of its own,
   whose returned ids are the fresh events, which go into a raw table of its own;
3. health-window increments of the fresh health events (10 s and 60 s windows, per endpoint
   and per system: counts, errors, a latency histogram, the newest event) found on integer
   epoch seconds, merged per key, and added with one ``INSERT … SELECT FROM unnest``;

then commit, and only then commit the offsets to Kafka.  No validation, no other family's
counters or state: the events per CPU-second it reaches are a ceiling for the worker's.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.kafka_io import backlog_records
from streams.db.connect import AsyncConnection, connection_options

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
WINDOWS_S = (10, 60)
HIST_BUCKETS = 120
HIST_RATIO = math.log(1.1)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS bench_base_ledger (family text, id text, time timestamptz NOT NULL, "
    "PRIMARY KEY (family, id))",
    "CREATE TABLE IF NOT EXISTS bench_base_event (family text, id text, time timestamptz NOT NULL, body jsonb, "
    "PRIMARY KEY (family, id))",
    "CREATE TABLE IF NOT EXISTS bench_base_health_window (system text, endpoint text, window_s integer, "
    "time timestamptz, probes bigint, probes_ok bigint, requests bigint, errors bigint, latency_hist int[], "
    "last_event timestamptz, PRIMARY KEY (system, endpoint, window_s, time))",
)
STAGE = ("CREATE TEMP TABLE IF NOT EXISTS bench_base_stage (n integer, family text, id text, time timestamptz, "
         "body text) ON COMMIT DELETE ROWS")
COPY = "COPY bench_base_stage (n, family, id, time, body) FROM STDIN (FORMAT BINARY)"
COPY_TYPES = ("integer", "text", "text", "timestamptz", "text")
FRESH = (
    "WITH fresh AS (INSERT INTO bench_base_ledger (family, id, time) SELECT family, id, time FROM bench_base_stage "
    "ORDER BY n ON CONFLICT DO NOTHING RETURNING family, id) "
    "INSERT INTO bench_base_event (family, id, time, body) SELECT s.family, s.id, s.time, s.body::jsonb "
    "FROM bench_base_stage s JOIN fresh USING (family, id) ORDER BY s.n ON CONFLICT DO NOTHING RETURNING family, id"
)
UPSERT = (
    "INSERT INTO bench_base_health_window AS w (system, endpoint, window_s, time, probes, probes_ok, requests, "
    "errors, latency_hist, last_event) "
    "SELECT u.system, u.endpoint, u.window_s, u.time, u.probes, u.probes_ok, u.requests, u.errors, u.hist::int[], "
    "u.last_event FROM unnest(%b::text[], %b::text[], %b::int[], %b::timestamptz[], %b::bigint[], %b::bigint[], "
    "%b::bigint[], %b::bigint[], %b::text[], %b::timestamptz[]) "
    "AS u (system, endpoint, window_s, time, probes, probes_ok, requests, errors, hist, last_event) "
    "ON CONFLICT (system, endpoint, window_s, time) DO UPDATE SET probes = w.probes + EXCLUDED.probes, "
    "probes_ok = w.probes_ok + EXCLUDED.probes_ok, requests = w.requests + EXCLUDED.requests, "
    "errors = w.errors + EXCLUDED.errors, latency_hist = ioc_hist_add(w.latency_hist, EXCLUDED.latency_hist), "
    "last_event = greatest(w.last_event, EXCLUDED.last_event)"
)


@dataclass(frozen=True, slots=True)
class Item:
    """One decoded event: what the staging table gets, and the event itself for the increments."""

    family: str
    id: str
    time: datetime
    body: str
    event: dict[str, Any]


def decode(family: str, value: bytes) -> list[Item]:
    """A message's events (one object, or an array of them); an event without id or time is dropped."""
    doc = orjson.loads(value)
    out = []
    for ev in doc if isinstance(doc, list) else (doc,):
        try:
            out.append(Item(family, ev["id"], datetime.fromisoformat(ev["dateObserved"]), orjson.dumps(ev).decode(),
                            ev))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def bucket(latency_ms: float) -> int:
    return 0 if latency_ms < 1.0 else min(HIST_BUCKETS - 1, int(math.log(latency_ms) / HIST_RATIO) + 1)


def health_windows(items: Iterable[Item]) -> dict[tuple[str, str, int, int], list[Any]]:
    """(system, endpoint, window, start in epoch seconds) -> [probes, probes_ok, requests, errors,
    histogram, newest event time], per endpoint and per system (endpoint ``*``)."""
    acc: dict[tuple[str, str, int, int], list[Any]] = {}
    for it in items:
        ev = it.event
        seconds = (it.time - EPOCH) // timedelta(seconds=1)
        probe = ev.get("type") == "ServiceProbe"
        ok = bool(ev.get("success"))
        error = not probe and (ev.get("status_code") or 0) >= 500
        b = bucket(float(ev.get("latency_ms") or 0.0))
        for size in WINDOWS_S:
            start = seconds - seconds % size
            for endpoint in (ev.get("endpoint", ""), "*"):
                key = (ev.get("system", ""), endpoint, size, start)
                row = acc.get(key)
                if row is None:
                    row = acc[key] = [0, 0, 0, 0, [0] * HIST_BUCKETS, it.time]
                row[0] += probe
                row[1] += probe and ok
                row[2] += not probe
                row[3] += error
                row[4][b] += 1
                if it.time > row[5]:
                    row[5] = it.time
    return acc


def upsert_arrays(windows: Mapping[tuple[str, str, int, int], list[Any]]) -> list[list[Any]]:
    """The windows as the upsert's ten arrays, in key order (two consumers lock rows alike)."""
    cols: list[list[Any]] = [[] for _ in range(10)]
    for key in sorted(windows):
        system, endpoint, size, start = key
        probes, probes_ok, requests, errors, hist, last = windows[key]
        row = (system, endpoint, size, EPOCH + timedelta(seconds=start), int(probes), int(probes_ok), int(requests),
               int(errors), "{" + ",".join(map(str, hist)) + "}", last)
        for col, v in zip(cols, row):
            col.append(v)
    return cols


@dataclass(frozen=True, slots=True)
class Drained:
    """What a drain did: events read (``fresh`` of them new), messages, transactions, and the wall
    and process CPU seconds it took."""

    events: int
    fresh: int
    messages: int
    batches: int
    seconds: float
    cpu_seconds: float


async def write(conn: AsyncConnection, items: Sequence[Item]) -> int:
    """One batch in one transaction (the staging table made beforehand); the number of fresh events."""
    async with conn.transaction():
        async with conn.cursor() as cur:
            async with cur.copy(COPY) as copy:
                copy.set_types(list(COPY_TYPES))
                for n, it in enumerate(items):
                    await copy.write_row((n, it.family, it.id, it.time, it.body))
        cur = await conn.execute(FRESH)
        fresh = {(f, i) for f, i in await cur.fetchall()}
        health = [it for it in items if it.family == "health" and (it.family, it.id) in fresh]
        if health:
            await conn.execute(UPSERT, upsert_arrays(health_windows(health)))
    return len(fresh)


async def drain(bootstrap: str, dsn: str, group: str, families: Mapping[str, str],
                start: Mapping[TopicPartition, int], end: Mapping[TopicPartition, int],
                max_records: int = 5000) -> Drained:
    """Consume the messages between ``start`` and ``end`` (topic -> family in ``families``) and write
    them as the module says; wall and process CPU time from the first fetch to the last commit."""
    conn = await AsyncConnection.connect(dsn, autocommit=True, **connection_options(dsn, role="bench"))
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                client_id="ioc-bench-baseline")
    await consumer.start()
    try:
        for statement in (*SCHEMA, STAGE):
            await conn.execute(statement)
        events = fresh = messages = batches = 0
        t0, c0 = time.perf_counter(), time.process_time()
        async for got in backlog_records(consumer, start, end, max_records):
            items: list[Item] = []
            offsets: dict[TopicPartition, int] = {}
            for tp, records in got.items():
                for r in records:
                    items.extend(decode(families[tp.topic], r.value or b""))
                if records:
                    messages += len(records)
                    offsets[tp] = records[-1].offset + 1
            if items:
                fresh += await write(conn, items)
                events += len(items)
                batches += 1
            if offsets:
                await consumer.commit(offsets)
        return Drained(events, fresh, messages, batches, time.perf_counter() - t0, time.process_time() - c0)
    finally:
        await consumer.stop()
        await conn.close()

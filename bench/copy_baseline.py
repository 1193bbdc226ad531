"""Bare COPY: the same raw rows into tables of the same shape, with psycopg's ``cursor.copy()``.

For each feed family's raw hypertable a twin ``bench_copy_<table>`` is made (``LIKE … INCLUDING
ALL``: same columns, primary key and indexes; a hypertable with the same chunk interval), and
the rows the worker would write are copied in one transaction per table.  Only the COPY is
timed: decoding and building the rows are not.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from agents.worker.workers import FEED_SPECS
from bench.feed import Template, stamp
from streams.core.clock import utcnow
from streams.core.validation import Decoder


@dataclass(frozen=True, slots=True)
class CopyResult:
    rows: int
    seconds: float
    per_table: dict[str, int]

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def rows_of(templates: Sequence[Template], n_events: int, id_prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    """Raw rows of about ``n_events`` fresh events stamped from the templates, by table."""
    specs = {s.family: s for s in FEED_SPECS}
    decoders = {f: Decoder(f) for f in specs}
    out: dict[str, list[tuple[Any, ...]]] = {}
    n = i = 0
    while n < n_events:
        t = templates[i % len(templates)]
        decoded = decoders[t.family].decode(stamp(t, n, id_prefix, utcnow()))
        spec = specs[t.family]
        out.setdefault(spec.raw.name, []).extend(spec.raw.to_row(e) for e in decoded.events)
        n += len(t.events)
        i += 1
    return out


def bare_copy(dsn: str, rows: dict[str, list[tuple[Any, ...]]]) -> CopyResult:
    specs = {s.raw.name: s.raw for s in FEED_SPECS}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for table in rows:
            twin = f"bench_copy_{table}"
            interval = conn.execute(
                "SELECT time_interval FROM timescaledb_information.dimensions WHERE hypertable_name = %s",
                (table,)).fetchone()
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(twin)))
            conn.execute(sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(
                sql.Identifier(twin), sql.Identifier(table)))
            conn.execute("SELECT create_hypertable(%s, 'time', chunk_time_interval => %s)",
                         (twin, interval[0] if interval else None))
        total = 0
        per: dict[str, int] = {}
        started = time.perf_counter()
        for table, rs in rows.items():
            cols = specs[table].column_names
            query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(f"bench_copy_{table}"), sql.SQL(", ").join(sql.Identifier(c) for c in cols))
            with conn.transaction(), conn.cursor() as cur, cur.copy(query) as copy:
                for r in rs:
                    copy.write_row(r)
            per[table] = len(rs)
            total += len(rs)
        seconds = time.perf_counter() - started
    return CopyResult(total, seconds, per)



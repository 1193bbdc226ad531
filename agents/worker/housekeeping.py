"""The worker's housekeeping in the database: its heartbeat, retention by ``drop_chunks``, the
purge of closed states and of sign-in attempts (``login_attempt``), the pruning of the id ledger,
and the maintenance windows' occurrences.  What to drop and purge, and when, is planned by
``agents.indicators.housekeeping`` (``run_housekeeping`` takes a ``HousekeepingStore``).

Every job reads or writes through the worker's pool (``streams.db.connect.AsyncPool``, shared
with the feed writer); a database that cannot be reached, or that refuses, is ``SinkUnavailable``
(the worker logs it and tries again at the next interval).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from psycopg import sql
from psycopg.types.json import Jsonb

from agents.worker.sinks.timescale import LEDGER
from streams.db.connect import AsyncPool
from streams.db.errors import translated


class HousekeepingStore:
    """Heartbeat, retention, purges and maintenance occurrences, through the worker's pool.

    A job waits at most ``wait_s`` for a connection of the pool (the heartbeat 5 s at most)."""

    HEARTBEAT_WAIT_S = 5.0

    def __init__(self, pool: AsyncPool, *, wait_s: float = 10.0) -> None:
        self.pool = pool
        self.wait_s = wait_s

    async def heartbeat(self, worker: str, started: datetime, info: dict[str, Any]) -> None:
        """Record that ``worker`` is alive; the wall tells a stopped pipeline from a quiet feed."""
        with translated("heartbeat not written", table="worker_heartbeat"):
            await self.pool.ensure_open(wait_s=5)
            async with self.pool.connection(timeout=min(self.HEARTBEAT_WAIT_S, self.wait_s)) as conn:
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
            async with self.pool.connection(timeout=self.wait_s) as conn:
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
            async with self.pool.connection(timeout=self.wait_s) as conn:
                for table, query in queries.items():
                    where.table = table
                    if table in older_than:
                        cur = await conn.execute(query, (older_than[table],))
                        out[table] = cur.rowcount
        return out

    async def prune_ledger(self, arrived_before: dict[str, datetime]) -> dict[str, int]:
        """Forget, per family, the ids that arrived before the given instant; returns how many went."""
        out: dict[str, int] = {}
        with translated("id ledger not pruned", table=LEDGER):
            query = sql.SQL("DELETE FROM {} WHERE family = %s AND arrived < %s").format(sql.Identifier(LEDGER))
            async with self.pool.connection(timeout=self.wait_s) as conn:
                for family, before in sorted(arrived_before.items()):
                    cur = await conn.execute(query, (family, before))
                    out[family] = cur.rowcount
        return out

    async def chunk_intervals(self, tables: list[str]) -> dict[str, timedelta]:
        """The time chunk interval of each of these hypertables (as TimescaleDB has it now)."""
        if not tables:
            return {}
        with translated("chunk intervals not readable", table=tables[0]):
            async with self.pool.connection(timeout=self.wait_s) as conn:
                cur = await conn.execute(
                    """SELECT hypertable_name, time_interval FROM timescaledb_information.dimensions
                       WHERE hypertable_schema = 'public' AND dimension_type = 'Time'
                         AND hypertable_name = ANY(%s)""", (tables,))
                return {name: interval for name, interval in await cur.fetchall() if interval is not None}

    async def maintenance_rules(self) -> list[tuple[int, str | None, datetime | None, datetime | None, Any]]:
        """Every maintenance window: (id, system, starts_at, ends_at, recurrence)."""
        with translated("maintenance windows not readable", table="maintenance_window"):
            async with self.pool.connection(timeout=self.wait_s) as conn:
                cur = await conn.execute(
                    "SELECT id, system, starts_at, ends_at, recurrence FROM maintenance_window ORDER BY id"
                )
                return await cur.fetchall()

    async def save_occurrences(self, rows: list[tuple[int, str | None, datetime, datetime]]) -> int:
        if not rows:
            return 0
        with translated("maintenance expansion failed", table="maintenance_occurrence"):
            async with self.pool.connection(timeout=self.wait_s) as conn:
                async with conn.cursor() as cur:
                    await cur.executemany(
                        """INSERT INTO maintenance_occurrence (window_id, system, starts_at, ends_at)
                           VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING""",
                        rows,
                    )
        return len(rows)

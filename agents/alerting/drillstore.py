"""Drill runs in TimescaleDB (``drill_run``, migration 035): registered when a drill starts, closed
when it ends; which alerts are a drill's; where a drill alert's notifications go.

A run is *active* from its start until ``GRACE_S`` after it finished (or after its planned end,
when the process playing it died without closing it): an alert raised in that time for one of the
run's targets belongs to the run (``alert.drill_run``, ``alert.drill``), since a rule's ``for``
makes alerts fire a little after the condition that caused them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from streams.core.errors import IOCError
from streams.db.connect import Connection, connect
from streams.db.errors import translated

GRACE_S = 120  # an alert this long after a drill's end is still the drill's
STATUSES = ("done", "stopped", "failed")

ACTIVE = """SELECT id, scenario, targets FROM drill_run
            WHERE started_at <= %(now)s
              AND coalesce(finished_at, ends_at) + make_interval(secs => %(grace)s) > %(now)s
            ORDER BY id DESC"""


def active_drills(conn: Connection, now: datetime) -> dict[str, tuple[int, str]]:
    """Entity -> (run id, scenario) of the drills active at ``now`` (the newest run wins);
    ``conn`` returns rows as dicts."""
    out: dict[str, tuple[int, str]] = {}
    for r in conn.execute(ACTIVE, {"now": now, "grace": GRACE_S}).fetchall():
        for entity in r["targets"] or ():
            out.setdefault(entity, (r["id"], r["scenario"]))
    return out


def routes_for(receivers_for: Callable[..., Sequence[tuple[str, str]]], alert: Mapping[str, Any],
               level: int) -> Sequence[tuple[str, str]]:
    """Who hears of ``alert`` at ``level``: a drill's alert asks for the drill receivers."""
    if alert.get("drill_run") is not None:
        return receivers_for(level, drill=alert.get("drill") or "")
    return receivers_for(level)


def _stored(what: str) -> AbstractContextManager:
    """The driver's errors (a database without migration 035, a lost connection) as ``SinkUnavailable``."""
    return translated(f"cannot {what}", table="drill_run", limit=200, hint=" (ioc db migrate?)")


class DrillStore:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def _connect(self) -> Connection:
        return connect(self.dsn, what="drill runs unavailable", table="drill_run", role="drills", dict_rows=True)

    def register(self, *, scenario: str, run: str, title_vi: str, title_en: str, started_at: datetime,
                 ends_at: datetime, started_by: str, speed: float, expected: Sequence[Mapping[str, str]],
                 targets: Sequence[str], steps: Sequence[Mapping[str, Any]]) -> int:
        """A new running drill; also closes runs left 'running' by a process that died."""
        with _stored("register the drill run"), self._connect() as conn, conn.transaction():
            conn.execute(
                """UPDATE drill_run SET status = 'failed', finished_at = ends_at,
                          note = 'not closed by its process (killed?)'
                   WHERE status = 'running' AND ends_at + make_interval(secs => %s) < %s""", (GRACE_S, started_at))
            return conn.execute(
                """INSERT INTO drill_run (scenario, run, title_vi, title_en, started_at, ends_at, started_by, speed,
                                          expected, targets, steps)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
                (scenario, run, title_vi, title_en, started_at, ends_at, started_by, speed,
                 Jsonb([dict(a) for a in expected]), list(targets), Jsonb([dict(s) for s in steps])),
            ).fetchone()["id"]

    def finish(self, run_id: int, status: str, finished_at: datetime, *,
               signals: Sequence[Mapping[str, Any]] | None = None, note: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"a drill run ends as one of {', '.join(STATUSES)}, not {status!r}")
        with _stored("close the drill run"), self._connect() as conn:
            conn.execute(
                """UPDATE drill_run SET status = %s, finished_at = %s, signals = %s, note = coalesce(%s, note)
                   WHERE id = %s""",
                (status, finished_at, Jsonb([dict(s) for s in signals]) if signals is not None else None, note,
                 run_id))

    def runs(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._connect() as conn:
            return conn.execute(
                """SELECT r.*, (SELECT count(*) FROM alert a WHERE a.drill_run = r.id) AS alerts
                   FROM drill_run r ORDER BY started_at DESC LIMIT %s""", (limit,)).fetchall()

    def run(self, run_id: int) -> dict[str, Any]:
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM drill_run WHERE id = %s", (run_id,)).fetchone()
        if row is None:
            raise IOCError(f"no drill run {run_id}")
        return row

    def alerts(self, run_id: int) -> list[dict[str, Any]]:
        """The run's alerts, oldest first."""
        with self._connect() as conn:
            return conn.execute("SELECT * FROM alert WHERE drill_run = %s ORDER BY started_at, id",
                                (run_id,)).fetchall()

    def alert_events(self, run_id: int) -> list[dict[str, Any]]:
        """Every transition and action of the run's alerts, with the alert's rule and entity."""
        with self._connect() as conn:
            return conn.execute(
                """SELECT e.alert_id, e.at, e.kind, e.actor, a.rule, a.entity FROM alert_event e
                   JOIN alert a ON a.id = e.alert_id WHERE a.drill_run = %s ORDER BY e.at, e.id""",
                (run_id,)).fetchall()

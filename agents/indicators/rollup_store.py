"""Running the rollups (``agents.indicators.rollups``) against the database.

``catch_up`` takes the marks the feed writer left, recomputes what they touched and deletes them, in
one transaction under an advisory lock (two workers never run it at once; the second finds nothing
to do).  ``rebuild`` recomputes a range from scratch (``ioc rollup --since``), a week per transaction.
Both only ever replace rollup rows by the sums of their source rows, so they can be repeated.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from agents.indicators.rollups import ROLLUPS, Mark, Rollup, Work, backfill, day_sql, hour_sql, plan
from streams.db.connect import connect

LOCK = 7_402_180_050  # pg_advisory_xact_lock key of the rollup job
TAKE_MARKS = "DELETE FROM rollup_pending RETURNING family, first_time, last_time, arrival"
MARK = "INSERT INTO rollup_pending (family, first_time, last_time, arrival) VALUES (%s, %s, %s, %s)"


@dataclass(frozen=True, slots=True)
class Done:
    marks: int
    hours: int  # hour ranges recomputed (all rollups)
    days: int  # day ranges recomputed


def _apply(conn, work: Sequence[Work], tz: ZoneInfo) -> Done:
    hours = days = 0
    for w in work:
        for since, until in w.hours:
            for statement in hour_sql(w.rollup):
                conn.execute(statement, {"since": since, "until": until})
            hours += 1
        for since, until in w.days:
            for statement in day_sql(w.rollup):
                conn.execute(statement, {"since": since, "until": until, "tz": tz.key})
            days += 1
    return Done(0, hours, days)


def catch_up(dsn: str, tz: ZoneInfo, rollups: Sequence[Rollup] = ROLLUPS) -> Done:
    """Recompute what the stored batches since the last run touched."""
    with connect(dsn, what="rollups failed", role="rollup") as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
        marks = [Mark(*row) for row in conn.execute(TAKE_MARKS).fetchall()]
        done = _apply(conn, plan(marks, tz, rollups), tz)
    return Done(len(marks), done.hours, done.days)


def rebuild(dsn: str, since: datetime, until: datetime, tz: ZoneInfo, rollups: Sequence[Rollup] = ROLLUPS,
            progress: Callable[[int, int, datetime], None] | None = None) -> Done:
    """Recompute every rollup over whole local days from ``since`` to ``until``."""
    pieces = backfill(since, until, tz, rollups)
    hours = days = 0
    with connect(dsn, what="rollups failed", role="rollup") as conn:
        for i, work in enumerate(pieces):
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK,))
                done = _apply(conn, work, tz)
            hours, days = hours + done.hours, days + done.days
            if progress:
                progress(i + 1, len(pieces), work[0].days[0][1])
    return Done(0, hours, days)

"""Hourly and daily rollups of the counter tables, declared from the tables themselves.

A rollup of a ``CounterTable`` keeps its key without ``window_s`` and ``time``, and per hour
(``<name>_hour``) and per local day (``<name>_day``) the same columns: sums add, histograms merge
(``ioc_hist_sum``), ``greatest`` columns keep the maximum and ``least`` the minimum.  A table that
keeps hour windows itself (cameras, sensors: ``window_s`` 3600) has only the day rollup, made from
those.  Dossiers and citizen reports are counted per local day already (``dossier_day``,
``citizen_day``, ``citizen_agency_day``): they are their own daily rollup.

What to recompute comes from marks: each stored batch leaves (family, oldest and newest event time,
arrival time); ``plan`` turns marks into the hours and the local days to recompute per rollup;
``hour_sql`` and ``day_sql`` recompute a range from its source rows, replacing what was there, so
running them twice, or over a range nothing changed in, changes nothing.  A history query takes the
coarsest resolution that fits its range: ``resolution``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from psycopg import sql

from agents.indicators.camera import CAMERA_WINDOW
from agents.indicators.health import HEALTH_WINDOW
from agents.indicators.network import NETWORK_WINDOW
from agents.indicators.security import AUTH_FAILURE_WINDOW, SECURITY_WINDOW
from agents.indicators.sensor import SENSOR_WINDOW
from streams.core.tables import SOURCE_WINDOW, CounterTable

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
WINDOW_COLUMNS = ("window_s", "time")


@dataclass(frozen=True, slots=True)
class Rollup:
    table: CounterTable
    families: tuple[str, ...]  # whose batches change it; () = every family (the source counters)
    window_s: int | None = 60  # the source rows' window; None when the table has no window_s column
    hourly: bool = True  # False: the table keeps hour windows itself (window_s 3600), days only
    by_arrival: bool = False  # bucketed by arrival time, not event time

    @property
    def base(self) -> str:
        return self.table.name.removesuffix("_window")

    @property
    def hour_table(self) -> str:
        return f"{self.base}_hour"

    @property
    def day_table(self) -> str:
        return f"{self.base}_day"

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(c for c in self.table.key if c not in WINDOW_COLUMNS)

    @property
    def values(self) -> tuple[str, ...]:
        t = self.table
        return t.sums + t.hists + t.greatest + t.least

    def touched_by(self, family: str) -> bool:
        return not self.families or family in self.families


ROLLUPS: tuple[Rollup, ...] = (
    Rollup(HEALTH_WINDOW, ("health",)),
    Rollup(SECURITY_WINDOW, ("security",)),
    Rollup(AUTH_FAILURE_WINDOW, ("security",), window_s=None),
    Rollup(CAMERA_WINDOW, ("camera",), window_s=3600, hourly=False),
    Rollup(SENSOR_WINDOW, ("sensor",), window_s=3600, hourly=False),
    Rollup(NETWORK_WINDOW, ("network",)),
    Rollup(SOURCE_WINDOW, (), window_s=None, by_arrival=True),
)


# --- what to recompute --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    family: str
    first: datetime | None  # the batch's fresh events' oldest and newest event time; None: none fresh
    last: datetime | None
    arrival: datetime


Range = tuple[datetime, datetime]  # half-open, UTC


def floor_hour(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc)
    return at.replace(minute=0, second=0, microsecond=0)


def merge(ranges: Iterable[Range]) -> list[Range]:
    """Overlapping or touching ranges joined, in order."""
    out: list[list[datetime]] = []
    for start, end in sorted(ranges):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def local_days(ranges: Iterable[Range], tz: ZoneInfo) -> list[Range]:
    """The local days (as UTC instants) that the hour ranges fall in, merged."""
    days = []
    for start, end in ranges:
        first = start.astimezone(tz).date()
        last = (end - timedelta(microseconds=1)).astimezone(tz).date()
        days.append((day_start(first, tz), day_start(last + DAY, tz)))
    return merge(days)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(timezone.utc)


@dataclass(frozen=True, slots=True)
class Work:
    rollup: Rollup
    hours: tuple[Range, ...]  # to recompute in <name>_hour (empty when not hourly)
    days: tuple[Range, ...]  # local days to recompute in <name>_day


def plan(marks: Iterable[Mark], tz: ZoneInfo, rollups: Sequence[Rollup] = ROLLUPS) -> list[Work]:
    """The hours and days each rollup must recompute for these marks."""
    marks = list(marks)
    out: list[Work] = []
    for r in rollups:
        spans = [(floor_hour(m.arrival), floor_hour(m.arrival) + HOUR) if r.by_arrival
                 else (floor_hour(m.first), floor_hour(m.last) + HOUR) for m in marks
                 if r.touched_by(m.family) and (r.by_arrival or (m.first is not None and m.last is not None))]
        if not spans:
            continue
        hours = merge(spans)
        out.append(Work(r, tuple(hours) if r.hourly else (), tuple(local_days(hours, tz))))
    return out


def backfill(since: datetime, until: datetime, tz: ZoneInfo, rollups: Sequence[Rollup] = ROLLUPS,
             step: timedelta = timedelta(days=7)) -> list[list[Work]]:
    """Every rollup over [since, until) in pieces of ``step`` (one transaction each), whole local days."""
    start = day_start(since.astimezone(tz).date(), tz)
    end = until.astimezone(timezone.utc)
    pieces: list[list[Work]] = []
    while start < end:
        stop = min(day_start((start + step).astimezone(tz).date(), tz), day_start(end.astimezone(tz).date() + DAY, tz))
        pieces.append([Work(r, ((start, stop),) if r.hourly else (), ((start, stop),)) for r in rollups])
        start = stop
    return pieces


# --- the statements ------------------------------------------------------------------------------


def _aggregates(r: Rollup) -> list[sql.Composable]:
    t = r.table
    parts: list[sql.Composable] = [sql.SQL("sum({})").format(sql.Identifier(c)) for c in t.sums]
    parts += [sql.SQL("ioc_hist_sum({})").format(sql.Identifier(c)) for c in t.hists]
    parts += [sql.SQL("max({})").format(sql.Identifier(c)) for c in t.greatest]
    parts += [sql.SQL("min({})").format(sql.Identifier(c)) for c in t.least]
    return parts


def _columns(first: str, r: Rollup) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in (first, *r.keys, *r.values))


def hour_sql(r: Rollup) -> tuple[sql.Composed, sql.Composed]:
    """Replace the rollup's hours in [%(since)s, %(until)s) with the sums of their windows: a delete,
    then an insert."""
    where = sql.SQL("window_s = {} AND ").format(sql.Literal(r.window_s)) if r.window_s is not None else sql.SQL("")
    keys = sql.SQL(", ").join(sql.Identifier(c) for c in r.keys)
    hour = sql.Identifier(r.hour_table)
    return (sql.SQL("DELETE FROM {} WHERE hour >= %(since)s AND hour < %(until)s").format(hour),
            sql.SQL("INSERT INTO {hour} ({cols}) SELECT time_bucket('1 hour', time) AS hour, {keys}, {aggs} "
                    "FROM {src} WHERE {where}time >= %(since)s AND time < %(until)s GROUP BY 1, {keys}"
                    ).format(hour=hour, cols=_columns("hour", r), keys=keys, aggs=sql.SQL(", ").join(_aggregates(r)),
                             src=sql.Identifier(r.table.name), where=where))


def day_sql(r: Rollup) -> tuple[sql.Composed, sql.Composed]:
    """Replace the rollup's local days in [%(since)s, %(until)s) (instants of local midnights) with
    the sums of their hours (``%(tz)s``: the zone name): a delete, then an insert."""
    keys = sql.SQL(", ").join(sql.Identifier(c) for c in r.keys)
    if r.hourly:
        src, at, where = sql.Identifier(r.hour_table), sql.Identifier("hour"), sql.SQL("")
    else:
        src, at = sql.Identifier(r.table.name), sql.Identifier("time")
        where = sql.SQL("window_s = {} AND ").format(sql.Literal(r.window_s))
    day = sql.Identifier(r.day_table)
    return (sql.SQL("DELETE FROM {} WHERE day >= (%(since)s AT TIME ZONE %(tz)s)::date "
                    "AND day < (%(until)s AT TIME ZONE %(tz)s)::date").format(day),
            sql.SQL("INSERT INTO {day} ({cols}) SELECT ({at} AT TIME ZONE %(tz)s)::date AS day, {keys}, {aggs} "
                    "FROM {src} WHERE {where}{at} >= %(since)s AND {at} < %(until)s GROUP BY 1, {keys}"
                    ).format(day=day, cols=_columns("day", r), at=at, keys=keys,
                             aggs=sql.SQL(", ").join(_aggregates(r)), src=src, where=where))


# --- which resolution a history query reads -------------------------------------------------------

RAW_UP_TO = timedelta(hours=6)  # 60 s windows: up to 360 points per series
HOURS_UP_TO = timedelta(days=14)  # hours: up to 336 points; beyond, days


def resolution(since: datetime, until: datetime) -> str:
    """``window`` (60 s), ``hour`` or ``day``: the coarsest that still draws the range in enough points."""
    span = until - since
    if span <= RAW_UP_TO:
        return "window"
    return "hour" if span <= HOURS_UP_TO else "day"

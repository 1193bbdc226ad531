"""The hourly and daily rollups against a recomputation of their own from the stored windows.

Three simulated hours across a local midnight go through the real feed writer in batches, the
rollup job running between them as the worker's timer would; then a resend of earlier batches
(duplicates: only the source counters move) and late events for the first hour.  Every rollup
table must then equal what this test computes in Python from the windows the writer stored; a
rebuild from scratch (``ioc rollup --since``) must change nothing.
"""
from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone

import orjson
import psycopg
import pytest

from agents.indicators.rollup_store import catch_up, rebuild
from agents.indicators.rollups import ROLLUPS, Mark, floor_hour, plan, resolution
from agents.worker.sinks.timescale import TimescaleSink
from agents.worker.workers import FEED_SPECS
from simulators.base import Runner
from simulators.catalog import build_simulators
from streams.cli.main import main
from streams.core import sketch
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from streams.core.tables import SourceStats
from streams.core.validation import Decoder
from tests.support import own_database

START = datetime(2026, 11, 26, 22, 30, tzinfo=LOCAL_TZ)  # 15:30 UTC: three hours across local midnight
HOURS = 3
SPECS = {s.family: s for s in FEED_SPECS}


def test_plan_turns_marks_into_hours_and_local_days():
    t = datetime(2026, 11, 26, 16, 40, tzinfo=timezone.utc)  # 23:40 local
    marks = [Mark("health", t, t + timedelta(minutes=30), t + timedelta(minutes=31)),  # 16:00–18:00 UTC
             Mark("health", t + timedelta(hours=5), t + timedelta(hours=5), t + timedelta(hours=5)),
             Mark("dossier", None, None, t)]  # nothing fresh: only the source counters moved
    work = {w.rollup.table.name: w for w in plan(marks, LOCAL_TZ)}
    health = work["health_window"]
    assert health.hours == ((floor_hour(t), floor_hour(t) + timedelta(hours=2)),
                            (floor_hour(t) + timedelta(hours=5), floor_hour(t) + timedelta(hours=6)))
    midnight = datetime(2026, 11, 26, 17, tzinfo=timezone.utc)  # 27/11 00:00 local
    assert health.days == ((midnight - timedelta(days=1), midnight + timedelta(days=1)),)  # two local days
    assert "security_window" not in work and "camera_window" not in work
    assert work["source_window"].hours == ((floor_hour(t), floor_hour(t) + timedelta(hours=2)),
                                           (floor_hour(t) + timedelta(hours=5), floor_hour(t) + timedelta(hours=6)))
    assert resolution(t, t + timedelta(hours=1)) == "window"
    assert resolution(t, t + timedelta(days=7)) == "hour" and resolution(t, t + timedelta(days=30)) == "day"


def simulated(province) -> list[tuple[str, list]]:
    """Three hours of every family at a modest rate, decoded, as (family, events) batches in arrival order."""
    messages: list[tuple[datetime, str, bytes]] = []
    at = START
    runner = Runner(build_simulators(province, random.Random(7)), lambda fam, key, value: messages.append(
        (at, fam, value)), rate=3, batch_above=float("inf"))
    while at < START + timedelta(hours=HOURS):
        at += timedelta(seconds=30)
        runner.step(at, 30)
    decoders: dict[str, Decoder] = {}
    batches: list[tuple[str, list]] = []
    for i in range(0, len(messages), 400):
        per_family: dict[str, list] = {}
        for sent, family, value in messages[i:i + 400]:
            decoder = decoders.get(family) or decoders.setdefault(
                family, Decoder(family, clock=lambda sent=sent: sent + timedelta(seconds=1)))
            decoder.clock = lambda sent=sent: sent + timedelta(seconds=1)
            per_family.setdefault(family, []).extend(decoder.decode(value).events)
        batches += [(f, evs) for f, evs in per_family.items() if evs]
    return batches


def window_rows(conn, r) -> list[dict]:
    where = "" if r.window_s is None else f" WHERE window_s = {int(r.window_s)}"
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(psycopg.sql.SQL("SELECT * FROM {}").format(psycopg.sql.Identifier(r.table.name))
                       + psycopg.sql.SQL(where)).fetchall()


def recomputed(rows: Sequence[dict], r, bucket) -> dict[tuple, tuple]:
    """The rollup by hand: sums add, histograms merge, greatest takes the maximum, least the minimum."""
    out: dict[tuple, dict] = {}
    t = r.table
    for row in rows:
        key = (bucket(row["time"]), *(row[k] for k in r.keys))
        acc = out.get(key)
        if acc is None:
            out[key] = {c: row[c] for c in r.values}
            continue
        for c in t.sums:
            acc[c] += row[c]
        for c in t.hists:
            acc[c] = sketch.merge(acc[c], row[c])
        for c in t.greatest:
            acc[c] = row[c] if acc[c] is None else acc[c] if row[c] is None else max(acc[c], row[c])
        for c in t.least:
            acc[c] = row[c] if acc[c] is None else acc[c] if row[c] is None else min(acc[c], row[c])
    return {k: tuple(_trim(v[c]) for c in r.values) for k, v in out.items()}


def _trim(value):
    if isinstance(value, list):  # a histogram: trailing empty buckets do not matter
        while value and value[-1] == 0:
            value = value[:-1]
        return tuple(value)
    return round(value, 6) if isinstance(value, float) else value


def stored(conn, table: str, first: str, r) -> dict[tuple, tuple]:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    rows = cur.execute(psycopg.sql.SQL("SELECT * FROM {}").format(psycopg.sql.Identifier(table))).fetchall()
    return {(row[first], *(row[k] for k in r.keys)): tuple(_trim(row[c]) for c in r.values) for row in rows}


def hour_of(at: datetime) -> datetime:
    return floor_hour(at)


def day_of(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


@pytest.fixture()
def own_db(test_settings):
    with own_database(test_settings, "rollup") as settings:
        yield settings


async def test_rollups_equal_the_windows_they_come_from(own_db, capsys):
    batches = simulated(load_province(own_db.province_file))
    assert len({f for f, _ in batches}) >= 5 and sum(len(e) for _, e in batches) > 20_000
    sink = TimescaleSink(own_db.dsn)
    arrived = START
    try:
        for i, (family, events) in enumerate(batches):
            arrived = max(arrived, events[-1].event_time)
            await sink.write(SPECS[family], events, SourceStats(family, arrived, len(events), 0))
            if i % 7 == 6:  # the worker's timer, between batches
                catch_up(own_db.dsn, LOCAL_TZ)
        resent = batches[: len(batches) // 3]  # a replay of the first hour: all duplicates
        for family, events in resent:
            await sink.write(SPECS[family], events, SourceStats(family, arrived, len(events), 0))
        late = [(f, [e.model_copy(update={"id": f"late-{e.id}"}) for e in evs]) for f, evs in batches[:4]]
        for family, events in late:  # new ids, event times in the first hour, arriving last
            await sink.write(SPECS[family], events, SourceStats(family, arrived, len(events), 0))
    finally:
        await sink.close()
    done = catch_up(own_db.dsn, LOCAL_TZ)
    assert done.marks > 0
    assert catch_up(own_db.dsn, LOCAL_TZ).marks == 0  # the marks were taken

    with psycopg.connect(own_db.dsn) as conn:
        def check():
            for r in ROLLUPS:
                rows = window_rows(conn, r)
                assert rows, r.table.name
                if r.hourly:
                    assert stored(conn, r.hour_table, "hour", r) == recomputed(rows, r, hour_of), r.hour_table
                assert stored(conn, r.day_table, "day", r) == recomputed(rows, r, day_of), r.day_table
            days = {d for (d,) in conn.execute("SELECT day FROM health_day").fetchall()}
            assert days == {date(2026, 11, 26), date(2026, 11, 27)}  # both sides of local midnight

        check()
        before = conn.execute("SELECT count(*), sum(probes) FROM health_hour").fetchone()
        assert main(["rollup", "--since", "2026-11-26", "--until", "2026-11-27", "--database-url", own_db.dsn]) == 0
        assert "rollups rebuilt for 2026-11-26 – 2026-11-27" in capsys.readouterr().out
        check()
        assert conn.execute("SELECT count(*), sum(probes) FROM health_hour").fetchone() == before
        assert main(["rollup", "--since", "2026-11-27", "--until", "2026-11-26", "--database-url", own_db.dsn]) == 1
        assert "InputError: --until 2026-11-26 is before --since 2026-11-27" in capsys.readouterr().err


def test_a_rebuild_of_a_range_without_windows_empties_it(own_db):
    with psycopg.connect(own_db.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO health_day (day, system, endpoint, probes, probes_ok, requests, errors, "
                      "latency_hist) VALUES ('2026-01-05', 'ghost', '*', 5, 5, 0, 0, '{}')")
    rebuild(own_db.dsn, datetime(2026, 1, 1, tzinfo=LOCAL_TZ), datetime(2026, 1, 31, tzinfo=LOCAL_TZ), LOCAL_TZ)
    with psycopg.connect(own_db.dsn) as conn:
        assert conn.execute("SELECT count(*) FROM health_day WHERE system = 'ghost'").fetchone()[0] == 0

"""An id counts once per feed family, whatever its timestamp, in TimescaleDB; and every hypertable
has a retention that housekeeping applies (docs/contracts.md, docs/operations.md)."""
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from prometheus_client import CollectorRegistry

from agents.indicators.housekeeping import run_housekeeping
from agents.indicators.rollups import ROLLUPS
from agents.worker.pipeline import FeedPipeline, Message
from streams.core.backoff import Backoff
from streams.core.windows import window_start
from agents.worker.workers import FEED_SPECS
from streams.core.geography import load_province
from streams.core.contracts.security import AuthFailure
from streams.core.metrics import WorkerMetrics
from streams.core.settings import DEFAULT_PROVINCE_FILE, DEFAULT_RETENTION_DAYS
from streams.core.tables import PRODUCER_WINDOW, PRODUCER_WINDOW_S, SOURCE_WINDOW, SOURCE_WINDOW_S, SourceStats
from agents.worker.housekeeping import HousekeepingStore
from agents.worker.sinks.timescale import LEDGER, TimescaleSink
from streams.core.validation import Decoder
from tests.agents.memory import cut_to_milliseconds, simulated_feed, with_microseconds

START = datetime(2026, 3, 2, 2, 30, tzinfo=timezone.utc)  # nobody else's windows
BOUNDS = load_province(DEFAULT_PROVINCE_FILE).bounds
RAW = {s.raw.name for s in FEED_SPECS}


def hypertables(db) -> set[str]:
    return {r[0] for r in db.execute("SELECT hypertable_name FROM timescaledb_information.hypertables")}


def counted(db, specs, events_by_family) -> dict:
    """Every window and day row of the stretch, every state row its events touch, the raw rows of its ids."""
    out = {}
    rollups = {r.hour_table for r in ROLLUPS}  # made by a timer from these windows: tests/streams/test_rollups_db.py
    arrivals = {SOURCE_WINDOW.name, PRODUCER_WINDOW.name}  # they count what arrived, copies included
    for table in sorted(hypertables(db) - RAW - rollups - arrivals - {"security_finding"}):  # findings: a timer's
        out[table] = sorted(r[0] for r in db.execute(
            f"SELECT (to_jsonb(t) - 'updated_at')::text FROM {table} t WHERE time >= %s AND time < %s",
            (START - timedelta(days=400), START + timedelta(days=2))))
    for spec in specs:
        events = events_by_family[spec.family]
        ids = [e.id for e in events]
        out[spec.raw.name] = sorted(db.execute(f"SELECT id, time FROM {spec.raw.name} WHERE id = ANY(%s)",
                                               (ids,)).fetchall())
        if spec.state:
            keys = spec.state.keys_of(events)
            rows = db.execute(f"SELECT to_jsonb(t) - 'updated_at' FROM {spec.state.name} t").fetchall()
            out[spec.state.name] = sorted(str(r[0]) for r in rows
                                          if tuple(r[0][c] for c in spec.state.key) in keys)
    return out


def pipeline(spec, sink, clock, letters):
    async def dead(batch):
        letters.extend(batch)

    async def sleep(_):
        return None

    return FeedPipeline(spec, Decoder(spec.family, bounds=BOUNDS, clock=clock), sink, dead,
                        WorkerMetrics(CollectorRegistry()), backoff=Backoff(0.01, 0.01), clock=clock, sleep=sleep)


async def test_a_re_send_with_its_time_cut_to_milliseconds_counts_once_in_the_raw_tables_and_every_window(
        test_settings, db):
    feed = [(f, with_microseconds(e)) for f, e in simulated_feed(START)]
    clock = [START + timedelta(minutes=6)]
    sink, letters = TimescaleSink(test_settings.dsn), []
    runs = {s.family: pipeline(s, sink, lambda: clock[0], letters) for s in FEED_SPECS}
    by_family = {f: [Message(f"ioc.{f}", 0, i, orjson.dumps(e)) for i, (g, e) in enumerate(feed) if g == f]
                 for f in runs}
    decoded = {f: [e for m in msgs for e in runs[f].decoder.decode(m.value).events] for f, msgs in by_family.items()}
    try:
        first = {f: (await run.process(by_family[f])).fresh for f, run in runs.items()}
        assert all(first.values()) and not letters, (first, letters[:1])
        before = counted(db, FEED_SPECS, decoded)
        assert all(len(before[s.raw.name]) == first[s.family] for s in FEED_SPECS)
        clock[0] += timedelta(minutes=1)
        for f, run in runs.items():
            resent = [Message(m.topic, 0, 100_000 + m.offset, orjson.dumps(cut_to_milliseconds(orjson.loads(m.value))))
                      for m in by_family[f]]
            assert resent[0].value != by_family[f][0].value
            out = await run.process(resent)
            assert (out.fresh, out.duplicates) == (0, first[f]), f
    finally:
        await sink.close()
    assert not letters
    assert counted(db, FEED_SPECS, decoded) == before  # raw rows (first copies), windows, days and states
    for f, n in first.items():
        row = db.execute("SELECT received, accepted, duplicates, rejected FROM source_window WHERE source = %s "
                         "AND time = %s", (f, window_start(clock[0], SOURCE_WINDOW_S))).fetchone()
        assert row == (n, 0, n, 0), f
        per_producer = db.execute("SELECT sum(received), sum(accepted), sum(duplicates), sum(invalid + late + dropped) "
                                  "FROM producer_window WHERE family = %s AND time = %s",
                                  (f, window_start(clock[0], PRODUCER_WINDOW_S))).fetchone()
        assert per_producer == (2 * n, n, n, 0), f  # the first copies and the re-sent ones, one 10-minute window
        assert db.execute(f"SELECT count(*) FROM {LEDGER} WHERE family = %s AND id = ANY(%s)",
                          (f, [e.id for e in decoded[f]])).fetchone()[0] == n


async def test_a_replay_older_than_the_late_allowance_is_counted_as_duplicates_not_late(test_settings, db):
    at = START + timedelta(days=1)

    def probe(i, when):
        return orjson.dumps({"id": f"late-replay-{i}", "type": "ServiceProbe", "system": "late-replay",
                             "endpoint": "/", "dateObserved": when.isoformat(), "success": i % 3 > 0,
                             "latency_ms": 10.0 + i})

    clock = [at + timedelta(minutes=1)]
    sink, letters = TimescaleSink(test_settings.dsn), []
    run = pipeline(FEED_SPECS[0], sink, lambda: clock[0], letters)
    batch = [Message("ioc.health", 0, i, probe(i, at + timedelta(seconds=i))) for i in range(50)]
    try:
        assert (await run.process(batch)).fresh == 50
        newest = at + timedelta(seconds=49) + timedelta(seconds=test_settings.late_allowance_s + 60)
        clock[0] = newest
        await run.process([Message("ioc.health", 0, 50, probe(50, newest))])
        window = "SELECT probes, probes_ok FROM health_window WHERE system = 'late-replay' AND window_s = 60 " \
                 "AND endpoint = '*' AND time = %s"
        before = db.execute(window, (at,)).fetchone()
        clock[0] = newest + timedelta(minutes=1)
        out = await run.process([Message(m.topic, 0, 51 + m.offset, m.value) for m in batch])
    finally:
        await sink.close()
    assert (out.fresh, out.duplicates, out.rejected, letters) == (0, 50, [], [])
    assert db.execute(window, (at,)).fetchone() == before == (50, 33)
    row = db.execute("SELECT received, accepted, duplicates, rejected FROM source_window WHERE source = 'health' "
                     "AND time = %s", (window_start(clock[0], SOURCE_WINDOW_S),)).fetchone()
    assert row == (50, 0, 50, 0)
    assert db.execute("SELECT sum(accepted), sum(duplicates), sum(late) FROM producer_window "
                      "WHERE family = 'health' AND producer = 'late-replay'").fetchone() == (51, 50, 0)


def test_every_hypertable_has_a_retention_default(db):
    tables = hypertables(db)
    assert {"health_event", "security_event", "camera_event"} <= tables  # the query sees them
    missing = sorted(tables - set(DEFAULT_RETENTION_DAYS))
    assert not missing, f"hypertables without a default in DEFAULT_RETENTION_DAYS: {missing}"
    assert not set(DEFAULT_RETENTION_DAYS) - tables, "a default for a table that is not a hypertable"


@pytest.mark.parametrize("table", ["security_event"])
async def test_housekeeping_drops_an_old_chunk_of_a_security_table_and_forgets_its_ids(test_settings, db, table):
    now = datetime.now(timezone.utc)
    keep = DEFAULT_RETENTION_DAYS[table]
    assert keep >= 365  # raw security logs are evidence: a year at least (docs/operations.md)

    def failure(name, at):
        return AuthFailure(id=name, type="AuthFailure", dateObserved=at, system="hk-sec", src_ip="203.0.113.9",
                           service="ssh", action="blocked", severity="low")

    old, recent = failure("hk-sec-old", now - timedelta(days=keep + 30)), failure("hk-sec-recent", now - timedelta(
        days=keep - 30))
    sink = TimescaleSink(test_settings.dsn)
    try:
        await sink.write(FEED_SPECS[1], [old, recent], SourceStats("security", now, 2, 0))
        db.execute(f"UPDATE {LEDGER} SET arrived = %s WHERE family = 'security' AND id = %s",
                   (now - timedelta(days=keep + 29), old.id))  # it arrived when it happened
        result = await run_housekeeping(HousekeepingStore(sink.pool), {table: keep}, now, login_attempt_days=30,
                                        raw_tables={"security": table},
                                        future_tolerance=timedelta(minutes=5))
    finally:
        await sink.close()
    assert result["dropped"][table] >= 1 and result["ledger"]["security"] >= 1
    ids = {r[0] for r in db.execute(f"SELECT id FROM {table} WHERE system = 'hk-sec'")}
    assert ids == {"hk-sec-recent"}
    known = {r[0] for r in db.execute(f"SELECT id FROM {LEDGER} WHERE family = 'security' AND id LIKE 'hk-sec-%%'")}
    assert known == {"hk-sec-recent"}

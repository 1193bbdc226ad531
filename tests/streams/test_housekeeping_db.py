from datetime import datetime, timedelta, timezone

from agents.indicators.housekeeping import run_housekeeping
from agents.indicators.health import HEALTH_FEED
from streams.core.contracts.health import ServiceProbe
from streams.core.tables import SourceStats
from agents.worker.housekeeping import HousekeepingStore
from agents.worker.sinks.timescale import LEDGER, TimescaleSink

FIVE_MIN = timedelta(minutes=5)


def probe(i, at, ok=True, system="gis"):
    return ServiceProbe(id=f"hk-{system}-{i}", type="ServiceProbe", system=system, endpoint="/", dateObserved=at,
                        success=ok, latency_ms=30.0)


async def test_retention_drops_old_chunks_and_uptime_skips_maintenance(test_settings, db):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    old = now - timedelta(days=40)
    recent = now - timedelta(hours=2)
    sink = TimescaleSink(test_settings.dsn)
    try:
        # an old event, and two recent hours: the first hour up, the second down
        events = [probe(0, old)] + [probe(i, recent + timedelta(minutes=i), ok=i < 60) for i in range(1, 120)]
        await sink.write(HEALTH_FEED, events, SourceStats("health", now, len(events), 0))
        db.execute(
            "INSERT INTO maintenance_window (system, starts_at, ends_at, reason) VALUES ('gis', %s, %s, 'test')",
            (recent + timedelta(minutes=59), recent + timedelta(minutes=121)),
        )
        state = """INSERT INTO dossier_state (dossier_id, procedure_code, unit_code, level, channel, received_date,
                                             due_date, status, closed_at, origin)
                   VALUES (%s, 'p', '899', 'district', 'online', %s, %s, %s, %s, 'received')"""
        long_ago = now - timedelta(days=500)
        db.execute(state, ("hk-old-closed", long_ago, long_ago, "resolved", long_ago))
        db.execute(state, ("hk-old-open", long_ago, long_ago, "in_progress", None))
        db.execute(state, ("hk-recent-closed", recent, recent, "resolved", recent))
        result = await run_housekeeping(
            HousekeepingStore(sink.pool),
            {"health_event": 30, "health_window": 400, "source_window": 90, "dossier_event": 400}, now,
            login_attempt_days=30, raw_tables={"health": "health_event"}, future_tolerance=FIVE_MIN)
    finally:
        await sink.close()
    assert result["dropped"]["health_event"] >= 1
    assert result["occurrences"] >= 1
    assert result["purged"]["dossier_state"] == 1 and "citizen_report" not in result["purged"]
    left = {r[0] for r in db.execute("SELECT dossier_id FROM dossier_state WHERE dossier_id LIKE 'hk-%%'")}
    assert left == {"hk-old-open", "hk-recent-closed"}  # open dossiers stay, however old
    assert db.execute("SELECT count(*) FROM health_event WHERE id = 'hk-gis-0'").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM health_event WHERE id LIKE 'hk-gis-%%'").fetchone()[0] == 119
    up = db.execute("SELECT ioc_uptime('gis', %s, %s)", (recent - timedelta(minutes=1), now)).fetchone()[0]
    assert up == 1.0  # the failing hour was in maintenance


async def test_sign_in_attempts_older_than_their_retention_are_pruned(test_settings, db):
    now = datetime.now(timezone.utc)
    name = f"hk-{now.timestamp():.0f}"
    for age in (timedelta(days=45), timedelta(days=31), timedelta(days=29), timedelta(minutes=1)):
        db.execute("INSERT INTO login_attempt (at, username, address, outcome) VALUES (%s, %s, '10.0.0.1', 'ok')",
                   (now - age, name))
    sink = TimescaleSink(test_settings.dsn)
    try:
        await sink.open()
        result = await run_housekeeping(HousekeepingStore(sink.pool), {}, now, login_attempt_days=30, raw_tables={},
                                        future_tolerance=FIVE_MIN)
        ages = sorted(r[0] for r in db.execute("SELECT now() - at FROM login_attempt WHERE username = %s", (name,)))
        assert result["purged"]["login_attempt"] >= 2
        assert len(ages) == 2 and ages[-1] < timedelta(days=30)  # the 45- and 31-day-old attempts went
        await run_housekeeping(HousekeepingStore(sink.pool), {}, now, login_attempt_days=1, raw_tables={},
                               future_tolerance=FIVE_MIN)
        assert db.execute("SELECT count(*) FROM login_attempt WHERE username = %s", (name,)).fetchone()[0] == 1
    finally:
        await sink.close()


def test_the_retention_comes_from_the_settings(monkeypatch):
    from agents.indicators.housekeeping import purge_before
    from streams.core.settings import Settings

    assert Settings().login_attempt_retention_days == 30
    monkeypatch.setenv("IOC_LOGIN_ATTEMPT_RETENTION_DAYS", "7")
    assert Settings().login_attempt_retention_days == 7
    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    assert purge_before({"dossier_event": 400}, now, 7) == {"dossier_state": now - timedelta(days=400),
                                                            "login_attempt": now - timedelta(days=7)}


def test_a_family_remembers_its_ids_as_long_as_its_raw_events_may_be_kept():
    from agents.indicators.housekeeping import ledger_before

    now = datetime(2026, 11, 28, tzinfo=timezone.utc)
    day, week = timedelta(days=1), timedelta(days=7)
    got = ledger_before({"health_event": 14, "security_event": 400, "dossier_event": 30, "health_window": 400},
                        {"health": "health_event", "security": "security_event", "camera": "camera_event",
                         "dossier": "dossier_event"}, now,
                        chunk_intervals={"health_event": day, "security_event": day, "dossier_event": week},
                        future_tolerance=FIVE_MIN)
    # a chunk goes only when all of it is past retention: its last event stays one interval longer
    assert got == {"health": now - timedelta(days=15) - FIVE_MIN, "security": now - timedelta(days=401) - FIVE_MIN,
                   "dossier": now - timedelta(days=37) - FIVE_MIN}
    # a raw table whose chunks are unknown keeps its ids
    assert ledger_before({"health_event": 14}, {"health": "health_event"}, now, chunk_intervals={},
                         future_tolerance=FIVE_MIN) == {}


async def test_an_event_resent_while_its_chunk_is_kept_is_still_a_duplicate(test_settings, db):
    """The raw table has no unique index: the ledger must remember an id as long as its row is there.
    An event that arrived (and happened) just past the retention stays in its chunk, which is not
    wholly past it; so does its id, and a copy sent now is a duplicate."""
    now = datetime.now(timezone.utc)
    keep = 30
    tag = f"hk-kept-{now.timestamp():.0f}"
    cutoff = now - timedelta(days=keep)
    # just past the retention, in the 1-day chunk (UTC days) that holds the cutoff
    at = max(cutoff.replace(hour=0, minute=0, second=0, microsecond=0), cutoff - timedelta(hours=1))
    sink = TimescaleSink(test_settings.dsn)
    try:
        first = await sink.write(HEALTH_FEED, [probe(0, at, system=tag)], SourceStats("health", now, 1, 0))
        chunk_end = db.execute("SELECT range_end FROM timescaledb_information.chunks WHERE hypertable_name = "
                               "'health_event' AND range_start <= %s AND range_end > %s", (at, at)).fetchone()[0]
        db.execute(f"UPDATE {LEDGER} SET arrived = %s WHERE family = 'health' AND id = %s", (at, f"hk-{tag}-0"))
        result = await run_housekeeping(HousekeepingStore(sink.pool), {"health_event": keep}, now,
                                        login_attempt_days=30, raw_tables={"health": "health_event"},
                                        future_tolerance=FIVE_MIN)
        stored = db.execute("SELECT count(*) FROM health_event WHERE system = %s", (tag,)).fetchone()[0]
        again = await sink.write(HEALTH_FEED, [probe(0, at, system=tag)], SourceStats("health", now, 1, 0))
    finally:
        await sink.close()
    assert first.fresh == 1 and "health" in result["ledger"]
    assert chunk_end > cutoff and stored == 1  # the row's chunk outlives the retention by up to a day
    assert again.fresh == 0 and again.duplicates == 1
    assert db.execute("SELECT count(*) FROM health_event WHERE system = %s", (tag,)).fetchone()[0] == 1

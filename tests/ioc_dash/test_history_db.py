"""The history queries against rollups seeded in this run's scratch database: what comes back is what was
seeded, at the resolution the range asks for, from the rollups only (a 60 s window or a 10 min sensor
window in the range never shows)."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from agents.indicators.history import Entity, HistoryRange, custom_range
from ioc_dash.history_store import HistoryStore
from streams.core import sketch
from streams.core.clock import LOCAL_TZ

H0 = datetime(2026, 6, 10, 3, tzinfo=timezone.utc)  # 10:00 local, 10 June
DAY_RANGE = HistoryRange("24h", H0 - timedelta(hours=2), H0 + timedelta(hours=22))  # resolution: hour
MONTH = custom_range(date(2026, 6, 1), date(2026, 6, 30), LOCAL_TZ)  # resolution: day


@pytest.fixture(scope="module")
def seeded(test_settings):
    import psycopg

    code = f"h{uuid.uuid4().hex[:6]}"
    hist = sketch.from_values([50.0] * 19 + [900.0])
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:
        for i, (probes, ok) in enumerate([(60, 60), (60, 30)]):
            conn.execute("INSERT INTO health_hour VALUES (%s, %s, '*', %s, %s, 100, %s, %s, NULL, NULL, NULL)",
                         (H0 + timedelta(hours=i), code, probes, ok, 5 * i, hist))
        conn.execute("INSERT INTO health_hour VALUES (%s, %s, '/api', 60, 0, 1, 1, %s, NULL, NULL, NULL)",
                     (H0, code, hist))  # an endpoint: not the system's row
        conn.execute("INSERT INTO health_window (system, endpoint, window_s, time, probes, probes_ok, requests, errors, "
                     "latency_hist) VALUES (%s, '*', 60, %s, 1, 0, 1, 1, %s)", (code, H0 + timedelta(hours=3), hist))
        for d, (probes, ok) in ((date(2026, 6, 9), (1440, 1440)), (date(2026, 6, 10), (1440, 1400))):
            conn.execute("INSERT INTO health_day VALUES (%s, %s, '*', %s, %s, 1000, 7, %s, NULL, NULL, NULL)",
                         (d, code, probes, ok, hist))
        conn.execute("INSERT INTO source_hour VALUES (%s, %s, 500, 490, 4, 6, NULL, NULL)", (H0, code))
        conn.execute("INSERT INTO source_day VALUES (%s, %s, 12000, 11900, 40, 60, NULL, NULL)", (date(2026, 6, 10), code))
        conn.execute("INSERT INTO sensor_window (station, metric, window_s, time, n, sum, max, min) "
                     "VALUES (%s, 'waterLevel', 3600, %s, 4, 6.0, 2.0, 1.0), (%s, 'waterLevel', 600, %s, 1, 99, 99, 99)",
                     (code, H0, code, H0))
        conn.execute("INSERT INTO sensor_day (day, station, metric, n, sum, max, min) "
                     "VALUES (%s, %s, 'waterLevel', 96, 144.0, 2.5, 0.5)", (date(2026, 6, 10), code))
        conn.execute("INSERT INTO network_hour VALUES (%s, %s, 60, 57, 3.0, 60, 1200, 60, 0.5, NULL)", (H0, code))
        conn.execute("INSERT INTO camera_window (camera, zone, rule, window_s, time, tracks) "
                     "VALUES ('c1', %s, 'intrusion', 3600, %s, 3), ('c2', %s, 'intrusion', 3600, %s, 4)",
                     (code, H0, code, H0))
        conn.execute("INSERT INTO security_hour VALUES (%s, %s, 'intrusion', 'high', 3, 11, 2, NULL)", (H0, code))
        conn.execute("INSERT INTO alert (rule, entity, severity, state, started_at, resolved_at) VALUES "
                     "('system_unavailable', %s, 'critical', 'resolved', %s, %s), "
                     "('system_unavailable', %s, 'critical', 'resolved', %s, %s)",
                     (f"{code}:/api", H0, H0 + timedelta(minutes=20),
                      code, H0 - timedelta(days=40), H0 - timedelta(days=39)))
    return code, hist


@pytest.fixture(scope="module")
def store(test_settings):
    s = HistoryStore(test_settings.dsn)
    yield s
    s.close()


def test_a_systems_hours_are_what_was_seeded(seeded, store):
    code, hist = seeded
    rows = store.entity(Entity("system", code), DAY_RANGE)
    assert [(r["at"], r["probes"], r["probes_ok"], r["errors"]) for r in rows] == [
        (H0, 60, 60, 0), (H0 + timedelta(hours=1), 60, 30, 5)]  # the endpoint's row and the 60 s window left out
    assert rows[0]["latency_hist"] == hist


def test_a_month_reads_the_days_at_local_midnight(seeded, store):
    code, _ = seeded
    rows = store.entity(Entity("system", code), MONTH)
    assert MONTH.resolution == "day"
    assert [(r["at"], r["probes_ok"]) for r in rows] == [
        (datetime(2026, 6, 8, 17, tzinfo=timezone.utc), 1440), (datetime(2026, 6, 9, 17, tzinfo=timezone.utc), 1400)]


def test_the_systems_page_has_one_row_per_system_and_bucket(seeded, store):
    code, _ = seeded
    rows = [r for r in store.page("systems", DAY_RANGE) if r["system"] == code]
    assert [(r["probes"], r["probes_ok"]) for r in rows] == [(60, 60), (60, 30)]


def test_sources_links_zones_and_security(seeded, store):
    code, _ = seeded
    assert [(r["received"], r["accepted"], r["rejected"]) for r in store.entity(Entity("source", code), DAY_RANGE)] \
        == [(500, 490, 6)]
    assert [(r["received"], r["rejected"]) for r in store.entity(Entity("source", code), MONTH)] == [(12000, 60)]
    link = store.entity(Entity("link", code), DAY_RANGE)
    assert [(r["polls"], r["polls_up"], r["latency_sum"] / r["latency_n"]) for r in link] == [(60, 57, 20.0)]
    assert [(r["rule"], r["tracks"]) for r in store.entity(Entity("zone", code), DAY_RANGE)] == [("intrusion", 7)]
    security = store.page("security", DAY_RANGE)
    assert sum(r["events"] for r in security if r["severity"] == "high") >= 11


def test_a_station_reads_its_hour_windows_and_days_only(seeded, store):
    code, _ = seeded
    hours = store.entity(Entity("station", code), DAY_RANGE)
    assert [(r["metric"], r["n"], r["total"], r["min"], r["max"]) for r in hours] == [("waterLevel", 4, 6.0, 1.0, 2.0)]
    days = store.entity(Entity("station", code, "waterLevel"), MONTH)
    assert [(r["n"], r["total"], r["min"], r["max"]) for r in days] == [(96, 144.0, 0.5, 2.5)]
    assert store.entity(Entity("station", code, "salinity"), MONTH) == []


def test_an_entitys_alerts_are_those_open_in_the_range(seeded, store):
    code, _ = seeded
    assert [a["entity"] for a in store.alerts(Entity("system", code), DAY_RANGE)] == [f"{code}:/api"]
    year = HistoryRange("1y", H0 - timedelta(days=365), H0 + timedelta(days=1))
    assert len(store.alerts(Entity("system", code), year)) == 2

"""Sensor, dossier and citizen families through the real sink: written twice, stored once.

Each test writes its events in two batches, then all of them again, and compares what the
database holds with what the events say, counted here by hand.
"""
import math
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from agents.indicators.citizen import CITIZEN_FEED
from agents.indicators.dossier import DOSSIER_FEED
from agents.indicators.sensor import SENSOR_FEED
from streams.core.contracts.citizen import ReportAssigned, ReportCreated, ReportRated, ReportResponded
from streams.core.contracts.dossier import DossierCarriedOver, DossierProcessed, DossierReceived, DossierResolved
from streams.core.contracts.sensor import WaterObserved, WeatherObserved
from streams.core.tables import SourceStats
from agents.worker.sinks.timescale import TimescaleSink

DAY = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)  # 27/11 local midnight
T0 = DAY + timedelta(hours=3)
WHERE = {"type": "Point", "coordinates": [105.08, 10.01]}


async def write_twice(test_settings, spec, events):
    sink = TimescaleSink(test_settings.dsn)
    half = len(events) // 2
    try:
        results = [await sink.write(spec, batch, SourceStats(spec.family, T0, len(batch), 0))
                   for batch in (events[:half], events[half:], events)]
    finally:
        await sink.close()
    assert [r.fresh for r in results] == [half, len(events) - half, 0]


async def test_sensor_windows_and_latest(test_settings, db):
    slope = 0.6  # m/h: the smoothed rise after T hours is slope * (1 - exp(-T / 0.5 h))
    levels = [WaterObserved(id=f"db-wl:{k}", type="WaterObserved", dateObserved=T0 + timedelta(minutes=5 * k),
                            location=WHERE, refDevice="db-wl", waterLevel=round(0.3 + slope * k / 12, 6))
              for k in range(25)]
    rain = [WeatherObserved(id=f"db-rain:{k}", type="WeatherObserved", dateObserved=T0 + timedelta(minutes=10 * k),
                            location=WHERE, refDevice="db-rain", precipitation=float(k % 4)) for k in range(13)]
    events = sorted(levels + rain, key=lambda e: e.dateObserved)
    await write_twice(test_settings, SENSOR_FEED, events)

    expected = {}
    for e in events:
        station, value = e.refDevice, e.waterLevel if isinstance(e, WaterObserved) else e.precipitation
        metric = "waterLevel" if isinstance(e, WaterObserved) else "precipitation"
        for size in (600, 3600):
            start = datetime.fromtimestamp(e.dateObserved.timestamp() // size * size, timezone.utc)
            expected.setdefault((station, metric, size, start), []).append(value)
    got = db.execute("SELECT station, metric, window_s, time, n, sum, min, max FROM sensor_window "
                     "WHERE station IN ('db-wl', 'db-rain')").fetchall()
    assert {r[:4]: (r[4], pytest.approx(r[5]), r[6], r[7]) for r in got} == {
        k: (len(v), pytest.approx(sum(v)), min(v), max(v)) for k, v in expected.items()}

    value, prev, at, rise = db.execute("SELECT value, prev_value, observed_at, rise_per_h FROM sensor_latest "
                                       "WHERE station = 'db-wl' AND metric = 'waterLevel'").fetchone()
    assert (value, prev, at) == (levels[-1].waterLevel, levels[-2].waterLevel, levels[-1].dateObserved)
    assert rise == pytest.approx(slope * (1 - math.exp(-2 / 0.5)), rel=1e-6)  # 2 hours of readings


async def test_dossier_day_counters_and_state(test_settings, db):
    facts = dict(procedure_code="KG.HT.01", level="commune", channel="online", online_kind="full_process")
    events, expected = [], Counter()
    for i in range(24):
        did, unit, received = f"DB-{i}", ("db-u1", "db-u2")[i % 2], T0 + timedelta(minutes=11 * i)
        due = received + timedelta(days=1)
        common = dict(dossier_id=did, unit_code=unit, received_date=received, due_date=due, digitised=i % 3 == 0,
                      **facts)
        if i % 6 == 5:  # open since yesterday: carried over, never received today
            common["received_date"] = DAY - timedelta(hours=5)
            events.append(DossierCarriedOver(id=f"{did}:co", type="DossierCarriedOver", dateObserved=DAY, **common))
            expected[(DAY, unit, "carried_over")] += 1
            continue
        events.append(DossierReceived(id=f"{did}:r", type="DossierReceived", dateObserved=received, **common))
        events.append(DossierProcessed(id=f"{did}:p", type="DossierProcessed", step="Thụ lý",
                                       dateObserved=received + timedelta(minutes=30), **common))
        expected[(DAY, unit, "received")] += 1
        expected[(DAY, unit, "online")] += 1
        expected[(DAY, unit, "full_process")] += 1
        expected[(DAY, unit, "digitised")] += i % 3 == 0
        if i % 2 == 0:
            done = received + timedelta(hours=2 if i % 4 else 30)  # 30 h: after the due date
            outcome = "late" if done > due else "on_time"
            events.append(DossierResolved(id=f"{did}:z", type="DossierResolved", dateObserved=done, resolved_date=done,
                                          outcome=outcome, **common))
            day = DAY + timedelta(days=(done - DAY) // timedelta(days=1))
            expected[(day, unit, f"resolved_{outcome}")] += 1
    events.sort(key=lambda e: e.dateObserved)
    await write_twice(test_settings, DOSSIER_FEED, events)

    names = ("received", "carried_over", "resolved_on_time", "resolved_late", "digitised", "online", "full_process")
    got = Counter()
    for row in db.execute(f"SELECT time, unit_code, {', '.join(names)} FROM dossier_day "
                          "WHERE unit_code IN ('db-u1', 'db-u2')").fetchall():
        for name, n in zip(names, row[2:]):
            got[(row[0], row[1], name)] += n
    assert +got == +expected
    status = dict(db.execute("SELECT status, count(*) FROM dossier_state WHERE dossier_id LIKE 'DB-%%' "
                             "GROUP BY status").fetchall())
    assert status == {"resolved": 12, "in_progress": 12}


async def test_citizen_counters_and_state(test_settings, db):
    base = dict(category="flooding", unit_code="db-u3")
    events, minutes, ratings = [], {}, {}
    for i in range(15):
        rid, at = f"DBPA-{i}", T0 + timedelta(minutes=17 * i)
        agency = ("db-cn", "db-tnmt")[i % 2]
        events.append(ReportCreated(id=f"{rid}:c", type="ReportCreated", report_id=rid, dateObserved=at,
                                    reported_at=at, location=WHERE, title="Ngập", channel="app", **base))
        events.append(ReportAssigned(id=f"{rid}:a", type="ReportAssigned", report_id=rid, reported_at=at,
                                     dateObserved=at + timedelta(minutes=1), agency=agency,
                                     deadline=at + timedelta(hours=24), **base))
        if i % 3:
            events.append(ReportResponded(id=f"{rid}:r", type="ReportResponded", report_id=rid, reported_at=at,
                                          dateObserved=at + timedelta(minutes=20 * i), agency=agency, response="ok",
                                          **base))
            minutes.setdefault(agency, []).append(20 * i)
            events.append(ReportRated(id=f"{rid}:s", type="ReportRated", report_id=rid, reported_at=at,
                                      dateObserved=at + timedelta(minutes=20 * i + 5), rating=1 + i % 5, **base))
            ratings.setdefault(agency, []).append(1 + i % 5)
    events.sort(key=lambda e: e.dateObserved)
    await write_twice(test_settings, CITIZEN_FEED, events)

    assert db.execute("SELECT time, category, received FROM citizen_day WHERE unit_code = 'db-u3'").fetchall() == [
        (DAY, "flooding", 15)]
    rows = db.execute("""SELECT agency, sum(responded)::int, sum(ratings)::int, sum(rating_sum)::int,
                                sum(satisfied)::int, ioc_hist_quantile(ioc_hist_sum(response_minutes_hist), 0.5),
                                ioc_hist_quantile(ioc_hist_sum(response_minutes_hist), 0.95)
                         FROM citizen_agency_day WHERE agency LIKE 'db-%%' GROUP BY agency""").fetchall()
    got = {r[0]: r[1:] for r in rows}
    assert got == {a: (len(m), len(ratings[a]), sum(ratings[a]), sum(r >= 4 for r in ratings[a]),
                       pytest.approx(sketch.quantile(sketch.from_values(m), 0.5)),
                       pytest.approx(sketch.quantile(sketch.from_values(m), 0.95))) for a, m in minutes.items()}
    status = dict(db.execute("SELECT status, count(*) FROM citizen_report WHERE report_id LIKE 'DBPA-%%' "
                             "GROUP BY status").fetchall())
    assert status == {"responded": 10, "assigned": 5}

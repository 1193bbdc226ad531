from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from agents.indicators.citizen import CITIZEN_AGENCY_DAY, CITIZEN_DAY, CITIZEN_FEED, citizen_increments
from agents.indicators.citizen_kpi import (
    agency_backlog,
    agency_service,
    cell_of,
    citizen_indicators,
    hot_spots,
    satisfaction_share,
)
from streams.core.contracts.citizen import ReportAssigned, ReportClosed, ReportCreated, ReportRated, ReportResponded
from tests.agents.memory import store, stored

DAY = datetime(2026, 11, 26, 17, 0, tzinfo=timezone.utc)  # 27/11 local midnight
T0 = DAY + timedelta(hours=2)
RG = {"type": "Point", "coordinates": [105.081, 10.012]}
BASE = dict(category="flooding", unit_code="899")


def report(rid="PA-1", at=T0, where=RG):
    return ReportCreated(id=f"{rid}:c", type="ReportCreated", report_id=rid, dateObserved=at, reported_at=at,
                         location=where, title="Ngập đường", channel="app", **BASE)


def assigned(rid="PA-1", at=T0, hours=24, agency="cn-kg"):
    return ReportAssigned(id=f"{rid}:a", type="ReportAssigned", report_id=rid, dateObserved=at + timedelta(minutes=5),
                          reported_at=at, agency=agency, deadline=at + timedelta(hours=hours), **BASE)


def responded(rid="PA-1", at=T0, after=timedelta(hours=2), agency="cn-kg", n=""):
    return ReportResponded(id=f"{rid}:r{n}", type="ReportResponded", report_id=rid, dateObserved=at + after,
                           reported_at=at, agency=agency, response="Đã xử lý", **BASE)


def rated(rid="PA-1", at=T0, rating=5, n=""):
    return ReportRated(id=f"{rid}:s{n}", type="ReportRated", report_id=rid, dateObserved=at + timedelta(hours=40),
                       reported_at=at, rating=rating, **BASE)


def test_a_report_counts_once_and_its_first_rating_counts():
    events = [report(), assigned(), responded(after=timedelta(hours=30)), responded(after=timedelta(hours=31), n="2"),
              rated(rating=5), rated(rating=2, n="2"),
              ReportClosed(id="PA-1:x", type="ReportClosed", report_id="PA-1", dateObserved=T0 + timedelta(hours=41),
                           reported_at=T0, resolution="resolved", **BASE)]
    incs = citizen_increments(events, {})
    [day] = incs.rows[CITIZEN_DAY]
    assert (day["time"], day["category"], day["unit_code"], day["received"]) == (DAY, "flooding", "899", 1)
    [agency] = incs.rows[CITIZEN_AGENCY_DAY]  # answered 30 h and rated 40 h later: both the next local day
    assert (agency["time"], agency["agency"]) == (DAY + timedelta(days=1), "cn-kg")
    assert (agency["responded"], agency["responded_late"]) == (1, 1)
    assert sketch.quantile(agency["response_minutes_hist"], 0.5) == pytest.approx(1800, rel=0.05)
    assert (agency["ratings"], agency["rating_sum"], agency["satisfied"]) == (1, 5, 1)
    st = incs.states[("PA-1",)]
    assert (st["status"], st["rating"], st["resolution"], st["agency"]) == ("closed", 2, "resolved", "cn-kg")
    assert (st["lon"], st["lat"]) == (105.081, 10.012)


def test_backlog_per_agency():
    now = T0 + timedelta(hours=23)
    rows = [
        {"agency": "cn-kg", "status": "assigned", "reported_at": T0, "deadline": T0 + timedelta(hours=24)},  # soon
        {"agency": "cn-kg", "status": "assigned", "reported_at": T0, "deadline": T0 + timedelta(hours=20)},  # overdue
        {"agency": "cn-kg", "status": "assigned", "reported_at": T0, "deadline": T0 + timedelta(hours=72)},  # not due
        {"agency": "cn-kg", "status": "responded", "reported_at": T0, "deadline": T0, "responded_at": T0},
        {"agency": "cn-kg", "status": "closed", "reported_at": T0, "deadline": T0},
        {"agency": None, "status": "new", "reported_at": T0, "deadline": None},
    ]
    b = agency_backlog(rows, now)
    assert (b["cn-kg"].open, b["cn-kg"].awaiting, b["cn-kg"].overdue, b["cn-kg"].due_soon) == (4, 3, 1, 1)
    assert (b["-"].open, b["-"].overdue) == (1, 0)
    assert citizen_indicators(b)["citizen.overdue"] == {"cn-kg": 1.0, "-": 0.0}


def test_response_times_and_satisfaction_per_agency():
    def row(agency, minutes, ratings=0, rating_sum=0, satisfied=0):
        return {"agency": agency, "responded": len(minutes), "responded_late": 0, "ratings": ratings,
                "rating_sum": rating_sum, "satisfied": satisfied, "response_minutes_hist": sketch.from_values(minutes)}

    rows = [row("so-tnmt", [10] * 50, ratings=4, rating_sum=14, satisfied=2), row("so-tnmt", [100] * 45 + [1000] * 5),
            row("pc-kg", [30], ratings=6, rating_sum=30, satisfied=6)]
    s = agency_service(rows)
    assert s["so-tnmt"].responded == 100
    assert s["so-tnmt"].p50_minutes == pytest.approx(10, rel=0.05)
    assert s["so-tnmt"].p95_minutes == pytest.approx(100, rel=0.05)
    assert (s["so-tnmt"].rating_mean, s["so-tnmt"].satisfaction_share) == (3.5, 0.5)
    assert satisfaction_share(s) == pytest.approx(8 / 10)


def test_hot_spots_per_cell_and_per_unit():
    near = {"type": "Point", "coordinates": [105.0812, 10.0121]}  # a few tens of metres away
    far = {"type": "Point", "coordinates": [104.49, 10.38]}
    events = [report("A", where=RG), report("B", where=near), report("C", where=far), report("D", where=far)]
    events.append(ReportClosed(id="D:x", type="ReportClosed", report_id="D", dateObserved=T0, reported_at=T0,
                               resolution="duplicate", **BASE))
    rows = list(citizen_increments(events, {}).states.values())
    spots = hot_spots(rows)
    assert [s.open for s in spots] == [2, 1]
    assert spots[0].lat == pytest.approx(10.012, abs=0.01) and spots[0].lon == pytest.approx(105.081, abs=0.01)
    assert [(s.key, s.open) for s in hot_spots(rows, by="unit")] == [("899", 3)]
    # cells are about 1 km wide: 0.009° of latitude, 0.0091° of longitude here
    assert cell_of(10.0, 105.0) != cell_of(10.0, 105.0 + 0.0095)
    assert cell_of(10.0, 105.0) != cell_of(10.0 + 0.0091, 105.0)


async def test_replays_and_batching_change_nothing():
    events = []
    for i in range(30):
        rid, at = f"PA-{i}", T0 + timedelta(minutes=13 * i)
        events += [report(rid, at), assigned(rid, at, agency="cn-kg" if i % 2 else "so-tnmt")]
        if i % 3:
            events.append(responded(rid, at, after=timedelta(minutes=40 * i + 5), agency="cn-kg" if i % 2 else "so-tnmt"))
        if i % 3 == 1:
            events.append(rated(rid, at, rating=1 + i % 5))
    events.sort(key=lambda e: e.dateObserved)
    once = stored(await store(CITIZEN_FEED, events))
    cut = [events[i:i + 8] for i in range(0, len(events), 8)]
    assert stored(await store(CITIZEN_FEED, *cut, events[5:], events)) == once

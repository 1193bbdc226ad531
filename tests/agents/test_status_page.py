"""The public status page's logic: day bars, the state now, incidents, the configuration."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.indicators.status_page import (BAD, DEGRADED, FAIR, GOOD, MAINTENANCE, NO_DATA, OPERATIONAL, OUTAGE,
                                           POOR, UNKNOWN, Bands, PublicService, Readings, StatusPageConfig, build,
                                           covered_minutes, current_state, day_bars, incidents, load_config,
                                           overall, parse_config)
from streams.core.clock import LOCAL_TZ
from streams.core.errors import ConfigError
from streams.core.settings import PACKAGE_ROOT

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)  # 12:00 local
DVC, CALL = PublicService("dvc", "Cổng dịch vụ công", "Public-service portal"), PublicService("callcenter", "1022", "1022")


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


def bars(counts, maintenance=(), days=5, bands=Bands()):
    return day_bars(counts, list(maintenance), today=TODAY, days=days, tz=LOCAL_TZ, now=NOW, bands=bands)


def test_one_bar_per_local_day_oldest_first_today_last():
    out = bars({})
    assert [b.day for b in out] == [TODAY - timedelta(days=n) for n in (4, 3, 2, 1, 0)]


def test_a_day_without_data_is_grey_never_green():
    out = bars({TODAY - timedelta(days=1): (1440, 0)})
    assert [b.kind for b in out] == [NO_DATA, NO_DATA, NO_DATA, GOOD, NO_DATA]
    assert out[0].availability is None
    assert overall(out) == 1.0  # over the minutes counted, days without data are not up


def test_the_colour_follows_the_availability_bands():
    d = [TODAY - timedelta(days=n) for n in range(4, 0, -1)]
    out = bars({d[0]: (1440, 0), d[1]: (1420, 20), d[2]: (1300, 140), d[3]: (700, 740)})
    assert [b.kind for b in out[:4]] == [GOOD, FAIR, POOR, BAD]
    assert out[1].availability == pytest.approx(1420 / 1440)
    assert overall(out) == pytest.approx((1440 + 1420 + 1300 + 700) / (4 * 1440))


def test_maintenance_minutes_are_counted_and_a_day_of_maintenance_only_is_not_no_data():
    yesterday = TODAY - timedelta(days=1)
    window = (local(yesterday, 1), local(yesterday, 3))  # two hours, counted once though listed twice
    out = bars({yesterday: (0, 0)}, [window, window, (local(TODAY - timedelta(days=3), 23), local(TODAY - timedelta(days=2), 1))])
    assert out[3].maintenance == 120 and out[3].kind == MAINTENANCE
    assert out[1].maintenance == 60 and out[2].maintenance == 60  # across midnight: an hour each side
    assert out[0].kind == NO_DATA and out[0].maintenance == 0


def test_maintenance_with_counted_minutes_keeps_the_colour_of_those_minutes():
    yesterday = TODAY - timedelta(days=1)
    out = bars({yesterday: (1320, 0)}, [(local(yesterday, 1), local(yesterday, 3))])
    assert out[3].kind == GOOD and out[3].maintenance == 120


def test_planned_maintenance_later_today_is_not_counted_yet():
    later = (local(TODAY, 20), local(TODAY, 22))  # NOW is 12:00 local
    assert bars({}, [later])[4].maintenance == 0
    assert covered_minutes([later], local(TODAY, 0), local(TODAY, 21)) == 60


@pytest.mark.parametrize(("health", "held", "outage", "state"), [
    ("ok", False, False, OPERATIONAL), ("degraded", False, False, DEGRADED), ("down", False, False, OUTAGE),
    ("ok", False, True, OUTAGE), ("stale", False, False, UNKNOWN), (None, False, False, UNKNOWN),
    ("down", True, True, MAINTENANCE), ("stale", True, False, MAINTENANCE),
])
def test_the_state_now(health, held, outage, state):
    assert current_state(health, in_maintenance=held, outage_open=outage) == state


def test_incidents_newest_first_for_the_public_services_only():
    since, until = NOW - timedelta(days=90), NOW + timedelta(days=14)
    out = incidents([DVC, CALL],
                    [("dvc", NOW - timedelta(days=3), NOW - timedelta(days=3) + timedelta(minutes=42)),
                     ("callcenter", NOW - timedelta(minutes=5), None),
                     ("eoffice", NOW - timedelta(days=1), None),  # not public
                     ("dvc", NOW - timedelta(days=120), NOW - timedelta(days=119))],  # too old
                    [(None, NOW + timedelta(days=2), NOW + timedelta(days=2, hours=2)),  # every system, planned
                     ("gis", NOW - timedelta(days=4), NOW - timedelta(days=4) + timedelta(hours=1))],
                    since=since, until=until)
    assert [(i.service, i.kind) for i in out] == [(0, "maintenance"), (1, "maintenance"), (1, "outage"), (0, "outage")]
    assert out[0].planned(NOW) and not out[2].planned(NOW)
    assert out[2].end is None and out[2].duration(NOW) == timedelta(minutes=5)
    assert out[3].duration(NOW) == timedelta(minutes=42)


def test_the_page_from_readings():
    config = StatusPageConfig((DVC, CALL), days=3)
    readings = Readings(minutes={"dvc": {TODAY: (700, 20)}}, health={"dvc": "ok", "callcenter": "stale"},
                        outages=[("dvc", NOW - timedelta(hours=2), NOW - timedelta(hours=1, minutes=40))],
                        maintenance=[("callcenter", NOW - timedelta(minutes=10), NOW + timedelta(minutes=50))])
    page = build(config, readings, now=NOW, tz=LOCAL_TZ)
    dvc, call = page.services
    assert (dvc.state, call.state) == (OPERATIONAL, MAINTENANCE)
    assert [b.kind for b in dvc.bars] == [NO_DATA, NO_DATA, FAIR] and dvc.availability == pytest.approx(700 / 720)
    assert [b.kind for b in call.bars] == [NO_DATA, NO_DATA, MAINTENANCE] and call.availability is None
    assert [(i.service, i.kind) for i in page.incidents] == [(1, "maintenance"), (0, "outage")]


def test_the_shipped_file_shows_the_portal_only_once_the_province_has_one():
    path = PACKAGE_ROOT / "deploy" / "status_page.yaml"
    assert [s.system for s in load_config(path, ["dvc", "callcenter", "gis"]).services] == ["dvc", "callcenter"]
    config = load_config(path, ["dvc", "callcenter", "portal"])
    assert [s.system for s in config.services] == ["dvc", "callcenter", "portal"]
    assert config.days == 90 and config.bands == Bands(0.995, 0.95, 0.80)


@pytest.mark.parametrize(("doc", "message"), [
    ({}, "non-empty list `services`"),
    ({"services": [{"system": "dvcc", "name": {"vi": "a", "en": "b"}}]}, "services[0].system: 'dvcc' is not a system"),
    ({"services": [{"system": "dvc", "name": {"vi": "a"}}]}, "services[0].name: expected {vi: …, en: …}"),
    ({"services": [{"system": "dvc", "name": {"vi": "a", "en": "b"}}] * 2}, "'dvc' is listed twice"),
    ({"services": [{"system": "dvc", "name": {"vi": "a", "en": "b"}}], "days": 0}, "days must be a whole number"),
    ({"services": [{"system": "dvc", "name": {"vi": "a", "en": "b"}}], "bands": {"good": 1.5}}, "bands.good: 1.5"),
    ({"services": [{"system": "dvc", "name": {"vi": "a", "en": "b"}}], "bands": {"fair": 0.999}}, "bands must go down"),
])
def test_bad_files_say_what_is_wrong(doc, message):
    with pytest.raises(ConfigError, match="status page file") as caught:
        parse_config(doc, ["dvc"])
    assert message in str(caught.value)


def test_a_missing_file_names_its_setting(tmp_path: Path):
    with pytest.raises(ConfigError, match="IOC_STATUS_PAGE_FILE"):
        load_config(tmp_path / "none.yaml", ["dvc"])

"""Ranges of history (pure): parsing the URL's range, the resolution each reads, entities and links."""
from datetime import date, datetime, timedelta, timezone

import pytest

from agents.indicators.history import (CUSTOM, LIVE, Entity, HistoryRange, alert_entity, around, custom_range,
                                       entity_href, months, parse_entity, parse_range, query_params, range_href)
from agents.indicators.rollups import resolution
from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError

NOW = datetime(2026, 12, 3, 5, 30, tzinfo=timezone.utc)  # 12:30 in Hà Nội


def test_no_range_is_the_live_hour():
    rng = parse_range({}, NOW, LOCAL_TZ)
    assert rng.live and rng.key == LIVE
    assert (rng.since, rng.until) == (NOW - timedelta(hours=1), NOW)
    assert rng.resolution == "window"
    assert rng.query() == {}


@pytest.mark.parametrize("key, span, res", [("24h", timedelta(hours=24), "hour"), ("7d", timedelta(days=7), "hour"),
                                            ("30d", timedelta(days=30), "day"), ("90d", timedelta(days=90), "day"),
                                            ("1y", timedelta(days=365), "day")])
def test_each_range_reaches_back_its_span_at_the_coarsest_resolution_that_fits(key, span, res):
    rng = parse_range({"range": key}, NOW, LOCAL_TZ)
    assert (rng.since, rng.until) == (NOW - span, NOW)
    assert rng.resolution == res
    assert rng.query() == {"range": key}


def test_resolution_boundaries():
    at = NOW
    assert resolution(at - timedelta(hours=6), at) == "window"
    assert resolution(at - timedelta(hours=6, seconds=1), at) == "hour"
    assert resolution(at - timedelta(days=14), at) == "hour"
    assert resolution(at - timedelta(days=14, seconds=1), at) == "day"


def test_a_custom_range_is_whole_local_days_both_included():
    rng = parse_range({"range": "custom", "from": "2026-11-01", "to": "2026-11-30"}, NOW, LOCAL_TZ)
    assert rng.key == CUSTOM
    assert rng.since == datetime(2026, 10, 31, 17, tzinfo=timezone.utc)  # local midnight, UTC+7
    assert rng.until == datetime(2026, 11, 30, 17, tzinfo=timezone.utc)
    assert rng.resolution == "day"
    assert rng.query() == {"range": "custom", "from": "2026-11-01", "to": "2026-11-30"}
    one_day = custom_range(date(2026, 11, 5), date(2026, 11, 5), LOCAL_TZ)
    assert one_day.until - one_day.since == timedelta(days=1) and one_day.resolution == "hour"


@pytest.mark.parametrize("params, field", [
    ({"range": "2w"}, "range"), ({"range": "custom", "from": "2026-11-01"}, "range"),
    ({"range": "custom", "from": "1/11/2026", "to": "2026-11-30"}, "from"),
    ({"range": "custom", "from": "2026-11-30", "to": "2026-11-01"}, "to"),
    ({"range": "custom", "from": "2020-01-01", "to": "2026-11-01"}, "to"),
])
def test_a_bad_range_names_the_parameter(params, field):
    with pytest.raises(InputError, match=f"^{field}: "):
        parse_range(params, NOW, LOCAL_TZ)


def test_range_links_keep_the_language_and_drop_a_custom_range():
    search = "?lang=en&range=custom&from=2026-11-01&to=2026-11-02"
    assert range_href("/systems", search, "30d") == "/systems?lang=en&range=30d"
    assert range_href("/systems", search, LIVE) == "/systems?lang=en"
    assert query_params("?range=7d&range=30d") == {"range": "30d"}


def test_entity_parsing_and_links():
    assert parse_entity({"kind": "system", "id": "dvc"}) == Entity("system", "dvc")
    assert parse_entity({"kind": "station", "id": "wl-1", "metric": "waterLevel"}).metric == "waterLevel"
    with pytest.raises(InputError, match="^kind: "):
        parse_entity({"kind": "planet", "id": "x"})
    with pytest.raises(InputError, match="^id: "):
        parse_entity({"kind": "system"})
    assert entity_href(Entity("system", "dvc"), {"range": "30d"}, "vi") == "/history?kind=system&id=dvc&range=30d&lang=vi"


def test_an_alerts_entity_is_found_among_the_provinces_codes():
    codes = dict(systems={"dvc"}, stations={"wl-1"}, zones={"bz-1"}, links={"net-1"}, sources={"health"})
    assert alert_entity("dvc:/api", **codes) == Entity("system", "dvc")
    assert alert_entity("wl-1", **codes) == Entity("station", "wl-1")
    assert alert_entity("net-1", **codes) == Entity("link", "net-1")
    assert alert_entity("203.0.113.9", **codes) is None


def test_the_days_around_an_alert():
    assert around(NOW, LOCAL_TZ) == {"range": "custom", "from": "2026-11-30", "to": "2026-12-06"}


def test_the_months_a_range_covers_stop_at_now():
    rng = HistoryRange("90d", NOW - timedelta(days=90), NOW)
    assert months(rng, LOCAL_TZ, NOW) == [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]
    future = custom_range(date(2026, 12, 1), date(2027, 2, 1), LOCAL_TZ)
    assert months(future, LOCAL_TZ, NOW) == [date(2026, 12, 1)]

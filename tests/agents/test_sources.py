from datetime import datetime, timedelta, timezone

from agents.indicators.sources import source_health

NOW = datetime(2026, 11, 27, 5, 0, tzinfo=timezone.utc)
W = timedelta(minutes=5)


def health(**kw):
    base = dict(received=3000, rejected=0, duplicates=0, window=W, last_event=NOW, last_arrival=NOW,
                expected_per_s=10.0, now=NOW)
    base.update(kw)
    return source_health("sensor", **base)


def test_a_good_source_is_ok():
    h = health()
    assert h.received_per_s == 10.0 and h.status == "ok"


def test_each_property_fails_on_its_own():
    assert health(rejected=100).status == "dirty" and not health(rejected=100).correct
    assert health(duplicates=600).status == "dirty" and not health(duplicates=600).clean
    assert health(received=1000).status == "incomplete"
    assert health(last_arrival=NOW - timedelta(minutes=2)).status == "silent"
    assert health(last_arrival=None, received=0).status == "silent"


def test_no_expectation_yet_is_not_incomplete():
    h = health(expected_per_s=None, received=10)
    assert h.complete is None and h.status == "ok"

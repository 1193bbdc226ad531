"""Each producer's expected rate, its four checks and how quiet it is (agents/indicators/producers.py)."""
from datetime import datetime, timedelta, timezone

import orjson
import pytest

from agents.alerting.derived import source_quiet_values
from agents.indicators.producers import (HOUR, UNKNOWN, WEEK, Counts, Producers, SourceRules, clean_share,
                                         complete_share, expected_per_hour, load_source_rules, missed,
                                         producer_health, producer_healths, valid_share)
from streams.core.contracts.health import ServiceProbe
from streams.core.errors import ConfigError
from streams.core.geography import load_province
from streams.core.settings import DEFAULT_PROVINCE_FILE

NOW = datetime(2026, 12, 2, 3, 25, tzinfo=timezone.utc)  # 10:25 local, a Wednesday
H0 = NOW.replace(minute=0)


def weeks_back(*counts: int, hour: datetime = H0) -> dict[datetime, int]:
    return {hour - (k + 1) * WEEK: n for k, n in enumerate(counts)}


def test_the_expected_rate_is_the_median_of_the_same_hour_of_the_last_four_weeks():
    assert expected_per_hour(weeks_back(100, 120, 80, 500, 7), H0, since=H0 - 10 * WEEK) == 110
    # a week with no row is a week it sent nothing
    assert expected_per_hour({H0 - 2 * WEEK: 90}, H0, since=H0 - 10 * WEEK) == 0
    assert expected_per_hour({H0 - 2 * WEEK: 90, H0 - WEEK: 90, H0 - 3 * WEEK: 60}, H0, since=H0 - 10 * WEEK) == 75


def test_weeks_before_the_counters_began_do_not_count_and_a_configured_rate_wins():
    assert expected_per_hour(weeks_back(100), H0, since=H0 - WEEK - timedelta(minutes=30)) == 100
    assert expected_per_hour(weeks_back(100), H0, since=H0 - timedelta(days=2)) is None
    assert expected_per_hour(weeks_back(100), H0, since=None) is None
    assert expected_per_hour(weeks_back(100, 100), H0, since=H0 - 10 * WEEK, configured=30) == 30


def test_the_shares():
    c = Counts(received=100, accepted=80, duplicates=6, invalid=10, late=3, dropped=1)
    assert valid_share(c) == 0.9
    assert clean_share(c) == 80 / 90
    assert valid_share(Counts()) is None and clean_share(Counts(received=5, invalid=5)) is None
    assert complete_share(45, 60) == 0.75
    assert complete_share(3, 0) is None and complete_share(3, None) is None


def test_missed_counts_the_expected_events_since_the_last_arrival_over_this_hour_and_the_one_before():
    rates = {H0: 60.0, H0 - HOUR: 120.0}
    assert missed(NOW - timedelta(minutes=10), NOW, rates.get) == pytest.approx(10)
    assert missed(NOW - timedelta(minutes=45), NOW, rates.get) == pytest.approx(25 + 40)
    assert missed(NOW - timedelta(days=3), NOW, rates.get) == pytest.approx(25 + 120)
    assert missed(NOW - timedelta(days=3), NOW, {H0: 0.0, H0 - HOUR: 0.0}.get) == 0  # a night: nothing missed
    assert missed(None, NOW, rates.get) == 0


def health(**kw):
    base = dict(recent=Counts(received=600, accepted=600), received_last=600, last_event=NOW,
                last_arrival=NOW - timedelta(seconds=5), expected_now=600.0, expected_last=600.0, now=NOW)
    return producer_health("health", "dvc", **{**base, **kw})


def test_the_four_checks_and_the_status():
    assert health().checks == (True, True, True, True) and health().status == "ok"
    assert health(received_last=300).checks[1] is False and health(received_last=300).status == "incomplete"
    dirty = health(recent=Counts(received=600, accepted=500, invalid=100))
    assert dirty.checks[0] is False and dirty.status == "dirty"
    copies = health(recent=Counts(received=600, accepted=500, duplicates=100))
    assert copies.checks[2] is False and copies.status == "dirty"
    quiet = health(last_arrival=NOW - timedelta(minutes=3))  # 30 of its 600 an hour missed
    assert quiet.missed == pytest.approx(30) and not quiet.live and quiet.status == "silent"
    busy = health(last_arrival=NOW - timedelta(seconds=50), expected_now=36_000.0)  # 500 expected, but < 60 s
    assert busy.missed == 0 and busy.live


def test_a_producer_quiet_every_night_is_live_at_night_and_one_never_learned_is_judged_by_age():
    night = health(last_arrival=NOW - timedelta(hours=9), expected_now=0.0, expected_last=0.0, received_last=0)
    assert night.live and night.missed == 0 and night.complete is None
    new = health(expected_now=None, expected_last=None)
    assert new.live and new.complete is None
    assert not health(expected_now=None, expected_last=None, last_arrival=NOW - timedelta(hours=2)).live


def test_producer_healths_learns_each_producer_and_the_quiet_indicator_names_family_and_code():
    since = H0 - 6 * WEEK
    history = [{"family": None, "producer": None, "hour": None, "received": None, "last_arrival": None,
                "since": since}]
    for k in range(1, 5):
        for hour, n in ((H0, 600), (H0 - HOUR, 600)):
            history.append({"family": "health", "producer": "dvc", "hour": hour - k * WEEK, "received": n,
                            "last_arrival": hour - k * WEEK + timedelta(minutes=59), "since": since})
            history.append({"family": "dossier", "producer": "so-tp", "hour": hour - k * WEEK, "received": 0,
                            "last_arrival": None, "since": since})
    recent = [{"family": "health", "producer": "dvc", "received": 300, "accepted": 300, "received_last": 600,
               "last_event": NOW - timedelta(minutes=5), "last_arrival": NOW - timedelta(minutes=5)},
              {"family": "dossier", "producer": "so-tp", "received": 0, "received_last": 0,
               "last_arrival": NOW - timedelta(hours=20)}]
    by = {(h.family, h.producer): h for h in producer_healths(recent, history, NOW)}
    dvc, desk = by[("health", "dvc")], by[("dossier", "so-tp")]
    assert (dvc.expected_now, dvc.expected_last, dvc.complete) == (600, 600, 1.0)
    assert dvc.missed == pytest.approx(50) and dvc.status == "silent"
    assert (desk.expected_now, desk.missed, desk.live) == (0, 0, True)
    values = source_quiet_values(recent, history, SourceRules(), NOW)["source.quiet"]
    assert values == {"health:dvc": pytest.approx(50), "dossier:so-tp": 0}
    # a producer gone for more than a day is still known from the same hours of past weeks
    gone = {(h.family, h.producer): h for h in producer_healths([], history, NOW)}
    assert gone[("health", "dvc")].missed == pytest.approx(600 + 600 * 25 / 60)
    assert gone[("health", "dvc")].last_arrival == H0 - WEEK + timedelta(minutes=59)


def test_a_family_default_rate_stands_in_until_history_has_one():
    rules = SourceRules(configured={("dossier", "*"): (0.0,) * 7 + (30.0,) * 10 + (0.0,) * 7})
    recent = [{"family": "dossier", "producer": "so-xd", "received": 2, "received_last": 15,
               "last_arrival": NOW - timedelta(minutes=2)}]
    (h,) = producer_healths(recent, [], NOW, rules)  # 10:25 local: an office hour
    assert (h.expected_now, h.complete) == (30, 0.5)


def test_producers_are_read_from_the_family_fields_and_cameras_grouped_by_their_link():
    province = load_province(DEFAULT_PROVINCE_FILE)
    producers = Producers.from_province(province)
    cam = province.cameras[0]
    assert producers.of_raw("camera", orjson.dumps({"camera": cam.code})) == cam.parent
    assert producers.of_raw("security", orjson.dumps({"device": "fw-1"})) == "fw-1"
    assert producers.of_raw("security", orjson.dumps({"system": "dvc", "device": "fw-1"})) == "dvc"
    assert producers.of_raw("citizen", orjson.dumps({"unit_code": "u1", "agency": "so-xd"})) == "so-xd"
    assert producers.of_raw("health", b"not json") == UNKNOWN
    assert producers.of_raw("health", b"[1, 2]") == UNKNOWN
    assert producers.of_raw("health", orjson.dumps({"system": 12})) == UNKNOWN
    probe = ServiceProbe.model_validate({"id": "p1", "type": "ServiceProbe", "system": "dvc", "endpoint": "/",
                                         "dateObserved": NOW.isoformat(), "success": True, "latency_ms": 12.0})
    assert producers.of("health")(probe) == "dvc"


def test_the_shipped_rules_load_and_a_bad_rate_is_named(tmp_path):
    rules = load_source_rules()
    assert rules.history_weeks == 4 and rules.quiet_missed == 10
    bad = tmp_path / "sources.yaml"
    base = ("history_weeks: 4\nchecks: {min_valid: 0.99, min_complete: 0.8, min_clean: 0.95, quiet_missed: 10, "
            "quiet_after_s: 60, unlearned_silence_s: 3600}\n")
    bad.write_text(base + "expected: {dossier: {'*': {'07-17': 20}}}\n")
    with pytest.raises(ConfigError, match=r"expected.dossier.\*: hours .* have no rate"):
        load_source_rules(bad)
    bad.write_text(base + "expected: {dossiers: {'*': 3}}\n")
    with pytest.raises(ConfigError, match="unknown feed families"):
        load_source_rules(bad)
    bad.write_text(base + "expected: {dossier: {'*': {'7am-5pm': 3, '*': 0}}}\n")
    with pytest.raises(ConfigError, match="'7am-5pm' is not a span"):
        load_source_rules(bad)
    bad.write_text(base + "expected: {dossier: {'*': {'07-17': 20, '*': 0}}}\n")
    assert load_source_rules(bad).configured_rate("dossier", "*", 9) == 20


@pytest.mark.parametrize("in_time_order", [True, False])
def test_each_producer_row_holds_its_newest_fresh_event_and_its_duplicates(in_time_order):
    """The sink hands fresh events in time order, and then they are not sorted again; in any other order
    the newest is found all the same."""
    from agents.indicators.health import HEALTH_FEED
    from streams.core.tables import SourceStats, producer_increments

    def probe(n: int, system: str, minutes: int) -> ServiceProbe:
        return ServiceProbe.model_validate({"id": f"p{n}", "type": "ServiceProbe", "system": system, "endpoint": "/",
                                            "dateObserved": (NOW - timedelta(minutes=minutes)).isoformat(),
                                            "success": True, "latency_ms": 12.0})

    fresh = [probe(1, "dvc", 9), probe(2, "hscv", 8), probe(3, "dvc", 3), probe(4, "hscv", 1), probe(5, "dvc", 2)]
    fresh = sorted(fresh, key=lambda e: e.event_time) if in_time_order else fresh
    events = [*fresh, probe(6, "dvc", 30)]  # a copy of an event stored before: not fresh
    stats = SourceStats("health", NOW, len(events), 0, Producers().of("health"))
    rows = {r["producer"]: r for r in producer_increments(HEALTH_FEED, stats, events, fresh)}
    assert {p: (r["received"], r["accepted"], r["duplicates"], r["last_event"]) for p, r in rows.items()} == {
        "dvc": (4, 3, 1, NOW - timedelta(minutes=2)), "hscv": (2, 2, 0, NOW - timedelta(minutes=1))}


def test_a_batch_is_named_as_its_events_are_one_by_one():
    """``many`` (a batch at once) names each event as the per-event function does: cameras under their
    link, an event without its first producer field by the next one, an empty one as unknown."""
    province = load_province(DEFAULT_PROVINCE_FILE)
    producers = Producers.from_province(province)
    cam = province.cameras[0]
    camera_of, security_of = producers.of("camera"), producers.of("security")

    class Fields:  # an event as the namer reads it: its fields
        def __init__(self, **fields):
            self.__dict__.update(fields)

    cameras = [Fields(camera=cam.code), Fields(camera="cam-not-in-the-file")]
    assert camera_of.many(cameras) == [cam.parent, "cam-not-in-the-file"] == list(map(camera_of, cameras))
    logs = [Fields(system="dvc", device="fw-1"), Fields(system=None, device="fw-2"), Fields(system="", device="")]
    assert security_of.many(logs) == ["dvc", "fw-2", UNKNOWN] == list(map(security_of, logs))
    assert security_of.many(logs[:1]) == ["dvc"] and security_of.many([]) == []

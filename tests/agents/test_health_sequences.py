"""Probe sequences -> the status of the system at each second, as the wall and the engine read it."""
from datetime import timedelta

import pytest

from agents.indicators.health import load_status_rules
from tests.agents.health_sequences import T0, probes, seconds, status_at

RULES = load_status_rules()
ENDPOINTS = {1: ["/"], 2: ["/", "/api"], 4: ["/", "/api/hoso", "/api/thanhtoan", "/dang-nhap"]}


@pytest.mark.parametrize("n", [1, 2, 4])
@pytest.mark.parametrize("phase_s", [0, 3, 7])
def test_a_system_that_stops_answering_is_down_within_30_s_of_its_first_failed_probe(n, phase_s):
    dies = T0 + timedelta(seconds=150 + phase_s)
    events = probes("dvc", ENDPOINTS[n], T0, dies + timedelta(seconds=120), lambda at: at < dies)
    first_failed = min(e.dateObserved for e in events if not e.success)
    timeline = {at: status_at(events, at, RULES).status for at in seconds(T0 + timedelta(seconds=30),
                                                                          dies + timedelta(seconds=110))}
    assert {s for at, s in timeline.items() if at < first_failed} == {"ok"}
    down_at = min(at for at, s in timeline.items() if s == "down")
    # red within 20 s of the first failed probe (before the worker and the wall add their seconds) ...
    assert timedelta(seconds=5) <= down_at - first_failed <= timedelta(seconds=20)
    # ... and red for as long as it does not answer
    assert all(s == "down" for at, s in timeline.items() if at >= down_at)


def test_a_lost_probe_or_two_is_not_down():
    lost = {T0 + timedelta(seconds=100), T0 + timedelta(seconds=105), T0 + timedelta(seconds=200)}
    events = probes("gis", ENDPOINTS[2], T0, T0 + timedelta(seconds=400), lambda at: at not in lost)
    statuses = {status_at(events, at, RULES).status for at in seconds(T0 + timedelta(seconds=30),
                                                                      T0 + timedelta(seconds=400))}
    assert "down" not in statuses and "stale" not in statuses


def test_the_first_answer_ends_down_and_the_outage_stays_amber_for_the_window():
    dies, back = T0 + timedelta(seconds=100), T0 + timedelta(seconds=190)
    events = probes("dvc", ENDPOINTS[4], T0, T0 + timedelta(seconds=600), lambda at: not dies <= at < back)
    first_ok = min(e.dateObserved for e in events if e.success and e.dateObserved >= back)
    assert status_at(events, first_ok - timedelta(seconds=1), RULES).status == "down"
    after = status_at(events, first_ok, RULES)
    assert after.status == "degraded" and "availability" in after.reasons
    # once the outage's minutes leave the window, it is ok again
    assert status_at(events, back + timedelta(seconds=RULES.window_s + 60), RULES).status == "ok"


def test_a_system_whose_probes_stop_is_stale_after_the_stale_period():
    events = probes("email", ENDPOINTS[1], T0, T0 + timedelta(seconds=200), lambda at: True)
    last = max(e.dateObserved for e in events)
    stale_after = timedelta(seconds=RULES.stale_after_s)
    assert status_at(events, last + stale_after, RULES).status == "ok"
    assert status_at(events, last + stale_after + timedelta(seconds=1), RULES).status == "stale"


def test_a_down_system_whose_prober_stops_turns_stale_not_ok():
    dies = T0 + timedelta(seconds=100)
    events = probes("ndxp", ENDPOINTS[2], T0, T0 + timedelta(seconds=160), lambda at: at < dies)
    last = max(e.dateObserved for e in events)
    assert status_at(events, last + timedelta(seconds=30), RULES).status == "down"
    assert status_at(events, last + timedelta(seconds=RULES.stale_after_s + 1), RULES).status == "stale"

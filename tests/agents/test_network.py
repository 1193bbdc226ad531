"""The network family: link state and windows from polls, the wall's view, the simulator's topology,
and an alert on a district link standing for the communes and cameras below it."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.derived import topology_parents
from agents.alerting.evaluate import Topology, suppressor
from agents.indicators.network import NETWORK_WINDOW, apply, availability, link_views, network_increments
from simulators.network import NetworkSimulator
from streams.core.families import adapter
from streams.core.geography import load_province
from streams.core.settings import Settings

T0 = datetime(2026, 12, 2, 1, 0, tzinfo=timezone.utc)
PROVINCE = load_province(Settings().province_file)
ADAPTER = adapter("network")


def poll(link: str, at: datetime, up: bool = True, **kw):
    doc = {"id": f"{link}:{at.isoformat()}", "type": "LinkStatus", "link": link, "dateObserved": at.isoformat(),
           "up": up, **({"utilisation": 0.4, "packet_loss": 0.001, "latency_ms": 6.0} if up else {}), **kw}
    return ADAPTER.validate_python(doc)


def test_a_link_keeps_the_time_its_state_changed_and_ignores_an_older_poll():
    s = apply(None, poll("tsl-902", T0))
    assert (s["entity"], s["kind"], s["up"], s["since"]) == ("tsl-902", "link", True, T0)
    s = apply(s, poll("tsl-902", T0 + timedelta(minutes=1)))
    assert s["since"] == T0  # still up: since does not move
    s = apply(s, poll("tsl-902", T0 + timedelta(minutes=2), up=False, reason="loss of signal"))
    assert (s["up"], s["since"], s["utilisation"], s["reason"]) == (False, T0 + timedelta(minutes=2), None,
                                                                    "loss of signal")
    assert apply(s, poll("tsl-902", T0 + timedelta(seconds=30))) == s  # stored late: the state knows better


def test_windows_count_polls_and_availability_is_their_share_up():
    polls = [poll("tsl-902", T0 + timedelta(seconds=10 * i), up=i % 4 != 0) for i in range(12)]
    incs = network_increments(polls, {})
    rows = incs.rows[NETWORK_WINDOW]
    assert {r["time"] for r in rows} == {T0, T0 + timedelta(minutes=1)}
    assert sum(r["polls"] for r in rows) == 12 and sum(r["polls_up"] for r in rows) == 9
    assert availability(rows) == {"tsl-902": 0.75}
    assert incs.states[("tsl-902",)]["up"] is True


def test_the_view_lists_every_link_of_the_province_worst_first():
    states = [apply(None, poll("tsl-902", T0, up=False)), apply(None, poll("tsl-903", T0, packet_loss=0.1)),
              apply(None, poll("tsl-904", T0))]
    views = link_views(states, PROVINCE.networks, T0 + timedelta(seconds=30))
    assert len(views) == len(PROVINCE.networks)
    assert [v["status"] for v in views[:2]] == ["down", "silent"] and views[0]["link"] == "tsl-902"
    status = {v["link"]: v["status"] for v in views}
    assert (status["tsl-903"], status["tsl-904"]) == ("lossy", "up")
    later = {v["link"]: v["status"] for v in link_views(states, PROVINCE.networks, T0 + timedelta(minutes=5))}
    assert later["tsl-904"] == "silent"  # no poll for three minutes


def test_a_cut_district_link_takes_its_communes_down_and_recovers_with_them():
    sim = NetworkSimulator(PROVINCE, random.Random(7), incidents=False)
    sim.tick(T0, 1, 0)
    sim.force("tsl-902", "down")
    events = sim.tick(T0 + timedelta(minutes=2), 120, 0)
    for e in events:
        ADAPTER.validate_python(e)
    down = {e["link"]: e["reason"] for e in events if e["type"] == "LinkStatus" and not e["up"]}
    assert down == {"tsl-902": "loss of signal", "tsl-30787": "upstream tsl-902 down"}
    sim.force("tsl-902", None)
    assert all(e["up"] for e in sim.tick(T0 + timedelta(minutes=4), 120, 0) if e["type"] == "LinkStatus")
    with pytest.raises(ValueError, match="unknown link 'tsl-999'"):
        sim.force("tsl-999", "down")


def test_every_system_is_checked_for_ipv6_and_never_reachable_without_a_name():
    sim = NetworkSimulator(PROVINCE, random.Random(3))
    sim.tick(T0, 1, 0)
    checks = [e for e in sim.tick(T0 + timedelta(minutes=10), 600, 0) if e["type"] == "Ipv6Check"]
    assert {e["system"] for e in checks} == {s.code for s in PROVINCE.systems}
    assert not any(e["reachable"] and not e["aaaa"] for e in checks)


def test_an_alert_on_a_district_link_stands_for_its_communes_and_cameras():
    topology = Topology(topology_parents(PROVINCE))
    assert suppressor("tsl-30787", {"tsl-902"}, topology) == "tsl-902"
    assert suppressor("tsl-902", {"tsl-30787"}, topology) is None  # never upwards
    assert suppressor("tsl-902", {"datacenter"}, topology) == "datacenter"
    camera = next(c for c in PROVINCE.cameras if c.parent == "net-kienluong")
    assert suppressor(camera.code, {"net-kienluong"}, topology) == "net-kienluong"

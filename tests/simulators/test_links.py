"""One network for every simulator: cameras go dark exactly when the network feed reports their link down."""
import random
from datetime import datetime, timedelta, timezone

from simulators.catalog import build_simulators
from simulators.links import CUTS_PER_HOUR, LinkOutages
from streams.core.geography import load_province
from streams.core.settings import DEFAULT_PROVINCE_FILE

PROVINCE = load_province(DEFAULT_PROVINCE_FILE)
START = datetime(2026, 12, 1, tzinfo=timezone.utc)


def test_cuts_depend_on_the_seed_the_link_and_the_hour_alone():
    a, b = LinkOutages(PROVINCE, "s1"), LinkOutages(PROVINCE, "s1")
    links = [n.code for n in PROVINCE.networks]
    times = [START + timedelta(minutes=5 * i) for i in range(12 * 24 * 60)]  # 60 days
    down_a = [(link, t) for t in times[::3] for link in links if a.cut(link, t)]
    assert down_a, "60 days of 24 links at the background rate have cuts"
    assert down_a == [(link, t) for t in times[::3] for link in links if b.cut(link, t)]
    hours = len(times) / 12 * len(links)
    assert 0.2 < len({(link, int(t.timestamp()) // 3600) for link, t in down_a}) / (hours * CUTS_PER_HOUR) < 3
    assert down_a != [(link, t) for t in times[::3] for link in links if LinkOutages(PROVINCE, "s2").cut(link, t)]


def test_a_cut_above_takes_the_links_below_down_and_a_force_holds_until_released():
    links = LinkOutages(PROVINCE, "x", incidents=False)
    links.force("tsl-902", True)
    assert links.why_down("tsl-902", START) == "loss of signal"
    assert links.why_down("tsl-30787", START) == "upstream tsl-902 down"
    assert links.why_down("tsl-903", START) is None
    links.force("tsl-902", False)
    assert links.why_down("tsl-30787", START) is None


def _run(families, seed, hours):
    sims = {s.family: s for s in build_simulators(PROVINCE, random.Random(seed), families=families)}
    events = []
    for i in range(1, hours * 60 + 1):
        now = START + timedelta(minutes=i)
        for sim in sims.values():
            events += sim.tick(now, 60.0, 0)
    return sims, events


def test_camera_and_network_feeds_agree_on_every_cut():
    sims, events = _run(["camera", "network"], 11, 24 * 20)
    outages = sims["network"].outages
    assert sims["camera"].links is outages  # one network, shared
    cams = {c.code: c.parent for c in PROVINCE.cameras}
    dark = [e for e in events if e["type"] == "CameraHealth" and e.get("reason") == "network link down"]
    assert dark, "20 days of background cuts take some cameras down"
    for e in dark:
        at = datetime.fromisoformat(e["dateObserved"])
        assert outages.why_down(cams[e["camera"]], at) is not None
    polls = [e for e in events if e["type"] == "LinkStatus" and e["link"].startswith("net-")]
    for e in polls:
        at = datetime.fromisoformat(e["dateObserved"])
        assert e["up"] is (outages.why_down(e["link"], at) is None)
    assert any(not e["up"] for e in polls)
    # a process simulating only the network, with the same seed, cuts the same links at the same times
    alone, _ = _run(["network"], 11, 0)
    down = {(e["link"], e["dateObserved"]) for e in polls if not e["up"]}
    assert all(alone["network"].outages.why_down(link, datetime.fromisoformat(t)) for link, t in down)

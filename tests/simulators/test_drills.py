"""Drills: every scenario loads, plays over the background feed and produces what it promises."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from functools import lru_cache

import orjson
import pytest
import yaml

from simulators.base import Runner
from simulators.catalog import build_simulators
from simulators.drills import (
    DrillConductor, DrillEngine, DrillError, check, load_all, load_scenario, scenario_names,
)
from simulators.drills.scenario import parse_scenario
from simulators.drills.templates import Context, compile_template
from streams.core.geography import load_province
from streams.cli.main import main
from streams.core.settings import Settings
from streams.core.validation import Decoder

#: a weekday at 09:30 local: office hours, when the background is busiest
START = datetime(2023, 6, 1, 2, 30, tzinfo=timezone.utc)
TICK_S = 0.5


@lru_cache(maxsize=1)
def province():
    return load_province(Settings().province_file)


@lru_cache(maxsize=None)
def play(name: str, seed: int = 7):
    """A drill over the whole background feed at the reference rate, in simulated time; drills
    longer than 6 minutes are played faster (``--speed``), so that none takes more than 6 minutes.

    Returns the messages sent, as (family, scenario seconds of the tick, value), and the conductor.
    """
    scenario = load_scenario(name)
    engine = DrillEngine(scenario, start=START, seed=seed, speed=max(1.0, scenario.duration_s / 360))
    conductor = DrillConductor(engine, build_simulators(province(), random.Random(seed)))
    conductor.check_hooks()
    sent: list[tuple[str, float, bytes]] = []
    runner = Runner(conductor.feeds, lambda family, key, value: sent.append((family, conductor.at, value)), rate=200)
    ticks = int(engine.duration_s / TICK_S)
    for i in range(1, ticks + 1):
        runner.step(START + timedelta(seconds=i * TICK_S), TICK_S)
    return sent, conductor


def test_every_scenario_file_loads_and_names_are_unique():
    scenarios = load_all()
    assert len(scenarios) >= 7
    assert [s.name for s in scenarios] == scenario_names()
    for s in scenarios:
        assert s.title.vi != s.title.en and s.description.vi and s.operator_sees.en and s.signals


@pytest.mark.parametrize("name", scenario_names())
def test_a_scenario_produces_valid_events_and_every_signal_it_promises(name):
    sent, conductor = play(name)
    end = START + timedelta(seconds=conductor.engine.duration_s)
    decoders = {}
    observed, rejected, ids = [], [], Counter()
    for family, at, value in sent:
        decoder = decoders.get(family) or decoders.setdefault(
            family, Decoder(family, bounds=province().bounds, clock=lambda: end))
        decoded = decoder.decode(value)
        rejected += [(family, r.reason, r.detail) for r in decoded.rejected]
        doc = orjson.loads(value)
        for event in doc if isinstance(doc, list) else [doc]:
            observed.append((family, at, event))
            if event["id"].startswith("drill-"):
                ids[event["id"]] += 1
    assert not rejected, f"{len(rejected)} events break their contract, first: {rejected[0]}"
    results = check(conductor.engine.scenario.signals, observed)
    failed = [r.line() for r in results if not r.ok]
    assert not failed, "\n".join(failed)
    # the conductor's own running check saw the same
    assert [r.ok for r in conductor.results()] == [r.ok for r in results]
    # drill events are recognisable and never repeat an id
    assert all(n == 1 for n in ids.values())
    assert all(i.startswith(f"drill-{name}-20230601T023000-") for i in ids)


@pytest.mark.parametrize("name", scenario_names())
def test_every_forced_condition_is_given_back_by_the_end(name):
    _, conductor = play(name)
    assert conductor.engine.release_all() == []
    assert all(st.forced is None for st in conductor.by_family["health"].states.values())


def test_the_same_seed_and_start_give_the_same_drill():
    scenario = parse_scenario(scenario_doc(steps__0__inject__rate=20), "x.yaml")

    def events(seed):
        engine = DrillEngine(scenario, start=START, seed=seed)
        out = []
        for i in range(1, 200):
            out += [(e.key, e.event) for e in engine.tick(START + timedelta(seconds=i)).events]
        return out

    a, b = events(1), events(1)
    assert a == b and len(a) > 1000 and len({k for k, _ in a}) == 1
    assert events(2) != a


def test_speed_compresses_the_timeline_and_keeps_the_events():
    scenario = parse_scenario(scenario_doc(steps__0__inject__rate=20), "x.yaml")

    def run(speed):
        engine = DrillEngine(scenario, start=START, seed=3, speed=speed)
        events, forces = [], []
        t = 0.0
        while t < engine.duration_s:
            t += 0.25
            tick = engine.tick(START + timedelta(seconds=t))
            events += tick.events
            forces += [(round(t, 2), f.condition) for f in tick.forces if f.family == "health"]
        return events, forces

    slow, slow_forces = run(1.0)
    fast, fast_forces = run(10.0)
    assert abs(len(fast) - len(slow)) <= 2
    last = max(datetime.fromisoformat(e.event["dateObserved"]) for e in fast)
    assert last <= START + timedelta(seconds=30)
    assert slow_forces == [(90.0, "down"), (180.0, None)]
    assert fast_forces == [(9.0, "down"), (18.0, None)]


def test_a_faster_background_scales_the_injections():
    engine = DrillEngine(load_scenario("dvc-ddos"), start=START, scale=3.0)
    engine.tick(START + timedelta(seconds=60))
    assert len(engine.tick(START + timedelta(seconds=61)).events) == 3000


# --- validation on load -----------------------------------------------------------------------


def scenario_doc(**changes):
    doc = yaml.safe_load(load_scenario("dvc-ddos").source.read_text(encoding="utf-8"))
    for path, value in changes.items():
        node = doc
        *parents, last = path.split("__")
        for p in parents:
            node = node[int(p)] if p.isdigit() else node[p]
        node[int(last) if last.isdigit() else last] = value
    return doc


@pytest.mark.parametrize(("changes", "message"), [
    ({"steps__0__inject__rate": -5}, "x.yaml: steps[0].inject.rate: Input should be greater than 0"),
    ({"steps__0__for": 500}, "x.yaml: steps[0]: ends at 560 s, after the scenario (300 s)"),
    ({"steps__0__inject__template__type": "Heartbeat"},
     "x.yaml: steps[0].inject.template.type: 'Heartbeat' is not a health event; known: ServiceProbe, RequestLog"),
    ({"steps__0__inject__template__status_code": 700},
     "x.yaml: steps[0].inject.template.status_code: the sample event breaks the RequestLog contract"),
    ({"steps__0__inject__template__latency_ms": {"uniform": [1, 2], "digit": 1}},
     "x.yaml: steps[0].inject.template.latency_ms: `uniform` does not take digit"),
    ({"steps__0__inject__template__client_ip": {"ip": "10.0.0.0/33"}},
     "x.yaml: steps[0].inject.template.client_ip: `ip` takes a network"),
    ({"steps__0__inject__family": "weather"}, "x.yaml: steps[0].inject.family: unknown family 'weather'"),
    ({"steps__1__inject": {"family": "health", "rate": 1, "template": {}}},
     "x.yaml: steps[1]: Value error, a step has exactly one action"),
    ({"signals__0__factor": None}, "x.yaml: signals[0]: Value error, a rate_ratio signal needs factor"),
    ({"signals__1__of": {"status_code": {"atleast": 500}}}, "x.yaml: signals[1].of: unknown comparison atleast"),
    ({"signals__2__window": [95, 400]}, "x.yaml: signals[2].window: ends after the scenario (300 s)"),
    ({"title": {"vi": "Tấn công"}}, "x.yaml: title.en: Field required"),
    ({"colour": "red"}, "x.yaml: colour: Extra inputs are not permitted"),
    ({"alerts__0__rule": "dvc_on_fire"}, "x.yaml: alerts[0].rule: no alert rule 'dvc_on_fire' in deploy/rules; known: "),
    ({"alerts__1": {"rule": "system_unavailable", "entity": "dvc", "during": [90, 180]}},
     "x.yaml: alerts[1]: system_unavailable for dvc is promised twice"),
    ({"alerts__0__during": [180, 90]}, "x.yaml: alerts[0].during: [180.0, 90.0] must start before it ends"),
    ({"alerts__0__during": [90, 400]}, "x.yaml: alerts[0].during: [90.0, 400.0] must start before it ends, "
                                       "within the scenario (300 s)"),
    ({"alerts__0": {"rule": "system_unavailable"}}, "x.yaml: alerts[0].entity: Field required"),
])
def test_a_wrong_scenario_is_refused_naming_file_step_and_field(changes, message):
    with pytest.raises(DrillError) as exc:
        parse_scenario(scenario_doc(**changes), "x.yaml")
    assert str(exc.value).startswith(message)


def test_a_scenario_declares_its_promised_alerts_explicitly():
    doc = scenario_doc()
    del doc["alerts"]
    with pytest.raises(DrillError, match=r"x\.yaml: alerts: Field required"):
        parse_scenario(doc, "x.yaml")
    with pytest.raises(DrillError, match=r"alerts\[0\]\.rule: no alert rule 'system_unavailable'"):
        parse_scenario(scenario_doc(), "x.yaml", rules=frozenset({"feed_silent"}))


def test_every_promised_alert_is_for_a_target_and_forced_entities_are_targets():
    for sc in load_all():
        targets = set(sc.targets)
        assert {a.entity for a in sc.alerts} <= targets, sc.name
        assert {s.force.target for s in sc.steps if s.force} <= targets, sc.name
    dvc = load_scenario("dvc-ddos")
    assert dvc.targets == ["dvc"]
    assert [(a.rule, a.entity, a.during) for a in dvc.alerts] == [
        ("system_unavailable", "dvc", (90, 180)), ("critical_security_finding", "dvc", (60, 210))]
    # the attacker's address of a forced brute force is a target: brute_force_source is keyed by it
    assert "198.51.100.23" in load_scenario("eoffice-bruteforce").targets


def test_a_force_the_simulator_refuses_fails_before_the_drill_starts():
    scenario = parse_scenario(scenario_doc(steps__1__force={"family": "health", "target": "nope", "condition": "down"}),
                              "x.yaml")
    conductor = DrillConductor(DrillEngine(scenario, start=START), build_simulators(province(), random.Random(1)))
    with pytest.raises(DrillError, match=r"x\.yaml: steps\[1\]\.force\.target: the health simulator knows no 'nope'"):
        conductor.check_hooks()


def test_an_unknown_drill_name_lists_the_known_ones():
    with pytest.raises(DrillError, match="no drill named 'nope'; known: .*dvc-ddos"):
        load_scenario("nope")


# --- templates and signals --------------------------------------------------------------------


def test_template_generators():
    render = compile_template({
        "level": {"ramp": [1.0, 3.0]}, "cam": {"cycle": ["a", "b"]}, "due": {"time": 3600},
        "ip": {"ip": "198.51.100.0/30"}, "user": {"format": "u{seq:02d}"}, "n": {"randint": [4, 4]},
        "where": {"type": "Point", "coordinates": [105.08, {"uniform": [10.0, 10.0], "digits": 1}]},
    })
    out = [render(Context(random.Random(0), seq, seq / 4, START, "r")) for seq in range(5)]
    assert [o["level"] for o in out] == [1.0, 1.5, 2.0, 2.5, 3.0]
    assert [o["cam"] for o in out] == ["a", "b", "a", "b", "a"]
    assert out[0]["due"] == "2023-06-01T03:30:00.000Z" and out[3]["user"] == "u03" and out[0]["n"] == 4
    assert {o["ip"] for o in out} <= {"198.51.100.1", "198.51.100.2"}
    assert out[0]["where"] == {"type": "Point", "coordinates": [105.08, 10.0]}


def test_signal_kinds_over_hand_made_events():
    scenario = parse_scenario(scenario_doc(signals=[
        {"says": {"vi": "a", "en": "a"}, "kind": "count", "family": "security", "where": {"type": "AuthFailure"},
         "group_by": "src_ip", "window": [10, 20], "min": 3},
        {"says": {"vi": "b", "en": "b"}, "kind": "distinct", "family": "camera", "where": {},
         "field": "where.unit", "window": [0, 30], "min": 2},
        {"says": {"vi": "c", "en": "c"}, "kind": "share", "family": "health", "where": {"system": "dvc"},
         "of": {"status_code": {"gte": 500, "lt": 600}}, "window": [0, 30], "above": 0.5},
        {"says": {"vi": "d", "en": "d"}, "kind": "rate_ratio", "family": "health", "where": {"system": "dvc"},
         "baseline": [0, 10], "window": [10, 15], "factor": 4},
    ]), "x.yaml")
    auth = {"type": "AuthFailure", "src_ip": "198.51.100.7"}
    events = [("security", 12, auth), ("security", 13, auth), ("security", 14, {**auth, "src_ip": "192.0.2.1"}),
              ("security", 25, auth), ("camera", 1, {"where": {"unit": "900"}}), ("camera", 2, {"where": {"unit": "914"}}),
              ("health", 5, {"system": "dvc", "status_code": 200}), ("health", 11, {"system": "dvc", "status_code": 503}),
              ("health", 12, {"system": "dvc", "status_code": 502}), ("health", 13, {"system": "gis", "status_code": 500})]
    results = check(scenario.signals, events)
    assert [r.ok for r in results] == [False, True, True, True]
    assert [r.observed for r in results] == ["2 from src_ip 198.51.100.7", "2 where.unit", "66.7% of 3",
                                             "×4.0 (2 vs 1 events)"]


def test_drill_list_shows_every_scenario_in_both_languages(capsys):
    assert main(["drill", "--list"]) == 0
    out = capsys.readouterr().out
    for s in load_all():
        assert s.name in out and s.title.vi in out and s.title.en in out


def test_a_camera_forced_offline_is_offline_for_every_simulator_of_the_feed(tmp_path):
    """border-night-intrusion takes cam-phumy-02 offline from 150 s to 330 s.  The feed has a
    second background (``ioc simulate``, another process) that follows the drill's shared forces:
    while the force holds no simulator reports the camera online, and the worker's pure logic
    shows it offline within its liveness threshold, then online again once the force ends."""
    from agents.indicators.camera import DebounceConfig, apply, effective_state, new_state
    from simulators.camera import CameraSimulator
    from simulators.drills.shared import ForceFollower, ForcePublisher, Following
    from streams.core.contracts.camera import CameraHealth

    path, cam = tmp_path / "drill-forces-t.json", "cam-phumy-02"
    engine = DrillEngine(load_scenario("border-night-intrusion"), start=START, seed=3)
    conductor = DrillConductor(engine, build_simulators(province(), random.Random(3), families=["camera", "security"]),
                               ForcePublisher(path))
    drill = next(f for f in conductor.feeds if f.family == "camera")
    inner = CameraSimulator(province(), random.Random(4), incidents=False)
    background = Following(inner, ForceFollower(path, [inner]))
    deaf = CameraSimulator(province(), random.Random(4), incidents=False)  # the same background, not following
    sent: dict[str, list[tuple[float, dict]]] = {"drill": [], "background": [], "deaf": []}
    published = set()
    for i in range(1, int(engine.duration_s / TICK_S) + 1):
        now = START + timedelta(seconds=i * TICK_S)
        for name, sim in (("drill", drill), ("background", background), ("deaf", deaf)):
            sent[name] += [(i * TICK_S, e) for e in sim.tick(now, TICK_S, 2)
                           if e["type"] == "CameraHealth" and e["camera"] == cam]
        if path.exists():
            published.add(tuple(d["condition"] for d in orjson.loads(path.read_bytes())))
    conductor.stop()
    assert not path.exists() and published == {("tamper",), ("offline",)}

    def states(name, lo, hi):
        return {e["condition"] for at, e in sent[name] if lo <= at < hi and e["condition"] in ("online", "offline")}

    assert "online" in states("deaf", 150, 330)  # what kept cam-phumy-02 online before
    for name in ("drill", "background"):
        assert states(name, 150, 330) == {"offline"}, name
        assert states(name, 330, 360) == {"online"}, name  # and it resumes
    assert any(e["condition"] == "VideoSource/GlobalSceneChange" for at, e in sent["background"] if 120 <= at < 150)

    cfg, beat = DebounceConfig(), next(c.heartbeat_s for c in province().cameras if c.code == cam)
    feed = sorted((e for name in ("drill", "background") for _, e in sent[name]), key=lambda e: e["dateObserved"])
    seen = []
    for t in range(5, 360, 5):
        now = START + timedelta(seconds=t)
        st = new_state(cam)
        for e in feed:
            if datetime.fromisoformat(e["dateObserved"]) <= now:
                st = apply(st, CameraHealth.model_validate(e), cfg)
        seen.append((t, effective_state(st, now, cfg, beat)))
    offline = [t for t, s in seen if s == "offline"]
    assert offline and offline[0] <= 150 + cfg.offline_after.total_seconds() + 5
    assert offline == list(range(offline[0], 330, 5))  # offline until the force ends
    assert all(s == "online" for t, s in seen if t < 150 or t >= 330 + cfg.online_after.total_seconds())


def test_shared_forces_lapse_at_their_end_and_injections_are_not_shared(tmp_path):
    """A drill killed without releasing cannot hold an entity for ever; intrusion tracks (an
    injection, not a state) stay with the drill's own simulator, or they would come twice."""
    from simulators.camera import CameraSimulator
    from simulators.drills.shared import ForceFollower, ForcePublisher

    path = tmp_path / "drill-forces-t.json"
    sim = CameraSimulator(province(), random.Random(1), incidents=False)
    follower = ForceFollower(path, [sim])
    publisher = ForcePublisher(path)
    publisher.update("camera", "cam-phumy-02", "offline", {}, START + timedelta(seconds=60))
    publisher.update("camera", "cam-nowhere-01", "offline", {}, START + timedelta(seconds=60))  # not in this province
    follower.poll(START)
    assert sim.states["cam-phumy-02"].forced == "offline" and list(follower.applied) == [("camera", "cam-phumy-02")]
    follower.poll(START + timedelta(seconds=61))  # the drill died: nobody released it
    assert sim.states["cam-phumy-02"].forced is None and not follower.applied

    conductor = DrillConductor(DrillEngine(load_scenario("border-night-intrusion"), start=START),
                               build_simulators(province(), random.Random(1), families=["camera", "security"]),
                               ForcePublisher(tmp_path / "other.json"))
    conductor.advance(START + timedelta(seconds=40))  # the intrusion step has started
    assert conductor.by_family["camera"].intrusions and not (tmp_path / "other.json").exists()
    conductor.stop()


def test_a_system_forced_down_fails_every_probe_of_every_simulator_of_the_feed(tmp_path):
    """dvc-ddos takes dvc down from 90 s to 180 s: the demo's own ``ioc simulate`` follows the
    shared force, so no probe of dvc succeeds anywhere while it holds, and it answers again after."""
    from simulators.drills.shared import ForceFollower, ForcePublisher, Following
    from simulators.health import HealthSimulator

    path = tmp_path / "drill-forces-t.json"
    engine = DrillEngine(load_scenario("dvc-ddos"), start=START, seed=3)
    conductor = DrillConductor(engine, build_simulators(province(), random.Random(3), families=["health", "security"]),
                               ForcePublisher(path))
    inner = HealthSimulator(province(), random.Random(4), incidents=False)
    background = Following(inner, ForceFollower(path, [inner]))
    probes: list[tuple[float, bool]] = []
    for i in range(1, int(engine.duration_s / TICK_S) + 1):
        now = START + timedelta(seconds=i * TICK_S)
        conductor.advance(now)
        probes += [(i * TICK_S, e["success"]) for e in background.tick(now, TICK_S, 2)
                   if e["type"] == "ServiceProbe" and e["system"] == "dvc"]
    conductor.stop()
    assert [ok for at, ok in probes if 92 <= at < 180] and not any(ok for at, ok in probes if 92 <= at < 180)
    assert any(ok for at, ok in probes if at >= 185) and any(ok for at, ok in probes if at < 90)


def test_several_drills_play_at_once_over_one_background(tmp_path, capsys):
    """``ioc drill a b --out FILE``: both timelines over one background, each with its own ids and
    promises."""
    from streams.cli.main import main

    out = tmp_path / "both.jsonl"
    code = main(["drill", "eoffice-bruteforce", "dossier-backlog", "--speed", "60", "--rate", "50", "--out", str(out)])
    printed = capsys.readouterr().out
    assert code in (0, 1), printed  # at speed 60 promises that count the simulators' own events see fewer
    ids = set()
    for line in out.read_text().splitlines()[1:]:
        value = orjson.loads(orjson.loads(line)["value"])
        ids |= {e["id"] for e in (value if isinstance(value, list) else [value])}
    assert any(i.startswith("drill-eoffice-bruteforce-") for i in ids)
    assert any(i.startswith("drill-dossier-backlog-") for i in ids)
    assert "eoffice-bruteforce: " in printed and "dossier-backlog: " in printed
    assert main(["drill", "dvc-ddos", "dvc-ddos", "--out", str(tmp_path / "x.jsonl")]) == 1
    assert "named twice" in capsys.readouterr().err

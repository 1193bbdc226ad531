import os
import random
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pytest

from simulators.base import Runner
from simulators.catalog import FAMILIES, build_simulators
from simulators.common import Pool, local_hour
from simulators.dossier import add_working_days
from streams.core.clock import LOCAL_TZ as LOCAL  # the assertions below say LOCAL
from streams.core.geography import load_province
from simulators.sensor import aqi_pm25, tide
from streams.core.families import MODELS
from streams.core.settings import Settings
from streams.core.validation import Decoder

PROVINCE = load_province(Settings().province_file)
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 24, 17, 0, tzinfo=timezone.utc)  # Wednesday 00:00 local
NEW = ("security", "camera", "sensor", "dossier", "citizen")
#: drills run during the day, so forced conditions are covered too: (at hour, family, target, condition, options)
DRILLS = [
    (2, "security", "dvc", "ddos", {"rate": 1.0}),
    (3, "security", "cam-xaxia-01", "brute_force", {"rate": 2.0}),
    (4, "security", "cam-xaxia-01", None, {}),
    (5, "security", "dvc", None, {}),
    (4, "camera", "net-hatien", "offline", {}),
    (5, "camera", "net-hatien", None, {}),
    (20, "camera", "bz-giangthanh", "intrusion", {"rate": 0.2}),
    (21, "camera", "cam-rg-center-01", "tamper", {}),
    (6, "sensor", "wl-rachgia", "rising", {"value": 0.3}),
    (7, "sensor", "province", "rain", {"value": 60.0}),
    (9, "sensor", "province", None, {}),
    (8, "sensor", "aq-pq-anthoi", "low_battery", {}),
    (10, "dossier", "30742", "backlog", {"size": 50}),
    (11, "dossier", "30850", "surge", {}),
    (9, "citizen", "30742", "hotspot", {"category": "flooding", "rate": 0.05}),
    (9, "citizen", "so-tnmt", "unresponsive", {}),
]
BUDGET = {"security": 7, "camera": 7, "sensor": 0, "dossier": 20, "citizen": 15}  # events per tick


def simulate(family, seed=2023, *, hours=24, dt=30.0, n=None, drills=True, start=START):
    sim = FAMILIES[family](PROVINCE, random.Random(seed))
    n = BUDGET[family] if n is None else n
    plan = sorted((at, target, cond, opts) for at, fam, target, cond, opts in DRILLS if drills and fam == family)
    now, out = start, []
    for i in range(int(hours * 3600 / dt)):
        now += timedelta(seconds=dt)
        while plan and plan[0][0] * 3600 <= i * dt:
            _, target, cond, opts = plan.pop(0)
            sim.force(target, cond, **opts)
        out.append((now, sim.tick(now, dt, n)))
    return sim, out


@pytest.fixture(scope="module")
def days():
    """A simulated day per family, with drills; sensors and citizen reports run three days (sensors
    report on schedule, reports take days to close)."""
    return {f: simulate(f, hours=72 if f in ("sensor", "citizen") else 24, dt=60.0 if f == "citizen" else 30.0)[1]
            for f in NEW}


@pytest.mark.parametrize("family", NEW)
def test_every_event_of_a_day_passes_the_decoder(family, days):
    total, types, ids = 0, Counter(), set()
    for now, tick_events in days[family]:
        decoder = Decoder(family, bounds=PROVINCE.bounds, clock=lambda: now)
        for i in range(0, len(tick_events), 500):  # in arrays of 500 at most, as the runner sends them
            out = decoder.decode(orjson.dumps(tick_events[i:i + 500]))
            assert not out.rejected, (out.rejected[0].reason, out.rejected[0].detail, out.rejected[0].original[:400])
            total += len(out.events)
            types.update(e.type for e in out.events)
            ids.update(e.id for e in out.events)
    assert total >= 20_000, f"{family}: only {total} events in the run"
    assert len(ids) == total, f"{family}: event ids repeat"
    assert set(types) == {m.__name__ for m in MODELS[family]}, f"{family}: missing {types}"


@pytest.mark.parametrize("family", NEW)
def test_the_same_seed_gives_the_same_feed(family):
    def feed(seed):
        return orjson.dumps([evs for _, evs in simulate(family, seed, hours=2)[1]])

    assert feed(7) == feed(7)
    assert feed(7) != feed(8)


def test_the_feed_does_not_depend_on_hash_randomisation():
    code = ("import hashlib, orjson, random, sys; sys.path.insert(0, 'tests/simulators');"
            "from test_simulators import simulate, NEW;"
            "print(hashlib.sha256(orjson.dumps([simulate(f, 5, hours=3)[1][-40:] for f in NEW],"
            " default=str)).hexdigest())")
    digests = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_the_mixed_feed_runs_through_the_runner_and_decodes():
    sims = build_simulators(PROVINCE, random.Random(1))
    got: dict[str, Counter] = {}
    now = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)  # 09:00 local, office hours

    decoders = {f: Decoder(f, bounds=PROVINCE.bounds, clock=lambda: now) for f in FAMILIES}

    def send(family, key, value):
        out = decoders[family].decode(value)
        assert not out.rejected, out.rejected[0].detail
        assert all(e.entity == key for e in out.events) or family == "security"
        got.setdefault(family, Counter()).update(e.type for e in out.events)

    runner = Runner(sims, send, rate=500, tick_s=1.0)
    for _ in range(300):  # five minutes
        now += timedelta(seconds=1)
        runner.step(now, 1.0)
    volume = {f: sum(n for t, n in c.items() if t != "DossierCarriedOver") for f, c in got.items()}
    assert set(volume) == set(FAMILIES)
    assert min(volume["health"], volume["security"], volume["camera"]) > 20 * max(volume["dossier"], volume["citizen"])


# --- rhythms ------------------------------------------------------------------------------------


def test_counters_work_in_office_hours_and_online_dossiers_come_at_night(days):
    counter, online = Counter(), Counter()
    for _, events in days["dossier"]:
        for e in events:
            if e["type"] == "DossierReceived":
                hour = local_hour(datetime.fromisoformat(e["dateObserved"]))
                (online if e["channel"] == "online" else counter)[int(hour)] += 1
    assert counter and all(7 <= h < 17 for h in counter)
    assert any(h >= 20 or h < 6 for h in online)


def test_online_dossiers_say_how_their_applicant_signed_in(days):
    """Every event of an online dossier carries its sign-in, VNeID for about three in four (the plan
    asks 80 %); dossiers handed in at a counter or by post carry none."""
    methods, offline = Counter(), 0
    for _, events in days["dossier"]:
        for e in events:
            if e["type"] == "DossierReceived":
                if e["channel"] == "online":
                    methods[e["auth_method"]] += 1
                else:
                    offline += "auth_method" in e
    assert offline == 0 and set(methods) == {"vneid", "local", "none"}
    assert 0.65 < methods["vneid"] / sum(methods.values()) < 0.87


def test_intrusions_come_mostly_at_night():
    _, run = simulate("camera", hours=24, drills=False, n=20)
    night = day = 0
    for _, events in run:
        for e in events:
            if e["type"] == "CameraDetection" and e["phase"] == "new" and e["rule"] == "FieldDetector/ObjectsInside":
                h = local_hour(datetime.fromisoformat(e["dateObserved"]))
                night += h >= 21 or h < 5
                day += 9 <= h < 17
    assert night > 2 * day  # equal spans of eight hours


def test_tide_has_a_half_day_period_and_moves_the_water():
    assert tide(0.0) == pytest.approx(1.0) and tide(12.42 / 2) < -0.5
    assert all(abs(tide(t + 12.42) - tide(t)) < 0.71 for t in range(0, 48, 3))  # M2 repeats, K1 shifts
    _, run = simulate("sensor", hours=25, drills=False)
    levels = [e["waterLevel"] for _, evs in run for e in evs if e["type"] == "WaterObserved" and e["refDevice"] == "wl-rachgia"]
    assert max(levels) - min(levels) > 0.5


def test_salinity_peaks_in_the_dry_season():
    def mean_salinity(month):
        _, run = simulate("sensor", hours=24, drills=False, start=datetime(2026, month, 1, tzinfo=timezone.utc))
        values = [e["salinity"] for _, evs in run for e in evs if e["type"] == "WaterQualityObserved"]
        return sum(values) / len(values)

    assert mean_salinity(4) > 3 * mean_salinity(9)


def test_aqi_and_working_days():
    assert [aqi_pm25(x) for x in (0, 25, 37.5, 50, 600)] == [0, 50, 75, 100, 500]
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=LOCAL)
    assert add_working_days(friday, 1) == datetime(2026, 11, 30, 17, 0, tzinfo=LOCAL)  # Monday
    assert add_working_days(friday, 5).day == 4  # next Friday, 4 December


# --- drills ---------------------------------------------------------------------------------------


def test_forced_conditions_show_in_the_feed(days):
    events = {f: [e for _, evs in days[f] for e in evs] for f in NEW}
    ddos = [e for e in events["security"] if e["type"] == "DdosAlert" and e["system"] == "dvc"]
    assert ddos and len({e["dateObserved"] for e in ddos}) > 100
    hatien = {c.code for c in PROVINCE.cameras if c.parent == "net-hatien"}
    offline = {e["camera"] for e in events["camera"] if e["type"] == "CameraHealth" and e["condition"] == "offline"
               and e.get("reason") == "network link down"}
    assert hatien <= offline
    risen = [e["waterLevel"] for e in events["sensor"] if e["type"] == "WaterObserved" and e["refDevice"] == "wl-rachgia"]
    assert max(risen) > 3.0  # 0.3 m/h for days
    assert any(e["type"] == "FloodMonitoring" and e["floodLevelStatus"] == "danger" for e in events["sensor"])
    assert any(e["type"] == "Device" and e["deviceState"] == "low_battery" for e in events["sensor"])
    carried = [e for e in events["dossier"] if e["type"] == "DossierCarriedOver" and e["unit_code"] == "30742"]
    assert len(carried) >= 50
    resolved_rachgia = [e for e in events["dossier"] if e["type"] == "DossierResolved" and e["unit_code"] == "30742"
                    and e["dateObserved"] > "2026-11-25T03:00"]
    assert not resolved_rachgia  # the backlog holds from hour 10
    assert not [e for e in events["citizen"] if e["type"] == "ReportResponded" and e["agency"] == "so-tnmt"
                and e["dateObserved"] > "2026-11-25T02:00"]
    flooding = [e for e in events["citizen"] if e["type"] == "ReportCreated" and e["category"] == "flooding"
                and e["unit_code"] == "30742"]
    assert len(flooding) > 100


@pytest.mark.parametrize("family,target,condition", [
    ("security", "nope", "ddos"), ("security", "dvc", "nope"), ("security", "cam-xaxia-01", "ddos"),
    ("camera", "nope", "offline"), ("camera", "cam-xaxia-01", "nope"),
    ("sensor", "nope", "silent"), ("sensor", "wl-rachgia", "nope"), ("sensor", "province", "silent"),
    ("dossier", "nope", "backlog"), ("dossier", "30742", "nope"),
    ("citizen", "nope", "hotspot"), ("citizen", "nope", "unresponsive"), ("citizen", "30742", "nope"),
])
def test_force_refuses_unknown_targets_and_conditions(family, target, condition):
    sim = FAMILIES[family](PROVINCE, random.Random(1))
    with pytest.raises(ValueError):
        sim.force(target, condition)


def test_a_silent_station_goes_quiet_and_comes_back():
    sim = FAMILIES["sensor"](PROVINCE, random.Random(1))
    now = START

    def hour():
        nonlocal now
        out = []
        for _ in range(120):
            now += timedelta(seconds=30)
            out += [e for e in sim.tick(now, 30.0, 0) if e["refDevice"] == "sal-caibe"]
        return out

    assert hour()
    sim.force("sal-caibe", "silent")
    assert not hour()
    sim.force("sal-caibe", None)
    assert hour()


def test_pool_picks_at_random_and_by_due_date():
    pool: Pool[str] = Pool()
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for i in range(5):
        pool.add(f"k{i}", f"v{i}", t0 + timedelta(hours=i))
    pool.remove("k0")
    pool.add("k3", "v3", t0 - timedelta(hours=1))  # re-added with an earlier due date
    assert pool.due_by(t0) == "v3" and pool.due_by(t0 - timedelta(hours=2)) is None
    assert len(pool) == 4 and "k0" not in pool
    assert {pool.random(random.Random(s)) for s in range(50)} == {"v1", "v2", "v3", "v4"}


def test_the_dossiers_carried_over_at_start_up_are_a_steady_desk_not_a_late_one():
    """A fresh start announces the open pool: only each unit's late share (1–8 %) is already past
    its due date, so a new database does not open with half its dossiers late."""
    from simulators.dossier import DossierSimulator

    now = START.astimezone(timezone.utc)
    sim = DossierSimulator(PROVINCE, random.Random(2023))
    carried = [e for e in sim.tick(now, 1.0, 10) if e["type"] == "DossierCarriedOver"]
    late = [e for e in carried if datetime.fromisoformat(e["due_date"]) <= now]
    assert len(carried) == 2000
    assert 0 < len(late) <= 0.08 * len(carried)
    assert all(e["dossier_id"].rsplit("-", 3)[1] == datetime.fromisoformat(e["received_date"]).astimezone(LOCAL)
               .strftime("%y%m%d") for e in carried)


def test_each_camera_s_heartbeat_comes_from_its_site_or_model(tmp_path):
    import yaml

    from streams.core.errors import ConfigError

    doc = yaml.safe_load(Settings().province_file.read_text(encoding="utf-8"))
    sites = {s["code"]: s for s in doc["camera_sites"]}
    sites["cam-phumy"]["heartbeat_s"] = 90  # the site's own interval wins over its model's
    sites["cam-phumy"]["model"] = "solar-4g"
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    for before in doc["province"].get("predecessors") or ():  # the files it names go with it
        (tmp_path / before).write_text((Settings().province_file.parent / before).read_text(encoding="utf-8"))
    beats = {c.code: c.heartbeat_s for c in load_province(path).cameras}
    assert beats["cam-phumy-02"] == 90 and beats["cam-vinhdieu-01"] == 600  # site, model
    assert beats["cam-rg-center-01"] == beats["cam-xaxia-01"] == 300  # no model: the default; a 300-s model
    for bad, says in (({"model": "nope"}, "unknown camera model 'nope'"), ({"heartbeat_s": 0}, "between 1 and 86400")):
        sites["cam-phumy"].update(bad)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        with pytest.raises(ConfigError, match=says):
            load_province(path)
        sites["cam-phumy"].update(model="solar-4g", heartbeat_s=90)


def test_the_e_office_tallies_grow_through_the_day_and_start_again_at_midnight():
    from simulators.health import TALLY_EVERY, HealthSimulator

    sim = HealthSimulator(PROVINCE, random.Random(2023))
    now = datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)  # 23:00 local
    seen: dict[str, list[dict]] = {}
    for _ in range(9):  # two hours, across midnight
        for e in sim.tick(now, 1.0, 0):
            if e["type"] == "DocumentTally":
                seen.setdefault(e["unit_code"], []).append(e)
        now += TALLY_EVERY
    units = {u.code for u in PROVINCE.units} | {c.code for c in PROVINCE.communes}
    assert units <= set(seen)
    for tallies in seen.values():
        assert all(t["documents_sent_electronic"] <= t["documents_sent"] and
                   t["work_records_online"] <= t["work_records"] for t in tallies)
        days = [datetime.fromisoformat(t["dateObserved"]).astimezone(LOCAL).date() for t in tallies]
        for a, b, day_a, day_b in zip(tallies, tallies[1:], days, days[1:]):
            if day_a == day_b:  # within a day the counts only grow
                assert b["documents_sent"] >= a["documents_sent"] and b["work_records"] >= a["work_records"]
        first_of_new_day = tallies[days.index(days[-1])]
        assert first_of_new_day["documents_sent"] <= 4  # counted afresh after midnight

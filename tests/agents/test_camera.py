from datetime import datetime, timedelta, timezone

from agents.indicators.camera import CAMERA_WINDOW, DebounceConfig, apply, camera_increments, effective_state, new_state
from streams.core.contracts.camera import CameraDetection, CameraHealth

T0 = datetime(2026, 11, 27, 15, 0, tzinfo=timezone.utc)
CFG = DebounceConfig()


def health(i, condition, at, active=True, camera="cam-hatien-01"):
    return CameraHealth(id=f"h{i}", type="CameraHealth", camera=camera, dateObserved=at, condition=condition,
                        active=active)


def run(reports, st=None):
    st = st or new_state("cam-hatien-01")
    for i, (sec, cond) in enumerate(reports):
        st = apply(st, health(i, cond, T0 + timedelta(seconds=sec)), CFG)
    return st


def test_first_report_is_taken_and_short_blips_are_ignored():
    st = run([(0, "online"), (10, "offline"), (20, "online"), (30, "online")])
    assert st["state"] == "online" and st["changes"] == 1


def test_offline_confirmed_after_holding_for_a_minute():
    st = run([(0, "online"), (100, "offline"), (130, "offline")])
    assert st["state"] == "online"  # 30 s is not enough
    st = run([(0, "online"), (100, "offline"), (130, "offline"), (165, "offline")])
    assert st["state"] == "offline" and st["since"] == T0 + timedelta(seconds=100)


def test_confirmation_by_time_at_read_and_silence_means_offline():
    st = run([(0, "online"), (100, "offline")])
    assert effective_state(st, T0 + timedelta(seconds=120), CFG) == "online"
    assert effective_state(st, T0 + timedelta(seconds=161), CFG) == "offline"  # an explicit report: 60 s debounce
    quiet = run([(0, "online")])
    assert effective_state(quiet, T0 + timedelta(minutes=5), CFG) == "online"  # one heartbeat late is not silence
    assert effective_state(quiet, T0 + timedelta(minutes=11), CFG) == "offline"  # 2 × 300 s + 60 s
    assert effective_state(new_state("x"), T0, CFG) == "unknown"


def test_silence_is_measured_in_the_camera_s_own_heartbeats():
    assert CFG.silent_after() == timedelta(seconds=660)
    assert CFG.silent_after(120) == timedelta(seconds=300) and CFG.silent_after(600) == timedelta(seconds=1260)
    for beat in (60, 120, 300, 600):
        # a camera beating on time (even a tick late) is never offline, read at any second
        st = run([(i * beat + (i % 2), "online") for i in range(0, 3600 // beat + 1)])
        st_at = [effective_state(st, T0 + timedelta(seconds=t), CFG, beat) for t in range(3600, 3600 + beat + 2)]
        assert set(st_at) == {"online"}, beat
        # one that misses two beats (and the grace after them) is offline
        last = run([(0, "online")])
        assert effective_state(last, T0 + timedelta(seconds=2 * beat + 59), CFG, beat) == "online"
        assert effective_state(last, T0 + timedelta(seconds=2 * beat + 60), CFG, beat) == "offline"


def test_flapping_camera_is_one_change_not_hundreds():
    reports = [(i * 5, "offline" if i % 2 else "online") for i in range(200)]
    st = run(reports)
    assert st["state"] == "flapping"
    assert st["changes"] == 2  # unknown -> online -> flapping
    # quiet (steadily online) for the flap window: it settles
    settle = [(1000 + i * 30, "online") for i in range(25)]
    st = run(settle, st)
    assert st["state"] == "online" and st["changes"] == 3


def test_conditions_are_kept_apart_from_state():
    st = run([(0, "online")])
    st = apply(st, health(9, "VideoSource/SignalLoss", T0 + timedelta(seconds=5)), CFG)
    assert st["conditions"] == ["VideoSource/SignalLoss"] and st["state"] == "online"
    st = apply(st, health(10, "VideoSource/SignalLoss", T0 + timedelta(seconds=9), active=False), CFG)
    assert st["conditions"] == []


def test_increments_count_new_tracks_per_zone_and_carry_state():
    det = dict(type="CameraDetection", camera="cam-giangthanh-02", rule="FieldDetector/ObjectsInside",
               label="person", score=0.9, zones=["bien-gioi-gt"], start_time=T0)
    events = [
        CameraDetection(id="d1", event_id="e1", phase="new", dateObserved=T0, **det),
        CameraDetection(id="d2", event_id="e1", phase="update", dateObserved=T0 + timedelta(seconds=2), **det),
        CameraDetection(id="d3", event_id="e2", phase="new", dateObserved=T0 + timedelta(seconds=3), **det),
        health(1, "online", T0),
    ]
    incs = camera_increments(events, {})
    rows = {(r["window_s"], r["zone"]): r["tracks"] for r in incs.rows[CAMERA_WINDOW]}
    assert rows == {(60, "bien-gioi-gt"): 2, (3600, "bien-gioi-gt"): 2}
    assert incs.states[("cam-hatien-01",)]["state"] == "online"


def test_offline_counts_per_area_and_zone():
    from types import SimpleNamespace

    from agents.indicators.camera import offline_counts

    cams = [SimpleNamespace(code="c1", unit="914", zone="gt-border", heartbeat_s=300),
            SimpleNamespace(code="c2", unit="914", zone=None, heartbeat_s=240),
            SimpleNamespace(code="c3", unit="900", zone="ht-border", heartbeat_s=300),
            SimpleNamespace(code="c4", unit="900", zone=None, heartbeat_s=300),
            SimpleNamespace(code="c5", unit="900", zone=None, heartbeat_s=600)]
    now = T0 + timedelta(minutes=1)
    rows = [
        {**new_state("c1"), "state": "offline", "observed": "offline", "last_seen": now},
        {**new_state("c2"), "state": "online", "observed": "online", "last_seen": now - timedelta(minutes=10)},
        {**new_state("c3"), "state": "online", "observed": "online", "last_seen": now},
        {**new_state("c5"), "state": "online", "observed": "online", "last_seen": now - timedelta(minutes=10)},
    ]
    # c2 promised a beat every 4 minutes and missed two; c5 beats every 10 minutes and is not late yet
    assert offline_counts(rows, cams, now) == ({"914": 2}, {"gt-border": 1})


def test_states_per_area_mark_tampered_cameras_and_count_every_camera_once():
    from types import SimpleNamespace

    from agents.indicators.camera import area_states, view_state

    cams = [SimpleNamespace(code=f"c{i}", unit=unit, zone="gt", heartbeat_s=300)
            for i, unit in enumerate(["914", "914", "914", "914", "900"])]
    now = T0 + timedelta(minutes=1)
    rows = [
        {**new_state("c0"), "state": "online", "observed": "online", "last_seen": now},
        {**new_state("c1"), "state": "online", "observed": "online", "last_seen": now,
         "conditions": ["VideoSource/GlobalSceneChange"]},
        {**new_state("c2"), "state": "offline", "observed": "offline", "last_seen": now,
         "conditions": ["VideoSource/ImageTooDark"]},  # offline says more than a dark picture
        {**new_state("c3"), "state": "online", "observed": "online", "last_seen": now - timedelta(minutes=12)},
    ]
    per_area = area_states(rows, cams, now)
    assert per_area["914"] == {"offline": 2, "tampered": 1, "flapping": 0, "online": 1, "unknown": 0}  # c3: silent
    assert per_area["900"] == {"offline": 0, "tampered": 0, "flapping": 0, "online": 0, "unknown": 1}
    assert view_state("flapping", ["VideoSource/GlobalSceneChange"]) == "flapping"
    assert view_state("online", ["VideoSource/SignalLoss"]) == "online"


def test_zone_counts_add_cameras_of_a_zone_per_class():
    from types import SimpleNamespace

    from agents.indicators.camera import ZoneCount, track_duration, zone_counts

    cams = [SimpleNamespace(code="a1", zone="gt"), SimpleNamespace(code="a2", zone="gt"),
            SimpleNamespace(code="b1", zone="pq"), SimpleNamespace(code="town", zone=None)]
    hour = [{"camera": "a1", "label": "person", "hour": 3, "hour_yesterday": 1},
            {"camera": "a2", "label": "person", "hour": 2, "hour_yesterday": 0},
            {"camera": "b1", "label": "boat", "hour": 0, "hour_yesterday": 4},
            {"camera": "town", "label": "car", "hour": 9, "hour_yesterday": 9}]
    day = [{"camera": "a1", "label": "person", "earlier": 15}, {"camera": "b1", "label": "boat", "earlier": 7},
           {"camera": "a2", "label": "car", "earlier": 1}]
    assert zone_counts(hour, day, cams) == [ZoneCount("gt", "person", 5, 1, 20), ZoneCount("gt", "car", 0, 0, 1),
                                            ZoneCount("pq", "boat", 0, 4, 7)]
    assert track_duration(T0, T0 + timedelta(seconds=95), True, T0 + timedelta(hours=1)) == timedelta(seconds=95)
    assert track_duration(T0, T0, False, T0 + timedelta(seconds=30)) == timedelta(seconds=30)  # still going on


def test_a_zone_is_above_its_usual_level_for_the_hour_of_the_week_only_once_learned():
    from types import SimpleNamespace

    import pytest

    from agents.indicators.camera import above_usual, in_night_watch, night_watch_hours, zone_weeks

    cams = [SimpleNamespace(code="a1", zone="gt"), SimpleNamespace(code="a2", zone="gt"),
            SimpleNamespace(code="b1", zone="pq"), SimpleNamespace(code="town", zone=None)]
    rows = [{"camera": "a1", "weeks_ago": 1, "tracks": 2}, {"camera": "a2", "weeks_ago": 1, "tracks": 1},
            {"camera": "a1", "weeks_ago": 2, "tracks": 4}, {"camera": "b1", "weeks_ago": 3, "tracks": 9},
            {"camera": "town", "weeks_ago": 5, "tracks": 70}]
    # week 5 had tracks only on a town camera: no data for the border, left out; pq saw nothing in weeks 1, 2
    assert zone_weeks(rows, cams) == {"gt": [3, 4, 0], "pq": [0, 0, 9]}
    assert not above_usual(40, [3, 4])  # two weeks of history: nothing learned yet
    assert not above_usual(6, [3, 4, 2]) and above_usual(9, [3, 4, 2])  # mean 3, spread max(1, √3): above 6.5
    assert not above_usual(2, [0, 0, 0]) and above_usual(3, [0, 0, 0])  # a quiet zone: three tracks stand out
    assert not above_usual(30, [10, 40, 25, 5])  # a zone that varies a lot needs more
    assert night_watch_hours("19-6") == (19, 6) and night_watch_hours("") is None
    for bad in ("7-7", "25-3"):
        with pytest.raises(ValueError):
            night_watch_hours(bad)
    assert [h for h in range(24) if in_night_watch(h, (19, 6))] == [0, 1, 2, 3, 4, 5, 19, 20, 21, 22, 23]
    assert [h for h in range(24) if in_night_watch(h, (1, 4))] == [1, 2, 3]


def test_a_calm_hour_of_the_camera_simulator_has_no_camera_offline():
    """The simulator (no incidents) over an hour of its own clock, through the worker's pure logic
    and the wall's reading: 0 cameras offline and 0 offline transitions, read every minute."""
    import random

    from agents.indicators.camera import camera_states
    from simulators.camera import CameraSimulator
    from streams.core.geography import load_province
    from streams.core.settings import Settings

    province = load_province(Settings().province_file)
    assert {c.heartbeat_s for c in province.cameras} >= {300.0, 600.0}  # the file declares two intervals
    sim = CameraSimulator(province, random.Random(5), incidents=False)
    states: dict = {}
    offline, silent_3min = [], set()
    for second in range(1, 3601):
        now = T0 + timedelta(seconds=second)
        fresh = [CameraHealth.model_validate(e) for e in sim.tick(now, 1.0, 2) if e["type"] == "CameraHealth"]
        states.update(camera_increments(fresh, states).states)
        if second % 60:
            continue
        rows = [dict(st) for st in states.values()]
        seen = camera_states(rows, province.cameras, now)
        offline += [(second, c) for c, s in seen.items() if s != "online"]
        offline += [(second, r["camera"]) for r in rows if r["state"] != "online" or r["changes"] != 1]
        old = DebounceConfig(missed_beats=0, grace=timedelta(minutes=3))  # the fixed 3 minutes of before
        silent_3min |= {r["camera"] for r in rows if effective_state(r, now, old) == "offline"}
        if second == 600:  # by then every camera has sent its first heartbeat
            assert len(seen) == len(province.cameras)
    assert offline == []
    assert len(silent_3min) > len(province.cameras) / 2  # what the wall showed with a fixed 3-minute silence


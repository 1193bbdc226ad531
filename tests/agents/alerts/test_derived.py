from datetime import datetime, timedelta, timezone

from agents.alerting.derived import camera_values, intrusion_values, topology_parents
from agents.alerting.evaluate import Topology
from agents.indicators.camera import new_state
from streams.core.geography import load_province
from streams.core.settings import Settings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
PROVINCE = load_province(Settings().province_file)


def test_topology_reaches_from_camera_to_data_centre():
    parents = topology_parents(PROVINCE)
    cam = PROVINCE.cameras[0]
    chain = Topology(parents).ancestors(cam.code)
    assert chain[0] == cam.parent  # its network link first
    assert parents["ndxp"] == "lgsp" and Topology(parents).ancestors("ndxp")[-1] == "datacenter"


def test_camera_offline_values():
    a, b, c = (x.code for x in PROVINCE.cameras[:3])
    online = {**new_state(a), "state": "online", "observed": "online", "last_seen": NOW - timedelta(seconds=20)}
    silent = {**new_state(b), "state": "online", "observed": "online", "last_seen": NOW - timedelta(minutes=11)}
    offline = {**new_state(c), "state": "offline", "observed": "offline", "last_seen": NOW}
    unknown = {**new_state("not-a-camera"), "state": "offline", "last_seen": NOW}
    values = camera_values([online, silent, offline, unknown], PROVINCE, NOW)["camera.offline"]
    assert values == {a: 0.0, b: 1.0, c: 1.0}


def test_camera_offline_follows_each_camera_s_declared_heartbeat():
    slow = next(c for c in PROVINCE.cameras if c.heartbeat_s == 600)
    fast = next(c for c in PROVINCE.cameras if c.heartbeat_s == 300)
    rows = [{**new_state(c.code), "state": "online", "observed": "online", "last_seen": NOW - timedelta(minutes=15)}
            for c in (slow, fast)]
    assert camera_values(rows, PROVINCE, NOW)["camera.offline"] == {slow.code: 0.0, fast.code: 1.0}


def test_intrusions_are_counted_per_border_zone_of_the_province_file():
    rows = [{"camera": "cam-phumy-02", "tracks": 3.0}, {"camera": "cam-vinhdieu-01", "tracks": 2.0},
            {"camera": "cam-xaxia-01", "tracks": 1.0},
            {"camera": "cam-rg-center-01", "tracks": 9.0},  # a town camera: in no border zone
            {"camera": "cam-unknown", "tracks": 4.0}]
    values = intrusion_values(rows, PROVINCE)["camera.intrusions"]
    assert values == {"bz-giangthanh": 5.0, "bz-hatien": 1.0, "bz-kienluong": 0.0, "bz-phuquoc": 0.0,
                      "bz-tinhbien": 0.0, "bz-anphu": 0.0}
    assert intrusion_values([], PROVINCE)["camera.intrusions"] == dict.fromkeys(values, 0.0)  # quiet zones can clear

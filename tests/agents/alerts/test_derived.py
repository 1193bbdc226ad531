from datetime import datetime, timedelta, timezone

from agents.alerts.derived import camera_values, topology_parents
from agents.alerts.evaluate import Topology
from agents.camera import new_state
from simulators.province import load_province
from streams.settings import Settings

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
    silent = {**new_state(b), "state": "online", "observed": "online", "last_seen": NOW - timedelta(minutes=10)}
    offline = {**new_state(c), "state": "offline", "observed": "offline", "last_seen": NOW}
    unknown = {**new_state("not-a-camera"), "state": "offline", "last_seen": NOW}
    values = camera_values([online, silent, offline, unknown], PROVINCE, NOW)["camera.offline"]
    assert values == {a: 0.0, b: 1.0, c: 1.0}

"""Security and camera feeds through the real worker: counters, debounced state, findings."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson

from tests.support import wait_for


def _iso(ts: datetime) -> str:
    return ts.isoformat()


def test_brute_force_campaign_becomes_counts_and_a_finding(worker, producer, db):
    now = datetime.now(timezone.utc)
    events = [
        {"id": f"bf-{i}", "type": "AuthFailure", "dateObserved": _iso(now - timedelta(seconds=60 - i)),
         "system": "eoffice", "src_ip": "203.0.113.77", "service": "sso", "username": f"user{i % 5}",
         "action": "blocked", "severity": "low", "layer": 1}
        for i in range(40)
    ]
    producer("security", "eoffice", orjson.dumps(events[:25]))  # an array message
    for ev in events[25:]:
        producer("security", "eoffice", orjson.dumps(ev))  # and single events
    producer.flush()
    wait_for(lambda: db.execute("SELECT sum(failures) FROM auth_failure_window WHERE src_ip = '203.0.113.77'"
                                ).fetchone()[0] == 40, timeout=60, what="40 failures counted")

    # a detector run may have seen only part of the 40 (its finding then holds a smaller value, and
    # another 5-minute bucket may hold it): wait for the run that saw all 40, the finding's final value
    def final_finding():
        row = db.execute("SELECT severity, layer, value FROM security_finding WHERE kind = 'brute_force' "
                         "AND subject = '203.0.113.77' ORDER BY value DESC LIMIT 1").fetchone()
        return row if row and row[2] == 40 else None

    finding = wait_for(final_finding, timeout=60, what="a brute-force finding of all 40 failures")
    assert finding == ("medium", 2, 40.0)
    assert db.execute("SELECT count(*) FROM security_event WHERE src_ip = '203.0.113.77'").fetchone()[0] == 40


def test_a_critical_national_alert_is_a_layer_4_finding_and_raises_the_critical_indicator(worker, producer, db,
                                                                                           test_settings):
    from agents.alerting.derived import critical_finding_reader
    from agents.alerting.store import AlertStore
    from agents.indicators.register import load_policy

    alert = {"id": "ncsc-itest-1", "type": "IdsAlert", "dateObserved": _iso(datetime.now(timezone.utc)),
             "device": "ncsc-l4", "system": "itest-l4", "src_ip": "10.91.7.7", "dst_ip": "203.0.113.66",
             "rule": "Kết nối tới máy chủ điều khiển mã độc APT", "category": "Cảnh báo giám sát quốc gia",
             "action": "detected", "severity": "critical", "layer": 4}
    producer("security", "itest-l4", orjson.dumps(alert))
    producer.flush()
    finding = wait_for(
        lambda: db.execute("SELECT kind, subject, severity, layer, detail FROM security_finding "
                           "WHERE target = 'itest-l4'").fetchone(), timeout=60, what="a layer-4 finding")
    assert finding == ("national", "10.91.7.7", "critical", 4, "Kết nối tới máy chủ điều khiển mã độc APT")
    store = AlertStore(test_settings.dsn)
    values = critical_finding_reader(store.fetch, load_policy())(datetime.now(timezone.utc))
    assert values["security.findings_critical"].get("itest-l4") == 1
    # it came from the national centre: not forwarded back up to it
    assert db.execute("SELECT count(*) FROM soc_outbox WHERE finding->>'target' = 'itest-l4'").fetchone()[0] == 0


def test_flapping_camera_is_one_state_and_tracks_are_counted(worker, producer, db):
    now = datetime.now(timezone.utc)
    cam = "cam-itest-01"
    flaps = [{"id": f"{cam}-h{i}", "type": "CameraHealth", "camera": cam,
              "dateObserved": _iso(now - timedelta(seconds=120 - 2 * i)),
              "condition": "offline" if i % 2 else "online"} for i in range(40)]
    det = {"type": "CameraDetection", "camera": cam, "rule": "FieldDetector/ObjectsInside", "label": "person",
           "score": 0.88, "zones": ["itest-zone"], "start_time": _iso(now - timedelta(seconds=30))}
    tracks = [
        {**det, "id": f"{cam}-d1", "event_id": "trk-1", "phase": "new", "dateObserved": _iso(now - timedelta(seconds=30))},
        {**det, "id": f"{cam}-d2", "event_id": "trk-1", "phase": "update", "dateObserved": _iso(now - timedelta(seconds=29))},
        {**det, "id": f"{cam}-d3", "event_id": "trk-2", "phase": "new", "dateObserved": _iso(now - timedelta(seconds=20))},
    ]
    producer("camera", cam, orjson.dumps(flaps + tracks))
    producer.flush()
    state = wait_for(lambda: db.execute("SELECT state, changes FROM camera_state WHERE camera = %s", (cam,)
                                        ).fetchone(), timeout=60, what="camera state")
    assert state == ("flapping", 2)
    hourly = db.execute("SELECT sum(tracks) FROM camera_window WHERE camera = %s AND window_s = 3600", (cam,)
                        ).fetchone()[0]
    assert hourly == 2

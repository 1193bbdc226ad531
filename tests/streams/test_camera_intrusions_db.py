"""``camera.intrusions`` through the real sink and the alert store: per border zone of the
province file, over a rolling hour that does not fall to zero at the full hour, and the
``border_intrusions`` summary naming the zone."""
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.derived import intrusion_values
from agents.alerting.evaluate import evaluate
from agents.alerting.rules import load_rules
from agents.indicators.camera import CAMERA_FEED
from streams.core.geography import load_province
from streams.core.contracts.camera import CameraDetection
from agents.alerting.store import AlertStore
from agents.indicators.queries.camera import INTRUSION_ROWS
from streams.core.tables import SourceStats
from agents.worker.sinks.timescale import TimescaleSink

pytestmark = pytest.mark.integration

HOUR = datetime(2025, 3, 14, 17, 0, tzinfo=timezone.utc)  # 00:00 local: a full clock hour, far from other tests


def intrusion(k: int, at: datetime, rule: str = "FieldDetector/ObjectsInside") -> CameraDetection:
    return CameraDetection(id=f"it-intr:{k}", type="CameraDetection", event_id=f"it-intr-{k}", camera="cam-phumy-02",
                           dateObserved=at, phase="new", rule=rule, label="person", score=0.9,
                           zones=["border_strip"], start_time=at)


async def test_intrusions_per_province_zone_over_a_rolling_hour(test_settings, db):
    minutes = (-40, -30, -20, -5, 5, 15)  # four in the hour before the full hour, two after
    events = [intrusion(k, HOUR + timedelta(minutes=m, seconds=7)) for k, m in enumerate(minutes)]
    events.append(intrusion(99, HOUR + timedelta(minutes=1), rule="LineDetector/Crossed"))  # not an intrusion
    sink = TimescaleSink(test_settings.dsn)
    try:
        await sink.write(CAMERA_FEED, events, SourceStats("camera", HOUR, len(events), 0))
    finally:
        await sink.close()
    province = load_province(test_settings.province_file)
    store = AlertStore(test_settings.dsn, names=province.names())

    def value(now: datetime) -> dict:
        return intrusion_values(store.fetch(INTRUSION_ROWS, (now, now)), province)["camera.intrusions"]

    after = HOUR + timedelta(minutes=16)
    got = value(after)
    assert got["bz-giangthanh"] == 6.0 and "border_strip" not in got  # the clock hour alone holds 2
    assert value(HOUR + timedelta(minutes=25))["bz-giangthanh"] == 5.0  # -40 has left the hour, -30 has not
    assert value(HOUR - timedelta(minutes=30))["bz-giangthanh"] == 2.0  # nothing from the future
    assert value(HOUR + timedelta(minutes=80))["bz-giangthanh"] == 0.0

    # the rule of deploy/rules/ioc.yaml, under a name of its own and with low thresholds, names the zone
    rule = next(r for r in load_rules(test_settings.alert_rule_files()) if r.indicator == "camera.intrusions")
    rule = replace(rule, name="it_border_intrusions", fire=3, clear=1)  # the thresholds of these six tracks
    states = store.load_states()
    for i in range(3):  # long enough for its pending time, if it has one
        now = after + timedelta(minutes=5 * i)
        states, transitions = evaluate([rule], {"camera.intrusions": value(now)}, states, now)
        store.apply_round({rule.name: rule}, states, transitions, now)
    alert = db.execute("SELECT entity, state, summary_vi, summary_en FROM alert WHERE rule = 'it_border_intrusions'"
                       ).fetchone()
    # the run's database is shared: a firing alert left behind would be escalated by other tests
    db.execute("DELETE FROM alert WHERE rule = 'it_border_intrusions'")
    db.execute("DELETE FROM alert_rule_state WHERE rule = 'it_border_intrusions'")
    assert alert[:2] == ("bz-giangthanh", "firing")
    assert alert[2].startswith("Vùng Biên giới Giang Thành (bz-giangthanh): ")
    assert alert[3].startswith("Zone Biên giới Giang Thành (bz-giangthanh): ")

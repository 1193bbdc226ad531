"""Drill runs against the real database: an alert raised for a drill's target while it runs carries
the drill and notifies the drill receivers only; the run's rows make its after-action score."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.evaluate import evaluate
from agents.alerting.rules import parse_rule
from agents.indicators.drill_score import score
from streams.db.scratch import scratch_database
from streams.core.errors import SinkUnavailable
from agents.alerting.notify.oncall import parse_oncall
from agents.alerting.store import AlertStore
from agents.alerting.drillstore import GRACE_S, DrillStore
from tests.conftest import ADMIN_DSN

RULE = parse_rule({"name": "drill_test_down", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                   "clear": 0.9, "for": "30s", "summary": {"vi": "{entity} ngừng", "en": "{entity} down"}}, "t")
ONCALL = parse_oncall({
    "receivers": {"ops": {"channel": "webhook", "url": "http://127.0.0.1:9/ops"},
                  "lead": {"channel": "email", "to": "lead@kiengiang.gov.vn"},
                  "dien-tap": {"channel": "webhook", "url": "http://127.0.0.1:9/drill"}},
    "levels": [{"receivers": ["ops"]}, {"after": "10m", "receivers": ["lead"]}],
    "drill": {"receivers": ["dien-tap"]},
}, "t.yaml")


def round_(store, values, now):
    states, transitions = evaluate([RULE], {"health.availability": values}, store.load_states(), now)
    return store.apply_round({RULE.name: RULE}, states, transitions, now, receivers_for=ONCALL.receivers_for)


def outbox(db, entity):
    return db.execute(
        "SELECT o.receiver, o.payload->>'event', o.payload->'alert'->>'drill' FROM notification_outbox o "
        "JOIN alert a ON a.id = o.alert_id WHERE a.entity = %s ORDER BY o.id", (entity,)).fetchall()


@pytest.fixture
def entities():
    """Entities no other test of the run uses: the shared database sees every open alert."""
    tag = uuid.uuid4().hex[:6]
    return f"sys-drill-{tag}", f"sys-other-{tag}"


def register(drills: DrillStore, target: str, start: datetime, seconds: float = 300) -> int:
    return drills.register(scenario="dvc-ddos", run=start.strftime("%Y%m%dT%H%M%S"), title_vi="Tấn công DDoS",
                           title_en="DDoS", started_at=start, ends_at=start + timedelta(seconds=seconds),
                           started_by="tester", speed=1.0, expected=[{"rule": RULE.name, "entity": target}],
                           targets=[target], steps=[{"at": 0, "for": 60, "what": f"force health {target} down"}])


def test_a_drill_alert_carries_the_drill_and_goes_to_the_drill_receivers_only(test_settings, db, entities):
    target, other = entities
    store, drills = AlertStore(test_settings.dsn), DrillStore(test_settings.dsn)
    # rounds at given times; the acknowledgement below is stamped with the real time, 20 minutes on
    t0 = datetime.now(timezone.utc) - timedelta(minutes=20)
    run_id = register(drills, target, t0)
    try:
        round_(store, {target: 0.1, other: 0.1}, t0 + timedelta(seconds=5))
        round_(store, {target: 0.1, other: 0.1}, t0 + timedelta(seconds=40))
        alerts = {a["entity"]: a for a in store.alerts() if a["entity"] in entities}
        assert (alerts[target]["drill_run"], alerts[target]["drill"]) == (run_id, "dvc-ddos")
        assert (alerts[other]["drill_run"], alerts[other]["drill"]) == (None, None)  # not a target: real
        assert outbox(db, target) == [("dien-tap", "firing", "dvc-ddos")]
        assert outbox(db, other) == [("ops", "firing", None)]

        # unacknowledged: the escalation goes to the drill receivers too, never to the real level 1
        levels = ONCALL.level_delays
        assert store.escalate(t0 + timedelta(minutes=11), levels, ONCALL.receivers_for) == 2
        assert outbox(db, target)[-1] == ("dien-tap", "escalated", "dvc-ddos")
        assert outbox(db, other)[-1] == ("lead", "escalated", None)

        store.acknowledge(alerts[target]["id"], "truc-ban", "diễn tập")
        # resolved: announced to the drill receivers once
        round_(store, {target: 1.0, other: 1.0}, t0 + timedelta(minutes=21))
        assert outbox(db, target)[-1] == ("dien-tap", "resolved", "dvc-ddos")
        assert [r for r in outbox(db, target) if r[1] == "resolved"] == [("dien-tap", "resolved", "dvc-ddos")]
        drills.finish(run_id, "done", t0 + timedelta(minutes=21),
                      signals=[{"says_vi": "a", "says_en": "b", "ok": True, "observed": "3"}])

        # the after-action score from the stored rows
        run = drills.run(run_id)
        assert run["status"] == "done" and run["signals"][0]["ok"] is True
        result = score(run, drills.alerts(run_id))
        (promise,) = result.promised
        assert promise.alert_id == alerts[target]["id"] and promise.detect_s == pytest.approx(40, abs=0.01)
        assert promise.acknowledged_by == "truc-ban" and promise.ack_s == pytest.approx(20 * 60 - 40, abs=30)
        kinds = [e["kind"] for e in drills.alert_events(run_id)]
        assert kinds[:2] == ["pending", "fired"] and "acknowledged" in kinds and kinds[-1] == "resolved"
        listed = next(r for r in drills.runs() if r["id"] == run_id)
        assert listed["alerts"] == 1
    finally:
        drills.finish(run_id, "done", t0)
        db.execute("DELETE FROM alert WHERE entity = ANY(%s)", (list(entities),))
        db.execute("DELETE FROM alert_rule_state WHERE entity = ANY(%s)", (list(entities),))


def test_after_the_grace_period_alerts_are_real_again(test_settings, db, entities):
    target, _ = entities
    store, drills = AlertStore(test_settings.dsn), DrillStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    run_id = register(drills, target, t0, seconds=60)
    drills.finish(run_id, "stopped", t0 + timedelta(seconds=30))
    try:
        later = t0 + timedelta(seconds=30 + GRACE_S + 1)
        round_(store, {target: 0.1}, later)
        round_(store, {target: 0.1}, later + timedelta(seconds=31))
        (alert,) = [a for a in store.alerts() if a["entity"] == target]
        assert alert["drill_run"] is None
        assert outbox(db, target) == [("ops", "firing", None)]
    finally:
        db.execute("DELETE FROM alert WHERE entity = %s", (target,))
        db.execute("DELETE FROM alert_rule_state WHERE entity = %s", (target,))


def test_a_run_left_running_by_a_dead_process_is_closed_by_the_next_one(test_settings, db, entities):
    target, other = entities
    drills = DrillStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    dead = register(drills, target, t0 - timedelta(hours=1), seconds=300)  # never closed
    live = register(drills, other, t0)
    try:
        assert drills.run(dead)["status"] == "failed" and drills.run(dead)["note"]
        assert drills.run(dead)["finished_at"] == drills.run(dead)["ends_at"]
        assert drills.run(live)["status"] == "running"
        with pytest.raises(ValueError, match="ends as one of"):
            drills.finish(live, "exploded", t0)
    finally:
        drills.finish(live, "stopped", t0)


def test_a_database_without_the_drill_table_refuses_the_drill_in_one_line(test_settings):
    name = f"{test_settings.dsn.rsplit('/', 1)[1]}_nodrill"
    with scratch_database(ADMIN_DSN, name, migrate=False) as dsn:
        with pytest.raises(SinkUnavailable, match="cannot register the drill run: .*drill_run"):
            register(DrillStore(dsn), "dvc", datetime.now(timezone.utc))

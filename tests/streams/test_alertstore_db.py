"""The alert lifecycle against the real database: rounds, suppression, actions, escalation, audit."""
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.evaluate import Topology, evaluate
from agents.alerting.rules import parse_rule
from streams.core.errors import IOCError
from agents.alerting.store import AlertStore

RULE = parse_rule({"name": "it_down", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                   "clear": 0.9, "for": "30s", "summary": {"vi": "{entity} ngừng", "en": "{entity} down"}}, "t")
RULES = {RULE.name: RULE}
TOPO = Topology({"it-ndxp": "it-lgsp"})
RECEIVERS = {0: [("webhook", "ops")], 1: [("email", "lead")], 2: [("telegram", "director")]}


def receivers(level, **_drill):
    return RECEIVERS.get(level, [])


def round_(store, values, now):
    states = store.load_states()
    states, transitions = evaluate([RULE], {"health.availability": values}, states, now)
    return store.apply_round(RULES, states, transitions, now, topology=TOPO, receivers_for=receivers)


def outbox(db, entity):
    return db.execute(
        "SELECT o.channel, o.payload->>'event' FROM notification_outbox o JOIN alert a ON a.id = o.alert_id "
        "WHERE a.entity = %s ORDER BY o.id", (entity,)).fetchall()


def test_lifecycle_suppression_actions_and_escalation(test_settings, db):
    store = AlertStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    assert round_(store, {"it-lgsp": 0.1, "it-ndxp": 0.0}, t0) == 0  # pending only
    queued = round_(store, {"it-lgsp": 0.1, "it-ndxp": 0.0}, t0 + timedelta(seconds=40))
    assert queued == 1  # lgsp fires and notifies; ndxp fires suppressed by its parent
    lgsp, ndxp = (db.execute("SELECT * FROM alert WHERE entity = %s", (e,)).fetchone() for e in ("it-lgsp", "it-ndxp"))
    assert lgsp[4] == "firing" and ndxp[4] == "firing"
    alerts = {a["entity"]: a for a in store.alerts()}
    assert alerts["it-ndxp"]["suppressed_by"] == alerts["it-lgsp"]["id"]
    assert outbox(db, "it-lgsp") == [("webhook", "firing")] and outbox(db, "it-ndxp") == []

    # nobody acknowledges: after 10 minutes the next level is called, not twice
    levels = [timedelta(0), timedelta(minutes=10), timedelta(minutes=30)]
    # (the counts are of every alert of the run's database: the outbox of this one tells)
    store.escalate(t0 + timedelta(minutes=5), levels, receivers)
    assert outbox(db, "it-lgsp") == [("webhook", "firing")]
    assert store.escalate(t0 + timedelta(minutes=11), levels, receivers) >= 1
    store.escalate(t0 + timedelta(minutes=12), levels, receivers)
    assert outbox(db, "it-lgsp") == [("webhook", "firing"), ("email", "escalated")]

    # acknowledged: escalation stops
    lid = alerts["it-lgsp"]["id"]
    store.acknowledge(lid, "truc-ban-1", "đang xử lý")
    store.escalate(t0 + timedelta(minutes=40), levels, receivers)
    assert outbox(db, "it-lgsp")[-1] == ("email", "escalated")
    store.assign(lid, "truc-ban-1", "ky-thuat-2")
    with pytest.raises(IOCError, match="no alert"):
        store.acknowledge(10**9, "x")

    # recovery: resolved notifications go to every level that was called
    round_(store, {"it-lgsp": 1.0, "it-ndxp": 1.0}, t0 + timedelta(minutes=41))
    assert outbox(db, "it-lgsp")[-2:] == [("webhook", "resolved"), ("email", "resolved")]
    assert outbox(db, "it-ndxp") == []  # it never notified, so it does not resolve loudly
    kinds = [e["kind"] for e in store.history(lid)]
    assert kinds == ["pending", "fired", "escalated", "acknowledged", "assigned", "resolved"]
    assert store.history(lid)[3]["actor"] == "truc-ban-1"
    with pytest.raises(IOCError, match="cannot acknowledged"):
        store.acknowledge(lid, "late")


def test_silence_until_resolved_and_manual_resolve(test_settings, db):
    store = AlertStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    round_(store, {"it-gis": 0.0}, t0)
    aid = store.alerts()[0]["id"] if store.alerts()[0]["entity"] == "it-gis" else next(
        a["id"] for a in store.alerts() if a["entity"] == "it-gis")
    store.silence(aid, "op", until_resolved=True, comment="bảo trì đột xuất")
    round_(store, {"it-gis": 0.0}, t0 + timedelta(seconds=40))
    assert outbox(db, "it-gis") == []  # fired silently
    assert [e["kind"] for e in store.history(aid)][-1] == "silenced"
    store.resolve(aid, "op", "đã khắc phục")
    # still down: the next rounds open a new alert, which is not silenced
    round_(store, {"it-gis": 0.0}, t0 + timedelta(seconds=50))
    round_(store, {"it-gis": 0.0}, t0 + timedelta(seconds=90))
    assert outbox(db, "it-gis") == [("webhook", "firing")]


def test_summaries_carry_the_place_name_from_the_province_file(test_settings, db):
    from streams.core.geography import load_province

    named = parse_rule({"name": "it_named", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                        "clear": 0.9, "summary": {"vi": "{place} ngừng", "en": "{place} down"}}, "t")
    names = load_province(test_settings.province_file).names()
    store = AlertStore(test_settings.dsn, names={**names, "it-named-x": names["dvc"]})
    now = datetime.now(timezone.utc)
    states, transitions = evaluate([named], {"health.availability": {"it-named-x": 0.1, "it-nameless": 0.1}},
                                   store.load_states(), now)
    store.apply_round({named.name: named}, states, transitions, now)
    got = dict(db.execute("SELECT entity, summary_vi FROM alert WHERE rule = 'it_named'").fetchall())
    assert got == {"it-named-x": f"{names['dvc']} (it-named-x) ngừng", "it-nameless": "it-nameless ngừng"}
    assert names["bz-hatien"] == "Biên giới Hà Tiên" and names["sal-goquao"] == "Sông Cái Lớn tại Gò Quao"


def test_a_silence_by_matcher_quiets_alerts_not_yet_fired(test_settings, db):
    store = AlertStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    sid = store.add_silence(entity="it-cam-ht-*", starts_at=t0 - timedelta(minutes=1), ends_at=t0 + timedelta(hours=1),
                            comment="thay cáp quang Hà Tiên", actor="op")
    for e in ("it-cam-ht-01", "it-cam-rg-01"):
        round_(store, {e: 0.0}, t0)
        round_(store, {e: 0.0}, t0 + timedelta(seconds=40))
    assert outbox(db, "it-cam-ht-01") == [] and outbox(db, "it-cam-rg-01") == [("webhook", "firing")]
    silenced = next(a for a in store.alerts() if a["entity"] == "it-cam-ht-01")
    assert silenced["state"] == "firing"  # stored and shown, only nobody is called
    assert store.history(silenced["id"])[-1]["detail"] == {"silence": sid}
    levels = [timedelta(0), timedelta(minutes=10)]
    store.escalate(t0 + timedelta(minutes=11), levels, receivers)
    assert outbox(db, "it-cam-ht-01") == [] and outbox(db, "it-cam-rg-01")[-1] == ("email", "escalated")
    round_(store, {"it-cam-ht-01": 1.0, "it-cam-rg-01": 1.0}, t0 + timedelta(minutes=12))
    assert outbox(db, "it-cam-ht-01") == []  # never announced, so it resolves quietly
    assert outbox(db, "it-cam-rg-01")[-1] == ("email", "resolved")
    # ended early: the next alert of that camera calls the on-call again
    assert store.end_silence(sid, "op") and not store.end_silence(sid, "op")
    round_(store, {"it-cam-ht-01": 0.0}, t0 + timedelta(minutes=13))
    round_(store, {"it-cam-ht-01": 0.0}, t0 + timedelta(minutes=14))
    assert outbox(db, "it-cam-ht-01") == [("webhook", "firing")]
    audit = db.execute("SELECT kind, actor FROM auth_event WHERE subject = %s AND kind LIKE 'silence_%%' "
                       "ORDER BY id", (str(sid),)).fetchall()
    assert audit == [("silence_added", "op"), ("silence_ended", "op")]
    with pytest.raises(IOCError, match="whole centre"):
        store.add_silence(starts_at=t0, ends_at=t0 + timedelta(hours=1), comment="x", actor="op")
    with pytest.raises(IOCError, match="comment"):
        store.add_silence(rule="it_down", starts_at=t0, ends_at=t0 + timedelta(hours=1), comment=" ", actor="op")


def test_keep_firing_for_counts_across_rounds(test_settings, db):
    """Each round loads the states anew: how long a firing alert's value has been clear must be stored
    with it, or an alert with a keep_firing_for longer than one round would never resolve."""
    rule = parse_rule({"name": "it_keep", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                       "clear": 0.9, "keep_firing_for": "30s",
                       "summary": {"vi": "{entity} ngừng", "en": "{entity} down"}}, "t")
    store = AlertStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc)
    for k, value in enumerate([0.1, 1.0, 1.0, 1.0, 1.0]):
        now = t0 + timedelta(seconds=10 * k)
        states, transitions = evaluate([rule], {"health.availability": {"it-keep": value}}, store.load_states(), now)
        store.apply_round({rule.name: rule}, states, transitions, now)
    alert = db.execute("SELECT state, fired_at, resolved_at FROM alert WHERE rule = 'it_keep'").fetchone()
    assert alert[0] == "resolved" and alert[2] - alert[1] == timedelta(seconds=40)  # clear from +10 s, 30 s kept

"""Incidents against the real database: alerts firing through the alert store open and join incidents,
resolve and reopen them; operators own, note, rename and close them; the timeline merges both."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from agents.alerting.evaluate import Topology, evaluate
from agents.alerting.handoverstore import HandoverStore
from agents.alerting.incidentstore import IncidentStore
from agents.alerting.rules import parse_rule
from agents.alerting.store import AlertStore
from streams.core.errors import InputError, IOCError

RUN = uuid.uuid4().hex[:8]


def rule(kind, severity):
    return parse_rule({"name": f"inc_{kind}_{RUN}", "indicator": "health.availability", "condition": "below",
                       "fire": 0.5, "clear": 0.9, "severity": severity,
                       "summary": {"vi": f"{{entity}} ngừng hoạt động ({kind})", "en": f"{{entity}} is down ({kind})"}},
                      "test")


DOWN, CAM, SLOW = rule("down", "high"), rule("cam", "critical"), rule("slow", "medium")
RULES = {r.name: r for r in (DOWN, CAM, SLOW)}
E = {k: f"{k}-{RUN}" for k in ("dc", "lgsp", "link", "cam1", "cam2", "other")}
TOPO = Topology({E["lgsp"]: E["dc"], E["cam1"]: E["link"], E["cam2"]: E["link"]})


def round_(store, values, at):
    """One evaluation round: ``values`` is rule name -> entity -> value (the others keep theirs)."""
    states, done = store.load_states(), []
    for name, entities in values.items():
        states, transitions = evaluate([RULES[name]], {"health.availability": entities}, states, at)
        done.extend(transitions)
    store.apply_round(RULES, states, done, at, topology=TOPO)


@pytest.fixture
def stores(test_settings, db):
    yield AlertStore(test_settings.dsn), IncidentStore(test_settings.dsn)
    db.execute("DELETE FROM incident WHERE id IN (SELECT incident_id FROM incident_alert ia JOIN alert a "
               "ON a.id = ia.alert_id WHERE a.rule = ANY(%s))", (list(RULES),))
    db.execute("DELETE FROM alert WHERE rule = ANY(%s)", (list(RULES),))
    db.execute("DELETE FROM alert_rule_state WHERE rule = ANY(%s)", (list(RULES),))


def alert_id(alerts, rule_, entity, states=("pending", "firing")):
    return next(a["id"] for a in alerts.alerts(states=states, limit=10_000)
                if a["rule"] == rule_.name and a["entity"] == entity)


def test_alerts_open_join_resolve_reopen_and_close_incidents(stores):
    alerts, incidents = stores
    t0 = datetime.now(timezone.utc) - timedelta(hours=1)  # rounds in the past: operators act "now", after them
    at = [t0 + timedelta(minutes=m) for m in range(12)]

    round_(alerts, {DOWN.name: {E["dc"]: 0.1}}, at[0])  # high: opens incident A
    dc = alert_id(alerts, DOWN, E["dc"])
    a = incidents.incident_of(dc)
    assert a is not None and a["state"] == "open" and a["severity"] == "high"
    assert a["title"] == f"{E['dc']} ngừng hoạt động (down)"  # the first alert's Vietnamese summary

    round_(alerts, {DOWN.name: {E["dc"]: 0.1, E["lgsp"]: 0.1}}, at[1])  # below the data centre: joins A
    lgsp = alert_id(alerts, DOWN, E["lgsp"])
    assert incidents.incident_of(lgsp)["id"] == a["id"]

    round_(alerts, {SLOW.name: {E["other"]: 0.1}}, at[2])  # medium and unrelated: no incident
    assert incidents.incident_of(alert_id(alerts, SLOW, E["other"])) is None

    round_(alerts, {CAM.name: {E["cam1"]: 0.1}}, at[3])  # critical, unrelated to A: opens B
    cam1 = alert_id(alerts, CAM, E["cam1"])
    b = incidents.incident_of(cam1)
    assert b["id"] != a["id"] and b["severity"] == "critical"
    round_(alerts, {SLOW.name: {E["other"]: 0.1, E["link"]: 0.1}}, at[4])  # medium, above cam1: joins B
    assert incidents.incident_of(alert_id(alerts, SLOW, E["link"]))["id"] == b["id"]
    round_(alerts, {CAM.name: {E["cam1"]: 0.1, E["dc"]: 0.1}}, at[5])  # same entity as A beats same rule as B
    dc_cam = alert_id(alerts, CAM, E["dc"])
    assert incidents.incident_of(dc_cam)["id"] == a["id"]
    a = incidents.incident(a["id"])
    assert a["severity"] == "critical"  # the worst of its alerts

    members = {m["id"]: (m["reason"], m["related"]) for m in incidents.alerts(a["id"])}
    assert members == {dc: ("opened", ""), lgsp: ("topology", E["dc"]), dc_cam: ("entity", E["dc"])}

    # A resolves with its last alert
    round_(alerts, {DOWN.name: {E["dc"]: 1.0, E["lgsp"]: 1.0}}, at[6])
    assert incidents.incident(a["id"])["state"] == "open"
    with pytest.raises(IOCError, match="not resolved"):
        incidents.close(a["id"], "an", "chưa xong")
    round_(alerts, {CAM.name: {E["cam1"]: 0.1, E["dc"]: 1.0}}, at[7])
    a = incidents.incident(a["id"])
    assert a["state"] == "resolved" and a["resolved_at"] == at[7]

    # the data centre fails again within the window: A reopens instead of a new incident
    round_(alerts, {DOWN.name: {E["dc"]: 0.1}}, at[8])
    dc2 = alert_id(alerts, DOWN, E["dc"])
    assert dc2 != dc and incidents.incident_of(dc2)["id"] == a["id"]
    assert incidents.incident(a["id"])["state"] == "open"
    round_(alerts, {DOWN.name: {E["dc"]: 1.0}}, at[9])
    assert incidents.incident(a["id"])["state"] == "resolved"

    # operators: take, note, rename, close; every action with who
    incidents.take(a["id"], "binh")
    incidents.take(a["id"], "an")
    incidents.note(a["id"], "an", "đã gọi nhà cung cấp điện")
    incidents.rename(a["id"], "an", "Mất điện Trung tâm dữ liệu")
    with pytest.raises(ValueError):
        incidents.rename(a["id"], "an", "   ")
    with pytest.raises(InputError):
        incidents.note(a["id"], "an", "nul \x00")
    closed = incidents.close(a["id"], "an", "Nguyên nhân: mất điện lưới; đã chuyển nguồn dự phòng.")
    assert (closed["state"], closed["closed_by"], closed["owner"], closed["title"]) == \
        ("closed", "an", "an", "Mất điện Trung tâm dữ liệu")
    with pytest.raises(IOCError, match="not resolved"):
        incidents.close(a["id"], "an", "again")
    with pytest.raises(IOCError, match="no incident"):
        incidents.take(10**12, "an")

    # a closed incident is never joined: the data centre failing again opens a new one
    round_(alerts, {DOWN.name: {E["dc"]: 0.1}}, at[10])
    dc3 = alert_id(alerts, DOWN, E["dc"])
    assert incidents.incident_of(dc3)["id"] not in (a["id"], b["id"])

    # the timeline: time order, the incident's events and its alerts' events together
    entries = incidents.timeline(a["id"])
    assert [e.at for e in entries] == sorted(e.at for e in entries)
    own = [(e.kind, e.actor) for e in entries if e.source == "incident"]
    assert own == [("opened", "system"), ("alert_joined", "system"), ("alert_joined", "system"),
                   ("resolved", "system"), ("reopened", "system"), ("alert_joined", "system"), ("resolved", "system"),
                   ("owner_taken", "binh"), ("owner_taken", "an"), ("note", "an"), ("title_changed", "an"),
                   ("closed", "an")]
    theirs = [(e.alert_id, e.kind) for e in entries if e.source == "alert"]
    for expected in ((dc, "pending"), (dc, "fired"), (lgsp, "fired"), (dc, "resolved"), (dc_cam, "fired"),
                     (dc_cam, "resolved"), (dc2, "fired"), (dc2, "resolved")):
        assert expected in theirs
    assert {e.alert_id for e in entries if e.source == "alert"} == {dc, lgsp, dc_cam, dc2}
    # each alert fires before the incident takes it in
    first_fire = next(i for i, e in enumerate(entries) if (e.alert_id, e.kind) == (dc, "fired"))
    assert entries[first_fire + 1].kind == "opened"
    joined = [e.detail for e in entries if e.kind == "alert_joined"]
    assert joined[1]["severity_from"] == "high" and joined[1]["reason"] == "entity"
    owners = [e.detail.get("previous") for e in entries if e.kind == "owner_taken"]
    assert owners == [None, "binh"]


def test_an_alert_resolved_by_hand_resolves_its_incident(stores):
    alerts, incidents = stores
    round_(alerts, {CAM.name: {E["other"]: 0.1}}, datetime.now(timezone.utc) - timedelta(minutes=1))
    alone = alert_id(alerts, CAM, E["other"])
    inc = incidents.incident_of(alone)
    assert inc["state"] == "open"
    alerts.resolve(alone, "an", "đã khởi động lại")  # in the same transaction as the alert's change
    assert incidents.incident(inc["id"])["state"] == "resolved"
    assert [e.kind for e in incidents.timeline(inc["id"])][-2:] == ["resolved_by_operator", "resolved"]


def test_a_failure_of_the_incident_tables_never_costs_the_alert(stores, monkeypatch, caplog):
    from agents.alerting import incidentstore

    def broken(conn, *args):
        conn.execute("SELECT * FROM no_such_table_043")  # what a database without migration 043 says
    monkeypatch.setattr(incidentstore, "_group", broken)
    alerts, incidents = stores
    round_(alerts, {CAM.name: {E["other"]: 0.1}}, datetime.now(timezone.utc))
    fired = alert_id(alerts, CAM, E["other"])
    assert alerts.fetch("SELECT state FROM alert WHERE id = %s", (fired,))[0]["state"] == "firing"
    assert incidents.incident_of(fired) is None
    assert f"alert {fired} was not grouped into an incident" in caplog.text
    assert "no_such_table_043" in caplog.text


def test_the_handover_keeps_its_snapshot_and_is_acknowledged_once_by_another(stores, db):
    alerts, incidents = stores
    round_(alerts, {CAM.name: {E["cam2"]: 0.1}}, datetime.now(timezone.utc))
    now = incidents.shift_state()
    cam2 = alert_id(alerts, CAM, E["cam2"])
    assert cam2 in [x["id"] for x in now["alerts"]]
    inc = incidents.incident_of(cam2)["id"]
    assert inc in [x["id"] for x in now["incidents"]]
    assert next(x for x in now["alerts"] if x["id"] == cam2)["incident_id"] == inc
    handovers = HandoverStore(alerts.dsn)
    writer, incoming = f"ca-ngay-{RUN}", f"ca-dem-{RUN}"
    with pytest.raises(ValueError):
        handovers.write(writer, writer, "x", now)
    row = handovers.write(writer, incoming, "Theo dõi camera Hà Tiên", now)
    assert row["snapshot"]["alerts"] == now["alerts"] and row["acknowledged_by"] is None
    with pytest.raises(IOCError, match="incoming operator"):
        handovers.acknowledge(row["id"], writer)
    done = handovers.acknowledge(row["id"], incoming)
    assert done["acknowledged_by"] == incoming and done["acknowledged_at"] is not None
    with pytest.raises(IOCError, match="already"):
        handovers.acknowledge(row["id"], f"third-{RUN}")
    audit = db.execute("SELECT actor, kind FROM auth_event WHERE subject = %s AND kind LIKE 'handover_%%' ORDER BY id",
                       (f"handover:{row['id']}",)).fetchall()
    assert audit == [(writer, "handover_written"), (incoming, "handover_acknowledged")]
    assert handovers.handovers()[0]["id"] == row["id"]  # the latest first
    db.execute("DELETE FROM shift_handover WHERE id = %s", (row["id"],))

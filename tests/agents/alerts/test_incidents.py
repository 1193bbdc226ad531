"""Grouping alerts into incidents (agents/alerting/incidents.py): pure, no database."""
from datetime import datetime, timedelta, timezone

from agents.alerting.evaluate import Topology
from agents.alerting.incidents import (CLOSED, OPEN, RESOLVED, Candidate, Fired, Member, Policy, choose, clean_title,
                                       snapshot, sort_incidents, state_of, timeline, title_from, worst)

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
# the data centre above the LGSP above NDXP; a district link above its cameras
TOPO = Topology({"lgsp": "datacenter", "ndxp": "lgsp", "dvc": "datacenter",
                 "cam-hatien-01": "link-hatien", "cam-hatien-02": "link-hatien"})
POLICY = Policy(window=timedelta(minutes=15))


def fired(entity, rule="system_unavailable", severity="high", at=T0, **kw):
    return Fired(100, rule, entity, severity, at, **kw)


def incident(id_, *members, state=OPEN, opened=T0 - timedelta(minutes=30), resolved=None, drill_run=None):
    return Candidate(id_, state, opened, resolved, drill_run, tuple(members))


def member(entity, rule="system_unavailable", at=T0 - timedelta(minutes=20), alert_id=1):
    return Member(alert_id, rule, entity, at)


def test_the_same_entity_joins_whatever_the_rule_and_time():
    d = choose(fired("dvc", rule="latency_high", severity="low"),
               [incident(7, member("dvc", at=T0 - timedelta(hours=5)))], TOPO, POLICY)
    assert (d.action, d.incident_id, d.reason, d.related) == ("join", 7, "entity", "dvc")


def test_an_entity_above_or_below_in_the_topology_joins():
    down = choose(fired("ndxp"), [incident(3, member("datacenter"))], TOPO, POLICY)  # two levels below
    assert (down.action, down.incident_id, down.reason, down.related) == ("join", 3, "topology", "datacenter")
    up = choose(fired("link-hatien", rule="link_down"), [incident(4, member("cam-hatien-02", rule="camera_offline"))],
                TOPO, POLICY)
    assert (up.action, up.incident_id, up.reason, up.related) == ("join", 4, "topology", "cam-hatien-02")
    # two cameras behind one link are siblings, not above or below each other; another rule, so not related
    sibling = choose(fired("cam-hatien-01", rule="camera_tampered"), [incident(4, member("cam-hatien-02",
                                                                                         rule="camera_offline"))],
                     TOPO, POLICY)
    assert sibling.action == "open"


def test_the_same_rule_joins_only_within_the_window():
    near = member("cam-phumy-01", rule="camera_offline", at=T0 - timedelta(minutes=14))
    d = choose(fired("cam-kienluong-05", rule="camera_offline", severity="medium"), [incident(5, near)], TOPO, POLICY)
    assert (d.action, d.incident_id, d.reason, d.related) == ("join", 5, "rule", "camera_offline")
    far = member("cam-phumy-01", rule="camera_offline", at=T0 - timedelta(minutes=16))
    d = choose(fired("cam-kienluong-05", rule="camera_offline", severity="medium"), [incident(5, far)], TOPO, POLICY)
    assert d.action == "none"  # medium: joins, never opens
    wide = Policy(window=timedelta(minutes=30))
    assert choose(fired("cam-kienluong-05", rule="camera_offline", severity="medium"), [incident(5, far)], TOPO,
                  wide).incident_id == 5


def test_high_and_critical_open_an_incident_lower_ones_only_join():
    assert [choose(fired("gis", severity=s), [], TOPO, POLICY).action
            for s in ("critical", "high", "medium", "low", "informational")] == ["open", "open", "none", "none", "none"]
    # quiet on purpose (maintenance, silence): joins, never opens; suppressed or flapping still opens
    assert choose(fired("gis", quiet="maintenance"), [], TOPO, POLICY).action == "none"
    assert choose(fired("gis", quiet="silenced"), [], TOPO, POLICY).action == "none"
    assert choose(fired("gis", quiet="flapping"), [], TOPO, POLICY).action == "open"
    assert choose(fired("dvc", quiet="maintenance"), [incident(2, member("dvc"))], TOPO, POLICY).incident_id == 2


def test_the_strongest_relation_then_the_newest_incident_wins():
    by_rule = incident(1, member("email", at=T0 - timedelta(minutes=2)), opened=T0 - timedelta(minutes=2))
    by_topology = incident(2, member("datacenter"), opened=T0 - timedelta(hours=1))
    by_entity = incident(3, member("lgsp", rule="latency_high"), opened=T0 - timedelta(hours=2))
    assert choose(fired("lgsp"), [by_rule, by_topology, by_entity], TOPO, POLICY).incident_id == 3
    assert choose(fired("lgsp"), [by_rule, by_topology], TOPO, POLICY).incident_id == 2
    older = incident(4, member("datacenter"), opened=T0 - timedelta(hours=3))
    assert choose(fired("lgsp"), [older, by_topology], TOPO, POLICY).incident_id == 2


def test_resolved_incidents_reopen_within_the_window_closed_ones_never():
    recent = incident(8, member("dvc"), state=RESOLVED, resolved=T0 - timedelta(minutes=5))
    assert choose(fired("dvc"), [recent], TOPO, POLICY).incident_id == 8
    old = incident(8, member("dvc"), state=RESOLVED, resolved=T0 - timedelta(minutes=20))
    assert choose(fired("dvc"), [old], TOPO, POLICY).action == "open"
    closed = incident(8, member("dvc"), state=CLOSED, resolved=T0 - timedelta(minutes=1))
    assert choose(fired("dvc"), [closed], TOPO, POLICY).action == "open"


def test_drill_alerts_group_only_with_their_drill():
    real = incident(1, member("dvc"))
    drill = incident(2, member("dvc"), drill_run=40)
    assert choose(fired("dvc", drill_run=40), [real, drill], TOPO, POLICY).incident_id == 2
    assert choose(fired("dvc"), [real, drill], TOPO, POLICY).incident_id == 1
    assert choose(fired("dvc", drill_run=41), [real, drill], TOPO, POLICY).action == "open"


def test_state_severity_and_title():
    assert state_of(OPEN, ["resolved", "firing"]) == OPEN
    assert state_of(OPEN, ["resolved", "cancelled"]) == RESOLVED
    assert state_of(RESOLVED, ["firing"]) == OPEN
    assert state_of(CLOSED, ["firing"]) == CLOSED
    assert worst(["medium", "critical", "high"]) == "critical" and worst(["low", "medium"]) == "medium"
    assert worst(["high", "unknown"]) == "high" and worst([]) == "informational"
    assert title_from("  Cổng dịch vụ công\n ngừng  hoạt động ", "r", "dvc") == "Cổng dịch vụ công ngừng hoạt động"
    assert title_from("", "system_unavailable", "dvc") == "system_unavailable · dvc"
    assert len(title_from("x" * 500, "r", "e")) == 200
    assert clean_title("  Mất kết nối\tLGSP ") == "Mất kết nối LGSP"
    for bad in ("   ", "y" * 201):
        try:
            clean_title(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was taken as a title")


def test_the_timeline_merges_both_kinds_in_time_order():
    at = [T0 + timedelta(seconds=s) for s in range(5)]
    incident_events = [{"id": 1, "at": at[1], "kind": "opened", "actor": "system", "detail": {"alert": 10}},
                       {"id": 2, "at": at[3], "kind": "note", "actor": "an", "detail": {"text": "gọi VNPT"}},
                       {"id": 3, "at": at[4], "kind": "alert_joined", "actor": "system", "detail": {"alert": 11}}]
    alert_events = [{"id": 9, "alert_id": 10, "at": at[0], "kind": "pending", "actor": "system", "detail": {}},
                    {"id": 10, "alert_id": 10, "at": at[1], "kind": "fired", "actor": "system", "detail": {}},
                    {"id": 11, "alert_id": 10, "at": at[2], "kind": "acknowledged", "actor": "binh", "detail": {}},
                    {"id": 12, "alert_id": 11, "at": at[4], "kind": "fired", "actor": "system", "detail": {}}]
    got = [(e.source, e.kind, e.alert_id) for e in timeline(incident_events, alert_events)]
    assert got == [("alert", "pending", 10), ("alert", "fired", 10), ("incident", "opened", None),
                   ("alert", "acknowledged", 10), ("incident", "note", None), ("alert", "fired", 11),
                   ("incident", "alert_joined", None)]


def test_ordering_and_the_handover_snapshot():
    rows = [{"id": 1, "state": CLOSED, "severity": "critical", "opened_at": T0, "title": "a"},
            {"id": 2, "state": OPEN, "severity": "high", "opened_at": T0, "title": "b"},
            {"id": 3, "state": OPEN, "severity": "critical", "opened_at": T0 - timedelta(hours=1), "title": "c"},
            {"id": 4, "state": RESOLVED, "severity": "critical", "opened_at": T0, "title": "d"},
            {"id": 5, "state": OPEN, "severity": "high", "opened_at": T0 + timedelta(minutes=1), "title": "e"}]
    assert [r["id"] for r in sort_incidents(rows)] == [3, 5, 2, 4, 1]
    alerts = [{"id": 20, "rule": "r", "entity": "dvc", "severity": "medium", "state": "firing", "started_at": T0},
              {"id": 21, "rule": "r", "entity": "gis", "severity": "critical", "state": "pending", "started_at": T0},
              {"id": 22, "rule": "r", "entity": "lgsp", "severity": "critical", "state": "resolved", "started_at": T0}]
    snap = snapshot(alerts, rows)
    assert [a["id"] for a in snap["alerts"]] == [21, 20]  # open only, the most severe first
    assert [i["id"] for i in snap["incidents"]] == [3, 5, 2, 4]  # not closed
    assert snap["alerts"][0]["started_at"] == T0.isoformat()

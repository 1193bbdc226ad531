from datetime import datetime, timedelta, timezone

from agents.alerting.evaluate import Topology, evaluate, in_maintenance, suppressor
from agents.alerting.rules import parse_rule
from agents.alerting.state import FIRING, RESOLVED

T0 = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
RULE = parse_rule({"name": "down", "indicator": "health.availability", "condition": "below", "fire": 0.5,
                   "clear": 0.9, "for": 0, "no_data": "resolve", "summary": {"vi": "x", "en": "y"}}, "t")
TOPO = Topology({"ndxp": "lgsp", "lgsp": "datacenter", "eoffice": "datacenter"})


def test_rounds_fire_and_resolve_per_entity():
    states, tr = evaluate([RULE], {"health.availability": {"dvc": 0.1, "gis": 1.0}}, {}, T0)
    assert states[("down", "dvc")].state == FIRING and states[("down", "gis")].state == "inactive"
    assert [(t.entity, t.new) for t in tr] == [("dvc", "pending"), ("dvc", "firing")]
    # dvc is no longer reported at all: no data resolves it
    states, tr = evaluate([RULE], {"health.availability": {"gis": 1.0}}, states, T0 + timedelta(seconds=10))
    assert states[("down", "dvc")].state == RESOLVED and [(t.entity, t.new) for t in tr] == [("dvc", "resolved")]


def test_topology_suppression_and_maintenance():
    assert TOPO.ancestors("ndxp") == ["lgsp", "datacenter"]
    assert suppressor("ndxp", {"datacenter"}, TOPO) == "datacenter"
    assert suppressor("ndxp", {"lgsp", "datacenter"}, TOPO) == "lgsp"
    assert suppressor("gis", {"datacenter"}, TOPO) is None
    assert Topology({"a": "b", "b": "a"}).ancestors("a") == ["b"]  # cycles end
    windows = [("datacenter", T0, T0 + timedelta(hours=1))]
    assert in_maintenance("ndxp", T0 + timedelta(minutes=5), windows, TOPO)
    assert not in_maintenance("gis", T0 + timedelta(minutes=5), windows, TOPO)
    assert not in_maintenance("ndxp", T0 + timedelta(hours=2), windows, TOPO)
    assert in_maintenance("gis", T0, [(None, T0, T0 + timedelta(minutes=1))], TOPO)


def test_per_entity_thresholds_and_an_entity_no_longer_selected():
    rule = parse_rule({"name": "slow", "indicator": "health.p95_ms", "condition": "above", "fire": 2000,
                       "clear": 1500, "summary": {"vi": "x", "en": "y"}, "entities": ["dvc", "gis"],
                       "overrides": {"gis": {"fire": 5000, "clear": 4000}}}, "t")
    values = {"health.p95_ms": {"dvc": 2500, "gis": 2500, "email": 9000}}
    states, _ = evaluate([rule], values, {}, T0)
    assert states[("slow", "dvc")].state == FIRING
    assert states[("slow", "gis")].state == "inactive"  # its own threshold is higher
    assert ("slow", "email") not in states  # not selected
    narrowed = parse_rule({**{"name": "slow", "indicator": "health.p95_ms", "condition": "above", "fire": 2000,
                              "clear": 1500, "summary": {"vi": "x", "en": "y"}}, "entities": ["gis"]}, "t")
    states, tr = evaluate([narrowed], values, states, T0 + timedelta(seconds=10))
    assert states[("slow", "dvc")].state == RESOLVED  # no longer watched: resolved at once
    assert [(t.entity, t.new) for t in tr] == [("dvc", "resolved"), ("gis", "pending"), ("gis", "firing")]

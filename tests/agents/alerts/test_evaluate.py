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

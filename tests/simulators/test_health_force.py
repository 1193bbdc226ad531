"""A drill that forces a system down overrides the background prober of that system."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import orjson
import pytest

from simulators.base import Runner
from simulators.catalog import build_simulators
from simulators.drills import DrillConductor, DrillEngine, load_scenario
from simulators.health import HealthSimulator
from tests.simulators.test_drills import START, TICK_S, province


@pytest.mark.parametrize("name,system", [("dvc-ddos", "dvc"), ("lgsp-ndxp-outage", "ndxp")])
def test_no_probe_of_a_forced_down_system_succeeds(name, system):
    scenario = load_scenario(name)
    (step,) = [s for s in scenario.steps if s.force and s.force.target == system and s.force.condition == "down"]
    sims = build_simulators(province(), random.Random(11))
    health = next(s for s in sims if isinstance(s, HealthSimulator))
    for st in health.states.values():
        st.condition = "ok"
    engine = DrillEngine(scenario, start=START, seed=11)
    conductor = DrillConductor(engine, sims)
    sent: list[dict] = []
    runner = Runner(conductor.feeds, lambda family, key, value: family == "health" and sent.extend(
        (lambda d: d if isinstance(d, list) else [d])(orjson.loads(value))), rate=200)
    for i in range(1, int(engine.duration_s / TICK_S) + 1):
        runner.step(START + timedelta(seconds=i * TICK_S), TICK_S)

    def at(e):
        return (datetime.fromisoformat(e["dateObserved"]) - START).total_seconds()

    mine = [e for e in sent if e["type"] == "ServiceProbe" and e["system"] == system]
    # the prober runs on a tick: the condition it sees changes at the tick where the step starts or ends
    inside = [e for e in mine if step.at <= at(e) < step.end - TICK_S]
    assert len(inside) >= step.for_ / 10 * 2 * 0.9
    assert not [e for e in inside if e["success"]]
    assert [e for e in mine if at(e) >= step.end and e["success"]]  # given back afterwards

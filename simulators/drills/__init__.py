"""Drill scenarios (YAML files in this folder), the pure engine that plays them, and their signals."""
from simulators.drills.engine import DrillEngine, Force, Injected, Tick
from simulators.drills.live import DrillConductor
from simulators.drills.scenario import DRILLS_DIR, DrillError, Scenario, load_all, load_scenario, scenario_names
from simulators.drills.signals import SignalCheck, SignalResult, check

#: injection rates in scenario files are for this background rate (events/s); a faster background
#: scales them up in proportion, a slower one leaves them as they are
REFERENCE_RATE = 200.0

__all__ = [
    "DRILLS_DIR", "REFERENCE_RATE", "DrillConductor", "DrillEngine", "DrillError", "Force", "Injected",
    "Scenario", "SignalCheck", "SignalResult", "Tick", "check", "load_all", "load_scenario", "scenario_names",
]

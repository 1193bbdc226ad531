"""The drill engine: scenario + clock + random generator -> events and forces, tick by tick.

Pure: it sends nothing and touches no simulator.  ``tick(now)`` says what happened since the
previous tick: the ``Force`` actions that start or end (condition ``None`` ends one) and the
events injected, each with its family and Kafka key.  Scenario time runs ``speed`` times faster
than the clock, so ``--speed 10`` plays a 10-minute drill in one minute with the same events
(rates ``speed`` times higher); ``scale`` multiplies every injection rate (the CLI scales with
the background rate).  Event ids are ``drill-<scenario>-<run>-<step>-<seq>``: deterministic for
a start time, recognisable in the database, and never equal to another run's.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from simulators.base import iso
from simulators.drills.scenario import Scenario, Step, model_of
from simulators.drills.templates import Context, compile_template


@dataclass(frozen=True, slots=True)
class Force:
    family: str
    target: str
    condition: str | None  # None: give the condition back to the simulator
    step: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Injected:
    family: str
    key: str
    event: dict[str, Any]


@dataclass(slots=True)
class Tick:
    at: float  # scenario seconds at the end of this tick
    events: list[Injected] = field(default_factory=list)
    forces: list[Force] = field(default_factory=list)
    done: bool = False


class _Injector:
    def __init__(self, index: int, step: Step, rng: random.Random) -> None:
        inj = step.inject
        assert inj is not None
        self.index, self.step, self.family, self.rng = index, step, inj.family, rng
        self.render = compile_template(inj.template)
        self.key = inj.key or "id"
        self.time_field = model_of(inj.family, inj.template["type"]).time_field  # type: ignore[union-attr]
        self.rate = inj.rate
        self.carry = 0.0
        self.seq = 0


class DrillEngine:
    def __init__(self, scenario: Scenario, *, start: datetime, seed: int | str = 0,
                 speed: float = 1.0, scale: float = 1.0) -> None:
        if speed <= 0 or scale <= 0:
            raise ValueError(f"speed and scale must be positive, got {speed} and {scale}")
        self.scenario, self.start, self.speed, self.scale = scenario, start, speed, scale
        self.run = start.strftime("%Y%m%dT%H%M%S")
        self._injectors = [_Injector(i, s, random.Random(f"{seed}:{scenario.name}:{i}"))
                           for i, s in enumerate(scenario.steps) if s.inject]
        self._forces = [(i, s) for i, s in enumerate(scenario.steps) if s.force]
        self._started: set[int] = set()
        self._ended: set[int] = set()
        self._last = 0.0

    @property
    def duration_s(self) -> float:
        """Real seconds the drill lasts."""
        return self.scenario.duration_s / self.speed

    def elapsed(self, now: datetime) -> float:
        """Scenario seconds at ``now``."""
        return (now - self.start).total_seconds() * self.speed

    def tick(self, now: datetime) -> Tick:
        t0, t1 = self._last, max(self._last, self.elapsed(now))
        self._last = t1
        out = Tick(at=t1, done=t1 >= self.scenario.duration_s)
        ending = [(i, s) for i, s in self._forces if i in self._started and i not in self._ended and t1 >= s.end]
        for i, s in ending:
            self._ended.add(i)
            out.forces.append(Force(s.force.family, s.force.target, None, i))  # type: ignore[union-attr]
        for i, s in self._forces:
            if i not in self._started and t1 >= s.at:
                self._started.add(i)
                if t1 < s.end:
                    f = s.force
                    out.forces.append(Force(f.family, f.target, f.condition, i, dict(f.options)))  # type: ignore[union-attr]
                else:  # the whole step fell within one tick
                    self._ended.add(i)
        for inj in self._injectors:
            out.events.extend(self._inject(inj, t0, t1))
        return out

    def release_all(self) -> list[Force]:
        """Forces still in effect, to end them when a drill is stopped early."""
        out = [Force(s.force.family, s.force.target, None, i)  # type: ignore[union-attr]
               for i, s in self._forces if i in self._started and i not in self._ended]
        self._ended.update(f.step for f in out)
        return out

    def _inject(self, inj: _Injector, t0: float, t1: float) -> list[Injected]:
        lo, hi = max(t0, inj.step.at), min(t1, inj.step.end)
        if hi <= lo:
            return []
        want = inj.rate * self.scale * (hi - lo) + inj.carry
        n = int(want)
        inj.carry = want - n
        events = []
        for k in range(n):
            st = lo + (k + inj.rng.random()) / n * (hi - lo)  # increasing within the tick
            ts = self.start + timedelta(seconds=st / self.speed)
            ctx = Context(inj.rng, inj.seq, (st - inj.step.at) / inj.step.for_, ts, self.run)
            body = inj.render(ctx)
            event = {"id": f"drill-{self.scenario.name}-{self.run}-{inj.index}-{inj.seq}", **body}
            event.setdefault(inj.time_field, iso(ts))
            events.append(Injected(inj.family, str(event.get(inj.key, event["id"])), event))
            inj.seq += 1
        return events

"""Playing a drill over the background feed, through the normal ``Runner``.

The conductor wraps every background simulator in a feed of the same family and weight; at each
tick it advances the engine once, hands the forces to the simulators' control hooks
(``force(target, condition)``) and adds the injected events to their family's feed.  So a drill
goes to Kafka (or a file) exactly as the simulators' events do, batched per entity.  The
conductor also checks the scenario's promised signals over everything it sends.  With a
``ForcePublisher`` it also shares the forces that set an entity's state with the background
simulators of other processes (``simulators/drills/shared.py``), so that a camera the drill takes
offline is offline for every simulator of the feed.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from simulators.base import Event, Simulator
from simulators.drills.engine import DrillEngine, Force
from simulators.drills.scenario import DrillError
from simulators.drills.shared import ForcePublisher, shared_conditions
from simulators.drills.signals import SignalCheck, SignalResult


class DrillConductor:
    def __init__(self, engine: DrillEngine, simulators: Sequence[Simulator],
                 publisher: ForcePublisher | None = None) -> None:
        self.engine = engine
        self.publisher = publisher
        self.by_family = {s.family: s for s in simulators}
        self.checks = [SignalCheck(s) for s in engine.scenario.signals]
        self.at = 0.0  # scenario seconds at the last tick
        self.done = False
        self._now: datetime | None = None
        self._pending: dict[str, list[Event]] = {}
        self._keys: dict[str, str] = {}
        missing = sorted(engine.scenario.families - set(self.by_family))
        self.feeds: list[Simulator] = [_Feed(self, s.family, s) for s in simulators]
        self.feeds += [_Feed(self, family, None) for family in missing]

    def check_hooks(self) -> None:
        """Tries every force of the scenario on its simulator, so a wrong target fails before the drill."""
        where = self.engine.scenario.source or self.engine.scenario.name
        for i, step in enumerate(self.engine.scenario.steps):
            if step.force is None:
                continue
            sim = self.by_family.get(step.force.family)
            if sim is None or not callable(getattr(sim, "force", None)):
                raise DrillError(f"{where}: steps[{i}].force.family: the {step.force.family} simulator "
                                 "has no control hook `force`")
            try:
                sim.force(step.force.target, step.force.condition, **step.force.options)  # type: ignore[attr-defined]
                sim.force(step.force.target, None)  # type: ignore[attr-defined]
            except KeyError:
                raise DrillError(f"{where}: steps[{i}].force.target: the {step.force.family} simulator "
                                 f"knows no {step.force.target!r}") from None
            except (ValueError, TypeError) as exc:
                raise DrillError(f"{where}: steps[{i}].force: {exc}") from None

    def apply(self, forces: Sequence[Force]) -> None:
        for f in forces:
            sim = self.by_family[f.family]
            sim.force(f.target, f.condition, **f.options)  # type: ignore[attr-defined]
            if self.publisher is not None and (f.condition is None or f.condition in shared_conditions(sim)):
                step = self.engine.scenario.steps[f.step]
                until = self.engine.start + timedelta(seconds=step.end / self.engine.speed)
                self.publisher.update(f.family, f.target, f.condition, f.options, until)

    def advance(self, now: datetime) -> None:
        """Advances the engine to ``now`` once, however many feeds ask."""
        if now == self._now:
            return
        self._now = now
        tick = self.engine.tick(now)
        self.at, self.done = tick.at, tick.done
        self.apply(tick.forces)
        self._pending.clear()
        self._keys = {}
        for inj in tick.events:
            self._pending.setdefault(inj.family, []).append(inj.event)
            self._keys[inj.event["id"]] = inj.key

    def take(self, family: str) -> list[Event]:
        return self._pending.pop(family, [])

    def key_of(self, event: Event) -> str | None:
        return self._keys.get(event.get("id"))  # type: ignore[arg-type]

    def observe(self, family: str, events: Sequence[Event]) -> None:
        for check in self.checks:
            for e in events:
                check.observe(family, self.at, e)

    def stop(self) -> None:
        """Gives every forced condition back to its simulator (a drill stopped early)."""
        self.apply(self.engine.release_all())
        if self.publisher is not None:
            self.publisher.clear()

    def results(self) -> list[SignalResult]:
        return [c.result() for c in self.checks]


class _Feed:
    """A Runner simulator: the background simulator of a family plus the drill's events for it."""

    def __init__(self, conductor: DrillConductor, family: str, inner: Simulator | None) -> None:
        self.conductor, self.family, self.inner = conductor, family, inner
        self.weight = inner.weight if inner is not None else 0.0

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        self.conductor.advance(now)
        events = self.inner.tick(now, dt, n) if self.inner is not None else []
        events += self.conductor.take(self.family)
        self.conductor.observe(self.family, events)
        return events

    def key_of(self, event: Event) -> str:
        key = self.conductor.key_of(event)
        if key is not None or self.inner is None:
            return key or str(event.get("id", ""))
        return self.inner.key_of(event)

    def __getattr__(self, name: str):
        """The inner simulator's control hook and the rest (``force``, ``shared_conditions`` …), so
        that a second drill's conductor can wrap this feed: several drills at once."""
        if name == "inner" or self.inner is None:
            raise AttributeError(name)
        return getattr(self.inner, name)


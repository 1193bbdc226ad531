"""Running simulators: a rate, a clock, and a ``send`` callable.

A simulator is asked for the events of each tick; the runner groups them by entity, sends
them one per message or, above ``batch_above`` events/s, as JSON arrays of up to
``max_batch`` events (per entity, so an entity's events stay in order on one partition).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import orjson

from streams.core.clock import utcnow

log = logging.getLogger(__name__)

Event = dict[str, Any]
Send = Callable[[str, str, bytes], None]  # (family, key, value)


class Simulator(Protocol):
    family: str
    #: share of the total rate this simulator takes when several run together
    weight: float

    def tick(self, now: datetime, dt: float, n: int) -> list[Event]:
        """Events for the interval (now - dt, now]; ``n`` is its share of the rate budget."""
        ...

    def key_of(self, event: Event) -> str: ...


def iso(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def encode(events: Sequence[Event]) -> bytes:
    """One event as an object, several as a JSON array: what producers send."""
    return orjson.dumps(events[0] if len(events) == 1 else list(events))


@dataclass
class RunStats:
    events: int = 0
    messages: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def package(events: Iterable[Event], key_of: Callable[[Event], str], batched: bool, max_batch: int
            ) -> list[tuple[str, bytes, int]]:
    """(key, value, event count) messages for one tick's events."""
    if not batched:
        return [(key_of(e), orjson.dumps(e), 1) for e in events]
    groups: dict[str, list[Event]] = {}
    for e in events:
        groups.setdefault(key_of(e), []).append(e)
    out = []
    for key, evs in groups.items():
        for i in range(0, len(evs), max_batch):
            chunk = evs[i : i + max_batch]
            out.append((key, encode(chunk), len(chunk)))
    return out


class Runner:
    """Drives simulators at a total rate in real time (or as fast as possible with ``fast``)."""

    def __init__(
        self,
        simulators: Sequence[Simulator],
        send: Send,
        *,
        rate: float,
        tick_s: float = 0.1,
        batch_above: float = 200.0,
        max_batch: int = 500,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        on_progress: Callable[[RunStats], None] | None = None,
    ) -> None:
        if not 0 < rate <= 1_000_000:
            raise ValueError(f"rate must be between 1 and 1,000,000 events/s, got {rate}")
        self.simulators = list(simulators)
        self.send = send
        self.rate = rate
        self.tick_s = tick_s
        self.batched = rate > batch_above
        self.max_batch = max_batch
        self.clock, self.sleep, self.monotonic = clock, sleep, monotonic
        self.on_progress = on_progress
        total_w = sum(s.weight for s in self.simulators) or 1.0
        self._share = [s.weight / total_w for s in self.simulators]
        self._carry = [0.0 for _ in self.simulators]
        self.stats = RunStats()

    def step(self, now: datetime, dt: float) -> int:
        sent = 0
        for i, sim in enumerate(self.simulators):
            want = self.rate * dt * self._share[i] + self._carry[i]
            n = int(want)
            self._carry[i] = want - n
            events = sim.tick(now, dt, n)
            for key, value, count in package(events, sim.key_of, self.batched, self.max_batch):
                self.send(sim.family, key, value)
                self.stats.messages += 1
                sent += count
        self.stats.events += sent
        return sent

    def run(self, duration_s: float | None = None, *, max_events: int | None = None) -> RunStats:
        start = self.monotonic()
        next_tick = start
        last_report = start
        last = self.clock()
        while True:
            elapsed = self.monotonic() - start
            if duration_s is not None and elapsed >= duration_s:
                break
            if max_events is not None and self.stats.events >= max_events:
                break
            now = self.clock()
            dt = max(self.tick_s, (now - last).total_seconds()) if self.stats.messages else self.tick_s
            self.step(now, dt)
            last = now
            next_tick += self.tick_s
            delay = next_tick - self.monotonic()
            if delay > 0:
                self.sleep(delay)
            elif delay < -5 * self.tick_s:
                next_tick = self.monotonic()  # falling behind: do not try to catch up in a burst
            if self.on_progress and self.monotonic() - last_report >= 5:
                last_report = self.monotonic()
                self.stats.seconds = last_report - start
                self.on_progress(self.stats)
        self.stats.seconds = self.monotonic() - start
        return self.stats

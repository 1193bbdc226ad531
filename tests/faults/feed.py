"""A fixed, deterministic mixed feed for the fault runs: health, security and camera events.

The project's simulators make the events (with a few forced incidents: flapping cameras, a
network link down, a brute-force campaign), one tick per second of event time.  Each tick's
events are sorted by time, so every entity's events reach Kafka in event-time order; three
ticks in four go out as JSON arrays per entity, the fourth as single events; one message in a
hundred is sent a second time a few ticks later, as a producer that retries would.

The simulators follow the local time of day (office hours, night-time intrusions), so the feed
is simulated at a fixed time, a Friday morning, and its timestamps are then moved to end when
the caller wants: the same seed gives the same events, whenever the tests run.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson

from simulators.base import Runner
from simulators.camera import CameraSimulator
from simulators.health import HealthSimulator
from streams.core.geography import Province
from simulators.security import SecuritySimulator
from simulators.timeshift import TimeShifter

FAMILIES = ("health", "security", "camera")
SIMULATED_END = datetime(2026, 11, 27, 2, 30, tzinfo=timezone.utc)  # 09:30 in Kiên Giang


@dataclass
class Feed:
    """What was produced: the messages in order, and the events they carry (re-sends included)."""

    messages: list[tuple[str, str, bytes]] = field(default_factory=list)  # (family, key, value)
    ticks: list[int] = field(default_factory=list)  # the tick (second of event time) of each message
    start: datetime | None = None  # the feed's events lie after this, one tick per second

    def send(self, family: str, key: str, value: bytes, tick: int) -> None:
        self.messages.append((family, key, value))
        self.ticks.append(tick)

    def decoded(self) -> Iterator[tuple[str, list[dict]]]:
        """(family, events) of each message, in production order (re-sent copies included)."""
        for family, _, value in self.messages:
            doc = orjson.loads(value)
            yield family, doc if isinstance(doc, list) else [doc]

    @property
    def arrays(self) -> int:
        return sum(v[:1] == b"[" for _, _, v in self.messages)


class _Sorted:
    """A simulator whose tick comes out in event-time order (ISO strings of one format sort as times)."""

    def __init__(self, sim) -> None:
        self.sim, self.family, self.weight, self.key_of = sim, sim.family, sim.weight, sim.key_of

    def tick(self, now: datetime, dt: float, n: int) -> list[dict]:
        return sorted(self.sim.tick(now, dt, n), key=lambda e: e["dateObserved"])


def build_feed(province: Province, *, events: int, end: datetime, span_s: int = 240, seed: int = 274) -> Feed:
    """About ``events`` events (the last tick completes), one tick per second from ``end - span_s`` on."""
    feed = _simulate(province, events, span_s, seed)
    shift = TimeShifter(end - SIMULATED_END)
    feed.messages = [(family, key, shift.shift(family, value)) for family, key, value in feed.messages]
    feed.start += shift.delta
    return feed


def _simulate(province: Province, events: int, span_s: int, seed: int) -> Feed:
    health = HealthSimulator(province, random.Random(f"{seed}:health"), probe_interval_s=5)
    security = SecuritySimulator(province, random.Random(f"{seed}:security"))
    camera = CameraSimulator(province, random.Random(f"{seed}:camera"), heartbeat_s=60)
    cams = [c.code for c in province.cameras]
    for code in cams[:3]:
        camera.force(code, "flapping")
    camera.force(province.cameras[-1].parent, "offline")
    camera.force(cams[5], "tamper")
    security.force("eoffice", "brute_force", src_ip="203.0.113.99", rate=20)
    security.force(cams[7], "brute_force", src_ip="198.51.100.7", rate=5)

    feed = Feed()
    pending: list[tuple[int, tuple[str, str, bytes]]] = []  # (tick to re-send at, message)
    rng = random.Random(f"{seed}:resend")
    tick = 0
    produced = 0

    def send(family: str, key: str, value: bytes) -> None:
        feed.send(family, key, value, tick)
        if rng.random() < 0.01:
            pending.append((tick + rng.randrange(1, 5), (family, key, value)))

    runner = Runner([_Sorted(s) for s in (health, security, camera)], send, rate=events / span_s, max_batch=400)
    start = feed.start = SIMULATED_END - timedelta(seconds=span_s)
    while produced < events:
        tick += 1
        runner.batched = tick % 4 != 0
        produced += runner.step(start + timedelta(seconds=tick), 1.0)
        due = [m for t, m in pending if t <= tick]
        pending = [(t, m) for t, m in pending if t > tick]
        for message in due:
            feed.send(*message, tick)
    return feed

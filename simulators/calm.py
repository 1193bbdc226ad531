"""A calm hour of the security background, evaluated like the worker does: the calm-day budget.

The health and security simulators run on their own clock with a fixed seed, at their share of
the demo's rate (``ioc demo``: 200 events/s over every family), with no attack campaign and no
drill.  Every ``step_s`` of simulated time their events are written through the real sink (raw
rows and counters, as the worker writes them) and the detectors run on the window ending at that
simulated time, as ``Worker.detect`` does every 15 s.  A warm-up before the hour gives the request
baseline its recent past.  The result counts findings as the wall shows them: one per kind,
subject, target and 5-minute bucket, at the severity it ended with.

    .venv/bin/pytest tests/integration/test_calm_hour.py -s    # prints the table of docs/reliability.md
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from agents.indicators.health import HEALTH_FEED
from agents.indicators.security import SECURITY_FEED, DetectorConfig, detect_at
from simulators.base import Simulator
from simulators.catalog import FAMILIES
from simulators.health import HealthSimulator
from streams.core.geography import Province
from simulators.security import SecuritySimulator
from streams.core.families import adapter
from streams.core.tables import SourceStats

DEMO_RATE = 200.0  # events/s of ``ioc demo`` over every family


def demo_share(sim: Simulator, rate: float = DEMO_RATE) -> float:
    """Events/s a simulator gets in the demo's mix of every family."""
    return rate * sim.weight / sum(cls.weight for cls in FAMILIES.values())


@dataclass
class CalmHour:
    start: datetime
    events: int = 0
    runs: int = 0
    #: (kind, subject, target, bucket) -> the severity it ended with
    rows: dict[tuple, str] = field(default_factory=dict)

    def by_kind_and_severity(self) -> Counter[tuple[str, str]]:
        return Counter((key[0], sev) for key, sev in self.rows.items())

    def table(self) -> str:
        counts = self.by_kind_and_severity()
        lines = [f"calm hour from {self.start.isoformat()}: {self.events} events, {self.runs} detector runs",
                 f"{'kind':<15}{'critical':>9}{'high':>6}{'medium':>8}{'low':>6}{'info':>6}"]
        for kind in sorted({k for k, _ in counts}) or ["(none)"]:
            lines.append(f"{kind:<15}" + "".join(f"{counts[(kind, s)]:>{w}}" for s, w in (
                ("critical", 9), ("high", 6), ("medium", 8), ("low", 6), ("informational", 6))))
        return "\n".join(lines)


async def calm_hour(sink, detectors, province: Province, start: datetime, *, seed: int = 13, minutes: int = 60,
                    warmup_minutes: int = 20, step_s: float = 15.0, tick_s: float = 1.0,
                    cfg: DetectorConfig = DetectorConfig()) -> CalmHour:
    """Simulate ``minutes`` from ``start`` (after a health-only warm-up) and run the detectors every ``step_s``:
    events written through ``sink`` (the worker's ``TimescaleSink``), detectors reading through
    ``detectors`` (its ``DetectorStore``)."""
    rng = random.Random(seed)
    health = HealthSimulator(province, random.Random(f"{rng.random()}:health"))
    security = SecuritySimulator(province, random.Random(f"{rng.random()}:security"), campaigns=False)
    feeds = [(health, HEALTH_FEED, adapter("health")), (security, SECURITY_FEED, adapter("security"))]
    carry = [0.0, 0.0]
    out = CalmHour(start)
    security_from = start - timedelta(minutes=cfg.window_minutes)
    t = start - timedelta(minutes=warmup_minutes)
    end = start + timedelta(minutes=minutes)
    pending: list[list] = [[], []]
    next_step = t + timedelta(seconds=step_s)
    while t < end:
        t += timedelta(seconds=tick_s)
        for i, (sim, _, _) in enumerate(feeds):
            if sim is security and t <= security_from:
                continue
            want = demo_share(sim) * tick_s + carry[i]
            n = int(want)
            carry[i] = want - n
            pending[i].extend(sim.tick(t, tick_s, n))
        if t < next_step:
            continue
        next_step += timedelta(seconds=step_s)
        for i, (sim, spec, contract) in enumerate(feeds):
            if pending[i]:
                events = [contract.validate_python(ev) for ev in pending[i]]
                await sink.write(spec, events, SourceStats(f"calm-{sim.family}", t, len(events), 0))
                out.events += len(events) if t > start else 0
                pending[i] = []
        if t > start:
            out.runs += 1
            for f in await detect_at(detectors, t, cfg):
                out.rows[(f.kind, f.subject, f.target, f.bucket)] = f.severity
    return out

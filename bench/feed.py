"""The benchmark's mixed feed: message templates from the simulators, stamped afresh on send.

The simulators are run once, over ten simulated seconds a few minutes back, to make a pool of
events with the province's mix (request logs, security logs and camera events carry the volume;
dossiers, citizen reports and sensors trickle).  The pool is packaged like ``ioc simulate``
packages it: one event per message, or, in ``batched`` mode, the high-volume feeds as JSON
arrays of up to ``max_batch`` events of one entity (key).  Sending a template gives each event
a new id and the send time as ``dateObserved`` (every other timestamp of the contracts lies
before it), so a template can be sent any number of times, each copy a fresh event, and the
event time is the time the event entered Kafka: what end-to-end latency is measured from.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from simulators.base import Runner, iso
from simulators.catalog import build_simulators
from streams.core.geography import Province
from streams.core.clock import utcnow

HIGH_VOLUME = ("health", "security", "camera")


@dataclass(frozen=True, slots=True)
class Template:
    family: str
    key: bytes
    events: tuple[dict[str, Any], ...]
    batched: bool  # sent as a JSON array, even of one event


def simulate_pool(province: Province, n_events: int, *, seed: int = 2023,
                  end: datetime | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """About ``n_events`` (family, key, event) from every simulator, over ten simulated seconds."""
    end = end or utcnow() - timedelta(minutes=5)
    sims = build_simulators(province, random.Random(seed))
    pool: list[tuple[str, str, dict[str, Any]]] = []
    runner = Runner(sims, lambda fam, key, value: pool.append((fam, key, orjson.loads(value))),
                    rate=max(1.0, n_events / 10), batch_above=float("inf"))
    ticks = 100
    for i in range(ticks):
        runner.step(end - timedelta(seconds=10) + timedelta(seconds=(i + 1) * 0.1), 0.1)
    return pool


def package(pool: Sequence[tuple[str, str, dict[str, Any]]], *, batched: bool, max_batch: int = 200,
            high_volume: Sequence[str] = HIGH_VOLUME) -> list[Template]:
    """Message templates: one per event, or arrays of one key's events for the high-volume feeds."""
    if not batched:
        return [Template(fam, key.encode(), (ev,), False) for fam, key, ev in pool]
    singles: list[Template] = []
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for fam, key, ev in pool:
        if fam in high_volume:
            groups.setdefault((fam, key), []).append(ev)
        else:
            singles.append(Template(fam, key.encode(), (ev,), False))
    arrays = [
        Template(fam, key.encode(), tuple(evs[i : i + max_batch]), True)
        for (fam, key), evs in groups.items()
        for i in range(0, len(evs), max_batch)
    ]
    out = arrays + singles
    random.Random(7).shuffle(out)  # interleave the families as a live feed does
    return out


def stamp(template: Template, first_id: int, id_prefix: str, when: datetime) -> bytes:
    """The template's message with fresh ids ``<prefix><n>`` and ``dateObserved`` = ``when``."""
    ts = iso(when)
    events = [{**ev, "id": f"{id_prefix}{first_id + i:x}", "dateObserved": ts}
              for i, ev in enumerate(template.events)]
    return orjson.dumps(events if template.batched else events[0])


@dataclass(frozen=True, slots=True)
class Mix:
    """What a list of templates sends: events and messages per family."""

    events: dict[str, int]
    messages: dict[str, int]

    @property
    def events_per_message(self) -> dict[str, float]:
        return {f: self.events[f] / self.messages[f] for f in self.messages}

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    @property
    def total_messages(self) -> int:
        return sum(self.messages.values())


def mix(templates: Sequence[Template]) -> Mix:
    events: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for t in templates:
        events[t.family] += len(t.events)
        messages[t.family] += 1
    return Mix(dict(sorted(events.items())), dict(sorted(messages.items())))

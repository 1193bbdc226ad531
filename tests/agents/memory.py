"""Writing events through the in-memory sink, as a test of what a replay changes."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from streams.core.contracts import Event
from agents.worker.sinks.base import MemorySink
from streams.core.tables import PRODUCER_WINDOW, SOURCE_WINDOW, FeedSpec, SourceStats

ARRIVAL = datetime(2026, 11, 27, tzinfo=timezone.utc)


async def store(spec: FeedSpec, *batches: Sequence[Event]) -> MemorySink:
    sink = MemorySink()
    for batch in batches:
        await sink.write(spec, batch, SourceStats(spec.family, ARRIVAL, len(batch), 0))
    return sink


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 9)  # sums of floats depend on the order of addition in the last bits
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def stored(sink: MemorySink) -> dict[str, Any]:
    """Counters and states, without the source's own counters, per feed and per producer (they count
    arrivals, not events)."""
    arrivals = {SOURCE_WINDOW.name, PRODUCER_WINDOW.name}
    out: dict[str, Any] = {name: rows for name, rows in sink.counters.items() if name not in arrivals}
    out.update(sink.states)
    return _rounded(out)


def simulated_feed(start: datetime, seconds: int = 300, rate: float = 30.0, seed: int = 34
                   ) -> list[tuple[str, dict[str, Any]]]:
    """(family, event) of every family's simulated feed from ``start``, in the order it is sent."""
    import random

    import orjson

    from simulators.base import Runner
    from simulators.catalog import build_simulators
    from streams.core.geography import load_province
    from streams.core.settings import DEFAULT_PROVINCE_FILE

    out: list[tuple[str, dict[str, Any]]] = []

    def send(family: str, key: str, value: bytes) -> None:
        decoded = orjson.loads(value)
        out.extend((family, e) for e in (decoded if isinstance(decoded, list) else [decoded]))

    runner = Runner(build_simulators(load_province(DEFAULT_PROVINCE_FILE), random.Random(seed)), send, rate=rate,
                    tick_s=1.0)
    now = start
    for _ in range(seconds):
        now += timedelta(seconds=1)
        runner.step(now, 1.0)
    return out


def with_microseconds(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its time written to the microsecond (.123456), as a first copy may be sent."""
    at = datetime.fromisoformat(event["dateObserved"].replace("Z", "+00:00"))
    return {**event, "dateObserved": (at + timedelta(microseconds=456)).isoformat(timespec="microseconds")}


def cut_to_milliseconds(event: dict[str, Any]) -> dict[str, Any]:
    """The same event re-sent with its time cut to the millisecond (.123), as another system writes it."""
    at = datetime.fromisoformat(event["dateObserved"].replace("Z", "+00:00"))
    return {**event, "dateObserved": at.isoformat(timespec="milliseconds").replace("+00:00", "Z")}

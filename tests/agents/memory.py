"""Writing events through the in-memory sink, as a test of what a replay changes."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from streams.events import Event
from streams.sinks.base import SOURCE_WINDOW, FeedSpec, MemorySink, SourceStats

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
    """Counters and states, without the source's own counters (they count arrivals, not events)."""
    out: dict[str, Any] = {name: rows for name, rows in sink.counters.items() if name != SOURCE_WINDOW.name}
    out.update(sink.states)
    return _rounded(out)

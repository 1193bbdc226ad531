"""The sink interface and an in-memory sink with the database's semantics (tables: ``streams.core.tables``)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from streams.core.contracts import Event
from streams.core.tables import FeedSpec, SourceStats, States, add_source_counts, combine


@dataclass(frozen=True, slots=True)
class WriteResult:
    fresh: int
    duplicates: int
    rows: dict[str, int]



class Sink(Protocol):
    async def write(self, spec: FeedSpec, events: Sequence[Event], stats: SourceStats) -> WriteResult: ...

    async def known_ids(self, spec: FeedSpec, ids: Sequence[str]) -> set[str]:
        """Which of these ids the family has already stored (and counted)."""
        ...

    async def close(self) -> None: ...


class MemorySink:
    """An in-memory sink with the database's semantics (dedup by id per family, adding counters)."""

    def __init__(self) -> None:
        self.raw: dict[str, dict[tuple[str, datetime], tuple[Any, ...]]] = {}
        self.ledger: dict[str, dict[str, datetime]] = {}  # family -> id -> time of the first copy
        self.counters: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.states: dict[str, States] = {}
        self.writes = 0

    async def write(self, spec: FeedSpec, events: Sequence[Event], stats: SourceStats) -> WriteResult:
        table = self.raw.setdefault(spec.raw.name, {})
        ledger = self.ledger.setdefault(spec.family, {})
        fresh: list[Event] = []
        for ev in events:
            if ev.id not in ledger:
                ledger[ev.id] = ev.event_time
                table[(ev.id, ev.event_time)] = spec.raw.to_row(ev)
                fresh.append(ev)
        fresh.sort(key=lambda e: e.event_time)
        store = self.states.setdefault(spec.state.name, {}) if spec.state else {}
        wanted = spec.state.keys_of(fresh) if spec.state else set()
        incs = spec.increments(fresh, {k: dict(store[k]) for k in wanted if k in store})
        store.update({k: dict(v) for k, v in incs.states.items()})
        add_source_counts(incs, spec, stats, events, fresh)
        rows = {spec.raw.name: len(fresh)}
        for ctable, crows in incs.rows.items():
            store = self.counters.setdefault(ctable.name, {})
            for row in crows:
                k = tuple(row[c] for c in ctable.key)
                store[k] = combine(ctable, store.get(k), row)
            rows[ctable.name] = rows.get(ctable.name, 0) + len(crows)
        self.writes += 1
        return WriteResult(len(fresh), len(events) - len(fresh), rows)

    async def known_ids(self, spec: FeedSpec, ids: Sequence[str]) -> set[str]:
        ledger = self.ledger.get(spec.family, {})
        return {i for i in ids if i in ledger}

    async def close(self) -> None:
        return None

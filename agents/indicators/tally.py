"""Counter rows merged per key within a batch, and the per-entity fold that the stateful families share."""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from streams.core import sketch
from streams.core.contracts import Event
from streams.core.tables import CounterTable, Increments, States, combine

Row = dict[str, Any]
Step = Callable[[Row | None, Any], tuple[Row, list[tuple[CounterTable, Row]]]]


class Tally:
    """Accumulates increments of one counter table by key, as the database would merge them;
    columns a row leaves out start empty (0, an empty histogram, NULL)."""

    def __init__(self, table: CounterTable) -> None:
        self.table = table
        self.rows: dict[tuple[Any, ...], Row] = {}

    def add(self, row: Row) -> None:
        t = self.table
        key = tuple(row[c] for c in t.key)
        old = self.rows.get(key)
        if old is None:
            self.rows[key] = {**{c: 0 for c in t.sums}, **{c: sketch.empty() for c in t.hists},
                              **{c: None for c in t.greatest + t.least + t.latest}, **row}
        else:  # a column the row leaves out merges as its empty value would
            self.rows[key] = combine(t, old, row)

    def into(self, incs: Increments) -> Increments:
        for row in self.rows.values():
            incs.add(self.table, row)
        return incs


def fold(fresh: Sequence[Event], states: States, key_of: Callable[[Any], tuple[Hashable, ...]], step: Step,
         tables: Iterable[CounterTable]) -> Increments:
    """Runs ``step(state or None, event) -> (state, [(table, row)])`` over the fresh events, one
    entity state each, and tallies the rows (each stamped with the event's time as ``last_event``)."""
    incs = Increments()
    tallies = {t: Tally(t) for t in tables}
    for ev in fresh:
        key = key_of(ev)
        st, adds = step(incs.states.get(key) or states.get(key), ev)
        incs.states[key] = st
        for table, row in adds:
            tallies[table].add({**row, "last_event": ev.event_time})
    for tally in tallies.values():
        tally.into(incs)
    return incs

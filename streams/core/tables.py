"""How a feed family's writes are described: raw, counter and state tables, and their increments.

A feed family describes its writes with two kinds of table:

* ``RawTable``: one row per event.  An event whose id the family has already stored (whatever
  its timestamp: the sink keeps a ledger of ids per family) is not stored again, and the sink
  reports which events were *fresh*.
* ``CounterTable``: increments keyed by entity and window.  Sums add, histograms merge,
  ``greatest`` columns keep the maximum, ``least`` the minimum, ``latest`` columns take the
  newest value.

Only fresh events reach the family's increment function, so a replayed or re-sent event
changes nothing, whichever worker sees it and however the stream was batched.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, make_dataclass
from datetime import datetime
from functools import cache
from itertools import islice
from operator import attrgetter, itemgetter, le
from types import UnionType
from typing import Annotated, Any, Literal, Protocol, Union, get_args, get_origin

import orjson
from pydantic import AwareDatetime, BaseModel

from streams.core import sketch
from streams.core.contracts import Event
from streams.core.windows import window_start


@cache
def attr_fields(event_type: type[Event], among: frozenset[str] | None = None,
                skip: frozenset[str] = frozenset()) -> set[str]:
    """The fields of an event type that go into a raw row's ``attrs`` (those ``among``, less ``skip``),
    computed once per type: row builders run once per event."""
    names = set(event_type.model_fields)
    return (names & among if among is not None else names) - skip


def _orjson_writes(annotation: Any) -> bool:
    """Whether orjson writes a field's values as pydantic's ``model_dump_json(exclude_none=True)`` does:
    JSON scalars, times (UTC as ``Z``), lists of such values, and nested models of such fields without
    serialisers of their own (written as their fields that are not None)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _orjson_writes(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(a is type(None) or _orjson_writes(a) for a in get_args(annotation))
    if origin is Literal:
        return all(type(a) in (str, int, bool) for a in get_args(annotation))
    if origin is list:
        return all(map(_orjson_writes, get_args(annotation)))
    if annotation in (str, int, float, bool, datetime, AwareDatetime):
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _written_as_fields(annotation) and all(
            _orjson_writes(f.annotation) for f in annotation.model_fields.values())
    return False


def _written_as_fields(model: type[BaseModel]) -> bool:
    """Whether pydantic writes a model as its fields alone (no serialisers, computed fields or aliases)."""
    decorators = model.__pydantic_decorators__
    return not (decorators.field_serializers or decorators.model_serializers or model.model_computed_fields
                or any(f.serialization_alias or f.alias for f in model.model_fields.values()))


def _fields_not_none(model: Any) -> dict[str, Any]:
    """A nested model as orjson writes it (its ``default``): its fields that are not None."""
    if isinstance(model, BaseModel):
        values = model.__dict__
        return values if None not in values.values() else {n: v for n, v in values.items() if v is not None}
    raise TypeError(f"{type(model).__name__} is not written as JSON here")


@cache
def attrs_json(event_type: type[Event], among: frozenset[str] | None = None,
               skip: frozenset[str] = frozenset()) -> Callable[[Event], str]:
    """The ``attrs`` of an event of this type as JSON text: its fields ``among`` less ``skip`` that are
    not None, as ``model_dump_json(include=…, exclude_none=True)`` gives them.  When orjson writes every
    such field as pydantic does (``_orjson_writes``: scalars, times, lists, plain nested models), it
    writes them straight from the instance (several times cheaper); otherwise pydantic does."""
    names = attr_fields(event_type, among, skip)
    ordered = tuple(n for n in event_type.model_fields if n in names)

    def dump(event: Event) -> str:
        return event.model_dump_json(include=names, exclude_none=True)

    if not _written_as_fields(event_type) or not all(
            _orjson_writes(event_type.model_fields[n].annotation) for n in ordered):
        return dump
    dumps, option = orjson.dumps, orjson.OPT_UTC_Z

    def plain(event: Event) -> str:
        values = event.__dict__
        try:
            return dumps({n: v for n in ordered if (v := values[n]) is not None}, _fields_not_none, option).decode()
        except orjson.JSONEncodeError:  # an integer beyond 64 bits: valid, and pydantic writes it
            return dump(event)

    return plain


#: the column every counter and state table keeps besides its declared ones: when a row last changed
#: (``now()`` on insert and on every update)
UPDATED_AT = "updated_at"


@dataclass(frozen=True, slots=True)
class RawTable:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, postgres type); the first two are time, id
    to_row: Callable[[Event], tuple[Any, ...]]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


@dataclass(frozen=True, slots=True)
class CounterTable:
    name: str
    key: tuple[str, ...]
    sums: tuple[str, ...] = ()
    hists: tuple[str, ...] = ()
    greatest: tuple[str, ...] = ()
    latest: tuple[str, ...] = ()
    least: tuple[str, ...] = ()
    updated_at: bool = True  # keeps UPDATED_AT

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.sums + self.hists + self.greatest + self.least + self.latest

    def row_type(self, name: str) -> type:
        """A mutable row to accumulate a batch's increments in, its fields the table's columns: the key
        columns first (positional), sums at 0, histograms empty, the others ``None``; ``row.key`` is
        the key's values.  ``row_of`` turns one into the dict the sink writes."""
        key = self.key
        fields: list[Any] = [(c, Any) for c in key]
        fields += [(c, int, field(default=0)) for c in self.sums]
        fields += [(c, list, field(default_factory=sketch.empty)) for c in self.hists]
        fields += [(c, Any, field(default=None)) for c in self.greatest + self.least + self.latest]
        return make_dataclass(name, fields, slots=True,
                              namespace={"key": property(lambda row: tuple(getattr(row, c) for c in key))})

    def row_of(self, row: Any) -> dict[str, Any]:
        return {c: getattr(row, c) for c in self.columns}


@dataclass(frozen=True, slots=True)
class StateTable:
    """Current state per entity (a camera's debounced status, a dossier's stage …).

    The sink loads the rows of the entities a batch touches (``FOR UPDATE``, inside the batch's
    transaction), hands them to the family's pure function, and writes back what it returns:
    state stays consistent with the stored events whatever crashes or rebalances happen.
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[str, ...]  # the other columns
    keys_of: Callable[[Sequence[Event]], set[tuple[Any, ...]]]
    updated_at: bool = False  # keeps UPDATED_AT

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.key + self.columns


States = dict[tuple[Any, ...], dict[str, Any]]


@dataclass(slots=True)
class Increments:
    """Rows to add, per counter table (dicts of the table's columns); and state rows to save."""

    rows: dict[CounterTable, list[dict[str, Any]]] = field(default_factory=dict)
    states: States = field(default_factory=dict)

    def add(self, table: CounterTable, row: dict[str, Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def extend(self, other: Increments) -> None:
        for table, rows in other.rows.items():
            self.rows.setdefault(table, []).extend(rows)

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """What a feed family writes: raw events, and increments computed from fresh events.

    ``increments(fresh, states)`` gets the fresh events in event-time order and, when the family
    keeps a ``state`` table, the current state rows of the entities they touch (missing ones
    absent); it returns counter increments and the state rows to save.
    """

    family: str
    raw: RawTable
    increments: Callable[[Sequence[Event], States], Increments]
    state: StateTable | None = None
    counters: tuple[CounterTable, ...] = ()  # every counter table its increments write

    @property
    def tables(self) -> tuple[RawTable | CounterTable | StateTable, ...]:
        return (self.raw, *self.counters, *((self.state,) if self.state else ()))


#: what became of a rejected event, per producer: ``invalid`` (not a valid event of the feed: not JSON,
#: wrong fields, impossible values), ``late`` (behind the partition's newest event by more than the
#: allowance), ``dropped`` (dead-lettered for another reason: the database refused it, handling it failed)
REJECT_KINDS = ("invalid", "late", "dropped")


def reject_kind(reason: str) -> str:
    """The kind (``REJECT_KINDS``) of a dead letter's reason."""
    if reason == "late":
        return "late"
    return "dropped" if reason in ("internal_error", "sink_rejected") else "invalid"


class ProducerNamer(Protocol):
    """Names the producer of an event, and of each event of a batch at once
    (``agents.indicators.producers.ProducerOf``)."""

    def __call__(self, event: Event) -> str: ...

    def many(self, events: Sequence[Event]) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class SourceStats:
    """What one batch says about its source, for the 'is the data live and clean' indicators.

    ``producer_of`` names the producer of an event (``None``: the batch is not counted per producer);
    ``dead`` counts the batch's rejected events per (producer, kind of ``REJECT_KINDS``)."""

    source: str
    arrival: datetime
    received: int
    rejected: int
    producer_of: ProducerNamer | None = None
    dead: Mapping[tuple[str, str], int] = field(default_factory=dict)


EVENT_TIME = attrgetter("event_time")

SOURCE_WINDOW = CounterTable(
    "source_window",
    key=("source", "time"),
    sums=("received", "accepted", "duplicates", "rejected"),
    greatest=("last_event", "last_arrival"),
    updated_at=False,
)
SOURCE_WINDOW_S = 10


def source_increment(spec: FeedSpec, stats: SourceStats, fresh: Sequence[Event], duplicates: int) -> dict[str, Any]:
    last_event = max(map(EVENT_TIME, fresh), default=None)
    return {
        "source": stats.source,
        "time": window_start(stats.arrival, SOURCE_WINDOW_S),
        "received": stats.received,
        "accepted": len(fresh),
        "duplicates": duplicates,
        "rejected": stats.rejected,
        "last_event": last_event,
        "last_arrival": stats.arrival,
    }


#: every producer itself (a system, agency, camera link, station): what arrived from it per 10 minutes,
#: and what became of it; the expected rate of an hour is learned from these rows
PRODUCER_WINDOW = CounterTable(
    "producer_window",
    key=("family", "producer", "time"),
    sums=("received", "accepted", "duplicates", *REJECT_KINDS),
    greatest=("last_event", "last_arrival"),
    updated_at=False,
)
PRODUCER_WINDOW_S = 600


def producer_increments(spec: FeedSpec, stats: SourceStats, events: Sequence[Event],
                        fresh: Sequence[Event]) -> list[dict[str, Any]]:
    """One row per producer of the batch: events received (the rejected ones included), accepted (fresh:
    stored now), duplicates (a copy of an event already stored), rejected per kind; its newest fresh
    event and the batch's arrival.  Fresh events are told by the ledger, so a replay adds only to
    ``received`` and ``duplicates``, never to ``accepted``.  None without ``stats.producer_of``."""
    of = stats.producer_of
    if of is None:
        return []
    time = window_start(stats.arrival, PRODUCER_WINDOW_S)
    rows: dict[str, dict[str, Any]] = {}

    def row(producer: str) -> dict[str, Any]:
        r = rows.get(producer)
        if r is None:
            r = rows[producer] = {"family": spec.family, "producer": producer, "time": time, "received": 0,
                                  "accepted": 0, "duplicates": 0, **{k: 0 for k in REJECT_KINDS},
                                  "last_event": None, "last_arrival": stats.arrival}
        return r

    accepted = of.many(fresh)
    # every event fresh (the usual batch): the same events, their producers already named
    names = accepted if len(fresh) == len(events) else of.many(events)
    for producer, n in Counter(names).items():
        r = row(producer)
        r["received"] += n
        r["duplicates"] += n  # made good below for the fresh ones
    # each producer's newest event time: of its (producer, time) pairs in time order, the last one (the
    # sink hands the fresh events in time order: then they are not sorted again)
    times = list(map(EVENT_TIME, fresh))
    if all(map(le, times, islice(times, 1, None))):
        newest = dict(zip(accepted, times))
    else:
        newest = dict(sorted(zip(accepted, times), key=itemgetter(1)))
    for producer, n in Counter(accepted).items():
        r = row(producer)
        r["accepted"] += n
        r["duplicates"] -= n
        r["last_event"] = newest[producer]
    for (producer, kind), n in stats.dead.items():
        r = row(producer)
        r["received"] += n
        r[kind] += n
    return list(rows.values())


def add_source_counts(incs: Increments, spec: FeedSpec, stats: SourceStats, events: Sequence[Event],
                      fresh: Sequence[Event]) -> None:
    """The batch's counts of its feed (``source_window``) and of each of its producers (``producer_window``),
    added to ``incs``: what every sink writes in the batch's transaction."""
    incs.add(SOURCE_WINDOW, source_increment(spec, stats, fresh, len(events) - len(fresh)))
    for row in producer_increments(spec, stats, events, fresh):
        incs.add(PRODUCER_WINDOW, row)


def combine(table: CounterTable, old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """What the database does on conflict, in Python: the in-memory sink and tests use it."""
    if old is None:
        return dict(new)
    out = dict(old)
    for c in table.sums:
        out[c] = (old.get(c) or 0) + (new.get(c) or 0)
    for c in table.hists:
        out[c] = sketch.merge(old.get(c), new.get(c))
    for c in table.greatest:
        vals = [v for v in (old.get(c), new.get(c)) if v is not None]
        out[c] = max(vals) if vals else None
    for c in table.least:
        vals = [v for v in (old.get(c), new.get(c)) if v is not None]
        out[c] = min(vals) if vals else None
    for c in table.latest:
        if new.get(c) is not None:
            out[c] = new[c]
    return out

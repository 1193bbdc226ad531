"""Moving every timestamp of recorded events by one offset, for ``ioc replay --shift-to-now``.

Which fields are timestamps is read from the contract models (``streams.core.contracts.MODELS``): every
field typed as a datetime or a date, in nested models and lists too (``dateObserved``,
``start_time``, ``end_time``, due dates …).  A message stays what it was: an array stays an
array, an object an object; what is not JSON, or a value that is not a timestamp, is sent as
recorded (a replay must not repair the bad messages it was recorded with).
"""
from __future__ import annotations

import types
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Union, get_args, get_origin

import orjson
from pydantic import AwareDatetime, BaseModel, FutureDate, FutureDatetime, NaiveDatetime, PastDate, PastDatetime

from streams.core.families import MODELS

DATETIME_TYPES = (datetime, AwareDatetime, NaiveDatetime, PastDatetime, FutureDatetime)
DATE_TYPES = (date, PastDate, FutureDate)  # after DATETIME_TYPES: a datetime is a date too
EACH = "*"  # a path step meaning "every element of the list"

Path = tuple[str, ...]


def time_paths(annotation: Any, _seen: frozenset[type] = frozenset()) -> Iterator[tuple[Path, str]]:
    """(path, "datetime" | "date") of every timestamp inside a type annotation."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from time_paths(get_args(annotation)[0], _seen)
    elif origin in (Union, types.UnionType):
        for arg in get_args(annotation):
            yield from time_paths(arg, _seen)
    elif origin in (list, tuple, set, frozenset, Sequence):
        for arg in get_args(annotation):
            if arg is not Ellipsis:
                for path, kind in time_paths(arg, _seen):
                    yield (EACH, *path), kind
    elif isinstance(annotation, type):
        if issubclass(annotation, DATETIME_TYPES):
            yield (), "datetime"
        elif issubclass(annotation, DATE_TYPES):
            yield (), "date"
        elif issubclass(annotation, BaseModel) and annotation not in _seen:
            for name, info in annotation.model_fields.items():
                for path, kind in time_paths(info.annotation, _seen | {annotation}):
                    yield (info.alias or name, *path), kind


def type_literal(model: type[BaseModel]) -> str | None:
    """The value of a contract's ``type`` literal (``"RequestLog"``), None if it has none."""
    info = model.model_fields.get("type")
    args = get_args(info.annotation) if info is not None else ()
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


class TimeShifter:
    """Shifts the timestamps of messages of any feed family by ``delta`` (whole seconds)."""

    def __init__(self, delta: timedelta,
                 models: Mapping[str, Sequence[type[BaseModel]]] = MODELS) -> None:
        self.delta = timedelta(seconds=round(delta.total_seconds()))
        self._by_type: dict[tuple[str, str | None], list[tuple[Path, str]]] = {}
        self._by_family: dict[str, list[tuple[Path, str]]] = {}
        for family, family_models in models.items():
            union: dict[Path, str] = {}
            for model in family_models:
                paths = dict(time_paths(model))
                self._by_type[(family, type_literal(model))] = list(paths.items())
                union.update(paths)
            self._by_family[family] = list(union.items())

    def paths(self, family: str, event_type: str | None) -> list[tuple[Path, str]]:
        """Timestamp paths of an event type; every path of its family when the type is unknown."""
        return self._by_type.get((family, event_type)) or self._by_family.get(family, [])

    def shift_text(self, text: str, kind: str) -> str:
        try:
            if kind == "date":
                return (datetime.combine(date.fromisoformat(text), time()) + self.delta).date().isoformat()
            moved = datetime.fromisoformat(text) + self.delta
        except (TypeError, ValueError, OverflowError):  # not a timestamp, or one that leaves the calendar
            return text
        head, _, frac = text.partition(".")
        digits = len(frac) - len(frac.lstrip("0123456789"))
        spec = "seconds" if not digits else ("milliseconds" if digits <= 3 else "microseconds")
        out = moved.isoformat(timespec=spec)
        return out[:-6] + "Z" if text.endswith(("Z", "z")) and out.endswith("+00:00") else out

    def shift_event(self, family: str, event: Any) -> Any:
        if isinstance(event, dict):
            for path, kind in self.paths(family, event.get("type")):
                _apply(event, path, lambda v, k=kind: self.shift_text(v, k) if isinstance(v, str) else v)
        return event

    def shift(self, family: str, value: bytes) -> bytes:
        """The message with every event's timestamps moved; unchanged when it is not JSON."""
        try:
            doc = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        if isinstance(doc, list):
            return orjson.dumps([self.shift_event(family, e) for e in doc])
        if isinstance(doc, dict):
            return orjson.dumps(self.shift_event(family, doc))
        return value


def _apply(doc: Any, path: Path, leaf: Any) -> Any:
    if not path:
        return leaf(doc)
    head, rest = path[0], path[1:]
    if head == EACH:
        if isinstance(doc, list):
            doc[:] = [_apply(x, rest, leaf) for x in doc]
    elif isinstance(doc, dict) and head in doc:
        doc[head] = _apply(doc[head], rest, leaf)
    return doc


def event_time(family: str, event: Any, models: Mapping[str, Sequence[type[BaseModel]]] = MODELS
               ) -> datetime | None:
    """The time of an event dict, read from its contract's ``time_field`` (None if it has none)."""
    if not isinstance(event, dict):
        return None
    field = next((getattr(m, "time_field", None) for m in models.get(family, ()) if type_literal(m) == event.get("type")),
                 "dateObserved")
    try:
        ts = datetime.fromisoformat(event[field])
    except (KeyError, TypeError, ValueError):
        return None
    return ts if ts.tzinfo is not None else None


def first_event_time(family: str, value: bytes) -> datetime | None:
    """The time of the first event of a message (the first element of an array)."""
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError:
        return None
    if isinstance(doc, list):
        doc = doc[0] if doc else None
    return event_time(family, doc)

"""Validation where events enter: bytes from Kafka -> valid events + rejects.

A Kafka message holds one JSON event or a JSON array of events.  The whole message is checked
by msgspec in one call (``streams.core.contracts.fast``); when an element fails there, every
element is checked on its own, so a bad event inside an array rejects that event alone.  A
reject carries a reason code, a one-line detail and the original bytes, and goes to the
dead-letter topic; nothing here raises for bad input.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from pydantic import ValidationError

from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.contracts import Event
from streams.core.divisions import Divisions, UnitRejected
from streams.core.contracts.fast import ContractAdapter, plain_text
from streams.core.families import fast_adapter

Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Bounds:
    """A longitude/latitude box; points outside it are impossible for this province."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str
    original: bytes
    index: int | None = None  # position in the array, None for the whole message


@dataclass(slots=True)
class Decoded:
    events: list[Event] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Limits:
    max_message_bytes: int = 1_000_000
    max_events_per_message: int = 10_000
    future_tolerance: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=400)


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "event"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(parts) + more


class Decoder:
    """Turns Kafka message values of one feed family into events and rejects."""

    def __init__(
        self,
        family: str,
        *,
        limits: Limits | None = None,
        bounds: Bounds | None = None,
        units: Divisions | None = None,
        clock: Clock = utcnow,
        fast: bool = True,
    ) -> None:
        self.family = family
        self.units = units
        self.adapter: ContractAdapter = fast_adapter(family, fast=fast)
        self.limits = limits or Limits()
        self.bounds = bounds
        self.clock = clock
        #: the models whose events ``admit`` checks beyond their time: a place, a unit
        self._placed = frozenset(m for m in self.adapter.models if {"location", "unit_code"} & set(m.model_fields))
        self._window_at: datetime | None = None
        self._window: tuple[datetime, datetime] = (datetime.min, datetime.max)

    def decode(self, raw: bytes | None, now: datetime | None = None) -> Decoded:
        """The events and rejects of one message; ``now`` (default: the clock's) is when it is judged:
        a batch's messages are judged at the batch's time."""
        out = Decoded()
        if raw is None:
            out.rejected.append(Rejected("empty", "message has no value", b""))
            return out
        if len(raw) > self.limits.max_message_bytes:
            out.rejected.append(
                Rejected(
                    "too_large",
                    f"message is {len(raw)} bytes, limit {self.limits.max_message_bytes}",
                    raw,  # whole: the dead-letter sender replaces it by a reference when the topic cannot take it
                )
            )
            return out
        now = now or self.clock()
        fast = self._whole(raw, now)
        if fast is not None:
            out.events = fast
            return out
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            out.rejected.append(Rejected("not_json", str(exc)[:300], raw))
            return out
        if isinstance(doc, list):
            if len(doc) > self.limits.max_events_per_message:
                out.rejected.append(
                    Rejected(
                        "too_many_events",
                        f"array holds {len(doc)} events, limit {self.limits.max_events_per_message}",
                        raw,
                    )
                )
                return out
            items = list(enumerate(doc))
            whole = False
        else:
            items = [(None, doc)]
            whole = True
        for index, item in items:
            try:
                out.events.append(self.check(item, now))
            except _Reject as rej:
                out.rejected.append(Rejected(rej.reason, rej.detail, raw if whole else orjson.dumps(item), index))
        return out

    def _whole(self, raw: bytes, now: datetime) -> list[Event] | None:
        """Every event of a message decoded in one msgspec call, or None when any element needs the
        element-by-element path (it is refused, or pydantic must decide on it).  An event whose model
        has no place and no unit is admitted on its time alone, without a call to ``admit``."""
        decoded = self.adapter.decode(raw)
        if decoded is None or len(decoded) > self.limits.max_events_per_message:
            return None
        builds = self.adapter.plain_builds if plain_text(raw) else self.adapter.builds
        placed = self._placed
        earliest, latest = self.window(now)
        try:
            events = [builds[type(struct)](struct) for struct in decoded]
            for i, event in enumerate(events):
                if type(event) in placed:
                    events[i] = self.admit(event, now, (earliest, latest))
                elif not earliest <= event.event_time <= latest:
                    return None
        except Exception:  # noqa: BLE001 (the element-by-element path gives each its reason)
            return None
        return events

    def check(self, item: Any, now: datetime) -> Event:
        if not isinstance(item, dict):
            raise _Reject("not_an_object", f"expected a JSON object, got {type(item).__name__}")
        try:
            event: Event = self.adapter.validate_python(item)
        except ValidationError as exc:
            reason = "unknown_type" if any(e["type"] == "union_tag_invalid" for e in exc.errors()) else "invalid"
            if any(e["type"] == "union_tag_not_found" for e in exc.errors()):
                reason = "invalid"
            raise _Reject(reason, _first_error(exc)) from None
        except Exception as exc:  # a contract's own bug must not make one event stop the worker
            log.warning("validation of a %s event failed unexpectedly: %r", self.family, exc)
            raise _Reject("invalid", f"validation failed: {type(exc).__name__}: {str(exc)[:200]}") from None
        return self.admit(event, now)

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The earliest and the latest event time possible at ``now`` (kept for the next message of the
        same batch, judged at the same time)."""
        if now != self._window_at:
            self._window = now - self.limits.max_age, now + self.limits.future_tolerance
            self._window_at = now
        return self._window

    def admit(self, event: Event, now: datetime, window: tuple[datetime, datetime] | None = None) -> Event:
        """The event if its time and place are possible, else ``_Reject``."""
        earliest, latest = window or self.window(now)
        ts = event.event_time
        if ts > latest:
            raise _Reject("future_timestamp", f"{event.time_field} {ts.isoformat()} is ahead of now {now.isoformat()}")
        if ts < earliest:
            raise _Reject("too_old", f"{event.time_field} {ts.isoformat()} is older than {self.limits.max_age.days} days")
        point = event.location_point
        if point is not None and self.bounds is not None and not self.bounds.contains(point.lon, point.lat):
            raise _Reject("out_of_area", f"location {point.lon},{point.lat} is outside the province")
        code = event.optional("unit_code") if self.units is not None else None
        if code is not None:
            return self._in_unit(event, code, ts)
        return event

    def _in_unit(self, event: Event, code: str, ts: datetime) -> Event:
        """The event recorded under the unit valid on its local day: as it is, under the one unit its
        ended unit became, or refused (``unit_ended``, ``unit_not_yet_valid``)."""
        assert self.units is not None
        try:
            admitted = self.units.admit(code, ts.astimezone(LOCAL_TZ).date())
        except UnitRejected as exc:
            raise _Reject(exc.reason, exc.detail) from None
        return event if admitted == code else event.model_copy(update={"unit_code": admitted})


class _Reject(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail

"""Every producer itself: is what each system, agency, camera link and station sends correct, complete,
clean and live ("đúng, đủ, sạch, sống", Guidance 1709/BKHCN-CĐSQG)?

A feed family is sent by many producers: information systems (probes, their security events), agencies
(dossiers, citizen reports), cameras behind a network link, sensor stations, network links.  The
worker counts each producer's events per 10 minutes (``producer_window``, ``streams/core/tables.py``);
this module says, from those counts:

* **expected** — how many events a producer sends in an hour, learned from the same hour of the week
  over the last four weeks (the median; a week before the counters began does not count), or
  configured in ``agents/indicators/data/sources.yaml``: a feed busy by day is not missed at night;
* **correct** (đúng) — the share of its events that were valid;
* **complete** (đủ) — what it sent in the last complete hour against what that hour expects;
* **clean** (sạch) — the share of its valid events that were neither copies of events already stored
  nor late nor dead-lettered;
* **live** (sống) — no more than ``quiet_missed`` expected events missed since its last arrival
  (``missed``; none while it has been silent less than ``quiet_after``): a producer that is expected
  to be silent now is live.

All functions here are pure; the SQL is in ``agents/indicators/queries/sources.py``.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import repeat
from operator import attrgetter
from pathlib import Path
from typing import Any

import orjson

from streams.core.clock import LOCAL_TZ
from streams.core.contracts import Event
from streams.core.errors import ConfigError
from streams.core.families import BY_NAME
from streams.core.yamlfile import read_yaml

SOURCES_FILE = Path(__file__).resolve().parent / "data" / "sources.yaml"
_FIELDS = attrgetter("__dict__")  # an event's fields, read at C speed
_TEXT = frozenset({str})


#: the producer of a rejected event whose fields cannot be read (not JSON, no producer field)
UNKNOWN = "?"
#: a rejected event longer than this is not parsed to find its producer (a message over the size limit)
MAX_PARSED = 64 * 1024
HOUR = timedelta(hours=1)
WEEK = timedelta(weeks=1)


# --- who sent an event ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Producers:
    """Who sent an event: the first of its family's producer fields (``Family.producer``) that it has,
    counted under its group when the family groups its producers (a camera under its network link)."""

    groups: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # family -> code -> group

    @classmethod
    def from_province(cls, province: Any) -> Producers:
        """Cameras grouped by their network link (``parent`` in the province file)."""
        return cls({"camera": {c.code: c.parent for c in province.cameras if c.parent}})

    def name(self, family: str, fields: Callable[[str], Any]) -> str:
        """The producer, given a getter of the event's fields; ``UNKNOWN`` when it names none."""
        groups = self.groups.get(family, {})
        for name in BY_NAME[family].producer:
            value = fields(name)
            if isinstance(value, str) and value:
                return groups.get(value, value)
        return UNKNOWN

    def of(self, family: str) -> ProducerOf:
        """The producer of a valid event of ``family``, and of a batch's events (what ``name`` gives, the
        family's fields and groups looked up once: this runs for every event)."""
        return ProducerOf(BY_NAME[family].producer, self.groups.get(family, {}))

    def of_raw(self, family: str, original: bytes) -> str:
        """The producer of a rejected event, from its original bytes when they are a JSON object."""
        if len(original) > MAX_PARSED:
            return UNKNOWN
        try:
            doc = orjson.loads(original)
        except orjson.JSONDecodeError:
            return UNKNOWN
        return self.name(family, doc.get) if isinstance(doc, dict) else UNKNOWN


class ProducerOf:
    """Who sent an event of one family (``__call__``), and each event of a batch (``many``)."""

    __slots__ = ("names", "groups")

    def __init__(self, names: Sequence[str], groups: Mapping[str, str]) -> None:
        self.names = names  # the family's producer fields, the first present wins
        self.groups = groups  # code -> its group

    def __call__(self, event: Event) -> str:
        fields = event.__dict__
        for name in self.names:
            value = fields.get(name)
            if isinstance(value, str) and value:
                return self.groups.get(value, value)
        return UNKNOWN

    def many(self, events: Sequence[Event]) -> list[str]:
        """The producers of a batch's events, read at C speed when every event names one in the first
        field (a probe's system, a camera's code); else event by event."""
        values = list(map(dict.get, map(_FIELDS, events), repeat(self.names[0])))
        if "" in values or not _TEXT.issuperset(map(type, values)):
            return list(map(self, events))
        groups = self.groups
        return list(map(groups.get, values, values)) if groups else values


# --- configuration -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SourceRules:
    """What the checks mean (``agents/indicators/data/sources.yaml``)."""

    history_weeks: int = 4
    min_valid: float = 0.99
    min_complete: float = 0.8
    min_clean: float = 0.95
    quiet_missed: float = 10.0
    #: nothing is missed before a producer has been silent this long: a busy one between two batches is not quiet
    quiet_after: timedelta = timedelta(seconds=60)
    #: a producer with no expected rate yet (no history, nothing configured) is live while it sent within this
    unlearned_silence: timedelta = timedelta(hours=1)
    #: (family, producer or "*") -> expected events per hour by local hour (24 values): configured rates
    configured: Mapping[tuple[str, str], tuple[float, ...]] = field(default_factory=dict)

    def configured_rate(self, family: str, producer: str, local_hour: int) -> float | None:
        """The rate configured for ``producer`` (``"*"``: the family's default) at a local hour, or None."""
        rates = self.configured.get((family, producer))
        return None if rates is None else rates[local_hour]


def _hourly(value: Any, where: str) -> tuple[float, ...]:
    """24 rates from a number (every hour) or a mapping ``"HH-HH": rate`` (local hours, end excluded;
    ``"*"`` the other hours)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (float(value),) * 24
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected a number of events per hour or a mapping of 'HH-HH' to one")
    rates: list[float | None] = [None] * 24
    for span, rate in value.items():
        if span == "*":
            continue
        try:
            start, end = (int(x) for x in str(span).split("-"))
        except ValueError:
            raise ConfigError(f"{where}: {span!r} is not a span of local hours like '07-17'") from None
        if not (0 <= start < end <= 24):
            raise ConfigError(f"{where}: {span!r}: hours must be 0-24, the start before the end")
        for h in range(start, end):
            rates[h] = float(rate)
    other = value.get("*")
    if other is None and None in rates:
        raise ConfigError(f"{where}: hours {[h for h, r in enumerate(rates) if r is None]} have no rate: add '*'")
    return tuple(float(other) if r is None else r for r in rates)


def load_source_rules(path: Path | str = SOURCES_FILE) -> SourceRules:
    doc = read_yaml(path, "source rules")
    where = f"source rules {path}"
    try:
        checks = doc["checks"]
        rules = SourceRules(
            history_weeks=int(doc["history_weeks"]), min_valid=float(checks["min_valid"]),
            min_complete=float(checks["min_complete"]), min_clean=float(checks["min_clean"]),
            quiet_missed=float(checks["quiet_missed"]), quiet_after=timedelta(seconds=float(checks["quiet_after_s"])),
            unlearned_silence=timedelta(seconds=float(checks["unlearned_silence_s"])),
            configured={(fam, producer): _hourly(rate, f"{where}: expected.{fam}.{producer}")
                        for fam, per in (doc.get("expected") or {}).items() for producer, rate in per.items()},
        )
    except (TypeError, KeyError, ValueError, AttributeError) as exc:
        raise ConfigError(f"{where}: bad or missing entry: {exc!r}") from None
    unknown = sorted({fam for fam, _ in rules.configured} - set(BY_NAME))
    if unknown:
        raise ConfigError(f"{where}: expected: unknown feed families {unknown}; known: {', '.join(BY_NAME)}")
    if not 1 <= rules.history_weeks <= 8 or rules.quiet_missed <= 0:
        raise ConfigError(f"{where}: history_weeks must be 1-8 (the counters keep 60 days), quiet_missed positive")
    return rules


# --- the expected rate ---------------------------------------------------------------------------

def hour_start(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def expected_per_hour(same_hours: Mapping[datetime, int], hour: datetime, *, since: datetime | None,
                      weeks: int = 4, configured: float | None = None) -> float | None:
    """Events a producer is expected to send in the hour starting at ``hour``: the configured rate when
    there is one, else the median of what it sent in the same hour of each of the last ``weeks`` weeks
    (``same_hours``: hour start -> events; an hour without a row counted 0) that began after the
    counters did (``since``: the oldest row of any producer); None with no such week yet."""
    if configured is not None:
        return configured
    if since is None:
        return None
    past = [hour - k * WEEK for k in range(1, weeks + 1)]
    counted = [same_hours.get(h, 0) for h in past if h >= hour_start(since)]
    return float(statistics.median(counted)) if counted else None


def missed(last_arrival: datetime | None, now: datetime, expected: Callable[[datetime], float | None]) -> float:
    """Events expected since the producer's last arrival (``expected``: hour start -> events in that
    hour, None unknown: 0), over the current hour and the one before it: how quiet it is.  Nothing is
    missed while the hours are expected to be silent, whatever the age."""
    if last_arrival is None:
        return 0.0
    total, current = 0.0, hour_start(now)
    for start in (current - HOUR, current):
        lo, hi = max(start, last_arrival), min(start + HOUR, now)
        if hi > lo:
            total += (expected(start) or 0.0) * (hi - lo) / HOUR
    return total


# --- the four checks -----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Counts:
    """What a producer sent over a stretch (``producer_window`` rows summed)."""

    received: int = 0
    accepted: int = 0
    duplicates: int = 0
    invalid: int = 0
    late: int = 0
    dropped: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Counts:
        return cls(*(int(row.get(c) or 0) for c in ("received", "accepted", "duplicates", "invalid", "late", "dropped")))

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.astuple(), other.astuple())))

    def astuple(self) -> tuple[int, ...]:
        return (self.received, self.accepted, self.duplicates, self.invalid, self.late, self.dropped)


def valid_share(c: Counts) -> float | None:
    """Đúng: the valid share of what arrived (None: nothing arrived)."""
    return (c.received - c.invalid) / c.received if c.received else None


def clean_share(c: Counts) -> float | None:
    """Sạch: the share of the valid events that were new (not a copy, not late, not dead-lettered)."""
    valid = c.received - c.invalid
    return max(0, valid - c.duplicates - c.late - c.dropped) / valid if valid > 0 else None


def complete_share(received: int, expected: float | None) -> float | None:
    """Đủ: received against expected for the same hour (None: no expectation, or none expected)."""
    return received / expected if expected else None


@dataclass(frozen=True, slots=True)
class ProducerHealth:
    family: str
    producer: str
    last_event: datetime | None
    last_arrival: datetime | None
    recent: Counts  # the last 60 minutes
    expected_now: float | None  # events expected in the current hour
    expected_last: float | None  # … in the last complete hour
    received_last: int  # received in the last complete hour
    valid: float | None
    complete: float | None
    clean: float | None
    missed: float  # expected events since the last arrival
    live: bool
    #: (correct, complete, clean, live) against the rules: None when there is nothing to judge
    checks: tuple[bool | None, bool | None, bool | None, bool]

    @property
    def status(self) -> str:
        """silent | dirty | incomplete | ok, the feed's vocabulary (``agents.indicators.sources``)."""
        correct, complete, clean, live = self.checks
        if not live:
            return "silent"
        if correct is False or clean is False:
            return "dirty"
        return "incomplete" if complete is False else "ok"


def producer_health(family: str, producer: str, *, recent: Counts, received_last: int, last_event: datetime | None,
                    last_arrival: datetime | None, expected_now: float | None, expected_last: float | None,
                    now: datetime, rules: SourceRules = SourceRules()) -> ProducerHealth:
    """A producer's four checks from its counts of the last 60 minutes and of the last complete hour, and
    the events expected in the current hour and the one before."""
    valid, clean = valid_share(recent), clean_share(recent)
    complete = complete_share(received_last, expected_last)
    current = hour_start(now)
    gone = 0.0 if last_arrival is not None and now - last_arrival < rules.quiet_after else \
        missed(last_arrival, now, lambda h: expected_now if h == current else expected_last)
    unlearned = expected_now is None and expected_last is None  # its first weeks: judged by age alone
    live = last_arrival is not None and gone <= rules.quiet_missed and not (
        unlearned and now - last_arrival > rules.unlearned_silence)
    checks = (None if valid is None else valid >= rules.min_valid,
              None if complete is None else complete >= rules.min_complete,
              None if clean is None else clean >= rules.min_clean, live)
    return ProducerHealth(family, producer, last_event, last_arrival, recent, expected_now, expected_last,
                          received_last, valid, complete, clean, gone, live, checks)


# --- from the rows of the queries ----------------------------------------------------------------

def history_by_producer(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], dict[datetime, int]]:
    """``PRODUCER_HISTORY`` rows (family, producer, hour, received) as (family, producer) -> hour -> events."""
    out: dict[tuple[str, str], dict[datetime, int]] = {}
    for r in rows:
        if r.get("hour") is not None:
            out.setdefault((r["family"], r["producer"]), {})[r["hour"]] = int(r["received"] or 0)
    return out


def producer_healths(recent: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]], now: datetime,
                     rules: SourceRules = SourceRules()) -> list[ProducerHealth]:
    """Every producer of the last day (``PRODUCER_RECENT`` rows) or of the same hours of the last weeks
    (``PRODUCER_HISTORY`` rows, whose ``since`` is the oldest counter row), judged at ``now``."""
    past = history_by_producer(history)
    seen: dict[tuple[str, str], datetime] = {}  # newest arrival in the same hours of past weeks
    for h in history:
        key, at = (h["family"], h["producer"]), h.get("last_arrival")
        if at is not None and (key not in seen or at > seen[key]):
            seen[key] = at
    since = next((r["since"] for r in history if r.get("since") is not None), None)
    rows = {(r["family"], r["producer"]): r for r in recent}
    current = hour_start(now)
    out = []
    for key in sorted(set(rows) | set(past)):
        family, producer = key
        r = rows.get(key, {})
        same = past.get(key, {})

        def expect(hour: datetime) -> float | None:  # its own rate, else history, else the family's
            local = hour.astimezone(LOCAL_TZ).hour
            learned = expected_per_hour(same, hour, since=since, weeks=rules.history_weeks,
                                        configured=rules.configured_rate(family, producer, local))
            return learned if learned is not None else rules.configured_rate(family, "*", local)

        out.append(producer_health(
            family, producer, recent=Counts.of(r), received_last=int(r.get("received_last") or 0),
            last_event=r.get("last_event"), last_arrival=r.get("last_arrival") or seen.get(key),
            expected_now=expect(current), expected_last=expect(current - HOUR), now=now, rules=rules))
    return out


def quiet_values(healths: Iterable[ProducerHealth]) -> dict[str, dict[str, float | None]]:
    """``source.quiet``: per producer (``family:producer``), events expected since its last arrival."""
    return {"source.quiet": {f"{h.family}:{h.producer}": round(h.missed, 3) for h in healths
                             if h.producer != UNKNOWN}}

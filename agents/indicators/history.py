"""History over a range: which range a page or a link asks for, and what one entity's history is.

A wall page shows the live hour by default; ``?range=24h|7d|30d|90d|1y`` shows that span up to now,
and ``?range=custom&from=YYYY-MM-DD&to=YYYY-MM-DD`` the local days from ``from`` to ``to`` included.
A range other than live is read from the rollups at the coarsest resolution that fits
(``rollups.resolution``: an hour up to 14 days, a day beyond); whole local days never come down to
the 60 s windows (a custom range is at least one day).  ``Entity`` names what ``/history`` shows
(a system, a sensor station, a camera zone, a network link, a source); ``alert_entity`` says which
entity an alert is about, so the console can link an alert to its history around it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

from agents.indicators.rollups import day_start, resolution
from streams.core.errors import InputError

LIVE = "live"
CUSTOM = "custom"
#: the ranges a page offers, in order, and how far back each reaches
SPANS: dict[str, timedelta | None] = {
    LIVE: None, "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30),
    "90d": timedelta(days=90), "1y": timedelta(days=365),
}
RANGES = (*SPANS, CUSTOM)
#: the longest custom range (a history query stays a few hundred days at most)
LONGEST = timedelta(days=3 * 366)
KINDS = ("system", "station", "zone", "link", "source")
#: days shown either side of an alert when the console links to its entity's history
AROUND_ALERT = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class HistoryRange:
    key: str  # one of RANGES
    since: datetime  # UTC, half-open
    until: datetime
    first: date | None = None  # a custom range's local days, as asked
    last: date | None = None

    @property
    def live(self) -> bool:
        return self.key == LIVE

    @property
    def resolution(self) -> str:
        """``hour`` or ``day`` (``window`` for the live hour, which the live pages read themselves)."""
        return resolution(self.since, self.until)

    def query(self) -> dict[str, str]:
        """The URL parameters that ask for this range again."""
        if self.key == CUSTOM and self.first and self.last:
            return {"range": CUSTOM, "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {} if self.live else {"range": self.key}


def _date(text: str, field: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a date (YYYY-MM-DD)") from None


def custom_range(first: date, last: date, tz: ZoneInfo) -> HistoryRange:
    """The local days ``first`` to ``last``, both included."""
    if last < first:
        raise InputError(f"to: {last.isoformat()} is before from: {first.isoformat()}")
    since, until = day_start(first, tz), day_start(last + timedelta(days=1), tz)
    if until - since > LONGEST:
        raise InputError(f"to: a range of {(until - since).days} days is longer than {LONGEST.days}")
    return HistoryRange(CUSTOM, since, until, first, last)


def parse_range(params: Mapping[str, str], now: datetime, tz: ZoneInfo) -> HistoryRange:
    """The range that URL parameters ask for (``range``, and ``from``/``to`` for a custom one); no
    ``range``: live.  A bad value raises ``InputError`` naming the parameter."""
    key = (params.get("range") or LIVE).strip().lower()
    now = now.astimezone(timezone.utc)
    if key == CUSTOM:
        if not params.get("from") or not params.get("to"):
            raise InputError("range: custom needs from and to (YYYY-MM-DD)")
        return custom_range(_date(params["from"], "from"), _date(params["to"], "to"), tz)
    if key not in SPANS:
        raise InputError(f"range: {key!r} is not one of {', '.join(RANGES)}")
    span = SPANS[key]
    return HistoryRange(key, now - (span or timedelta(hours=1)), now)


def query_params(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` -> {a: 1, b: 2} (the last value of a repeated name)."""
    return {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items() if v}


def with_query(path: str, search: str | None, **changes: str | None) -> str:
    """``path`` with the query of ``search``, ``changes`` applied (None removes a name)."""
    params = query_params(search)
    for k, v in changes.items():
        if v is None:
            params.pop(k, None)
        else:
            params[k] = v
    return f"{path}?{urlencode(params)}" if params else path


def range_href(path: str, search: str | None, key: str) -> str:
    """The same page over the range ``key`` (live: no range in the URL), the language kept."""
    return with_query(path, search, range=None if key == LIVE else key, **{"from": None, "to": None})


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # one of KINDS
    id: str
    metric: str | None = None  # a station's metric (rain_mm, water_level_m, ...)


def parse_entity(params: Mapping[str, str]) -> Entity:
    kind = (params.get("kind") or "").strip()
    if kind not in KINDS:
        raise InputError(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    ident = (params.get("id") or "").strip()
    if not ident or len(ident) > 200:
        raise InputError("id: the entity's code is missing or longer than 200 characters")
    return Entity(kind, ident, (params.get("metric") or "").strip() or None)


def entity_href(entity: Entity, rng: Mapping[str, str] | None = None, lang: str | None = None) -> str:
    params = {"kind": entity.kind, "id": entity.id, **({"metric": entity.metric} if entity.metric else {}),
              **(rng or {}), **({"lang": lang} if lang else {})}
    return f"/history?{urlencode(params)}"


def alert_entity(entity: str, systems: set[str], stations: set[str], zones: set[str],
                 links: set[str], sources: set[str]) -> Entity | None:
    """The entity of an alert with a history: the code it names, looked up among the province's systems,
    stations, zones, links and sources (in that order); ``system:endpoint`` is its system."""
    code = (entity or "").split(":", 1)[0].strip()
    for kind, codes in (("system", systems), ("station", stations), ("zone", zones), ("link", links),
                        ("source", sources)):
        if code in codes:
            return Entity(kind, code)
    return None


def around(at: datetime, tz: ZoneInfo, days: timedelta = AROUND_ALERT) -> dict[str, str]:
    """The URL parameters of the local days ``days`` either side of ``at``."""
    day = at.astimezone(tz).date()
    return {"range": CUSTOM, "from": (day - days).isoformat(), "to": (day + days).isoformat()}


def months(rng: HistoryRange, tz: ZoneInfo, now: datetime) -> list[date]:
    """The first days of the local calendar months the range covers, up to now's month."""
    first = rng.since.astimezone(tz).date().replace(day=1)
    last = (min(rng.until, now) - timedelta(microseconds=1)).astimezone(tz).date().replace(day=1)
    out: list[date] = []
    while first <= last:
        out.append(first)
        first = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return out

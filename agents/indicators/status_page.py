"""The public status page of the citizen-facing services: what it shows, as pure functions.

Which services, under which public names, is ``deploy/status_page.yaml`` (``IOC_STATUS_PAGE_FILE``),
naming systems of the province file.  Per service: the state now, one bar per local day of the last
``days`` days, the availability over them, and the outages and maintenance windows.

A day's availability counts minutes as the service levels do (``agents/indicators/sla.py``): a minute
is down when fewer than ``down_below`` of its probes succeeded, a minute without probes counts
neither way, a minute under maintenance is left out.  A day with no counted minute is *no data*
(or *maintenance*, when maintenance covered some of it): never green.

Nothing here carries more than the public names, the times and the figures: the page is made from
these objects only, so no alert text, rule, address or user can reach it.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from agents.indicators.rollups import day_start, merge
from streams.core.errors import ConfigError
from streams.core.yamlfile import read_yaml

MINUTE = timedelta(minutes=1)

# the state of a service now, in the order of gravity
OPERATIONAL, DEGRADED, OUTAGE, MAINTENANCE, UNKNOWN = "operational", "degraded", "outage", "maintenance", "unknown"
STATES = (OPERATIONAL, DEGRADED, OUTAGE, MAINTENANCE, UNKNOWN)
# the colour of a day
GOOD, FAIR, POOR, BAD, NO_DATA = "good", "fair", "poor", "bad", "no_data"
DAY_KINDS = (GOOD, FAIR, POOR, BAD, MAINTENANCE, NO_DATA)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class PublicService:
    system: str  # a code of the province file: never shown
    name_vi: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_vi


@dataclass(frozen=True, slots=True)
class Bands:
    """A day at or above ``good`` is green, at or above ``fair`` yellow, ``poor`` orange, below red."""

    good: float = 0.995
    fair: float = 0.95
    poor: float = 0.80

    def kind(self, availability: float) -> str:
        return GOOD if availability >= self.good else FAIR if availability >= self.fair \
            else POOR if availability >= self.poor else BAD


@dataclass(frozen=True, slots=True)
class StatusPageConfig:
    services: tuple[PublicService, ...]
    days: int = 90
    upcoming_days: int = 14  # planned maintenance shown this far ahead
    bands: Bands = field(default_factory=Bands)
    province: str = ""  # whose centre it is (the province file's name): the page's heading


def _name(doc: object, where: str) -> tuple[str, str]:
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) and doc[k].strip() for k in ("vi", "en")):
        raise ConfigError(f"{where}: expected {{vi: …, en: …}}, both non-empty")
    return doc["vi"].strip(), doc["en"].strip()


def _share(doc: Mapping, key: str, default: float, where: str) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError(f"{where}.{key}: {value!r} is not a share between 0 and 1 (99.5 % is 0.995)")
    return float(value)


def _whole(doc: Mapping, key: str, default: int, top: int, where: str) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
        raise ConfigError(f"{where}: {key} must be a whole number of days, 1 to {top}, got {value!r}")
    return value


def parse_config(doc: object, systems: Iterable[str], where: str = "status page file") -> StatusPageConfig:
    """The configuration from its YAML document; ``systems``: the codes of the province file.  A
    service naming an unknown system is an error, unless it says ``optional: true`` (then it is left
    out until the province has that system)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), list) or not doc["services"]:
        raise ConfigError(f"{where}: expected a mapping with a non-empty list `services`")
    known = set(systems)
    services: list[PublicService] = []
    for i, item in enumerate(doc["services"]):
        at = f"{where}: services[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("system"), str):
            raise ConfigError(f"{at}: expected system: <code> and name: {{vi: …, en: …}}")
        code = item["system"]
        if code not in known:
            if item.get("optional") is True:
                continue
            raise ConfigError(f"{at}.system: {code!r} is not a system of the province file "
                              "(add `optional: true` to show it only once it is)")
        if any(s.system == code for s in services):
            raise ConfigError(f"{at}.system: {code!r} is listed twice")
        services.append(PublicService(code, *_name(item.get("name"), f"{at}.name")))
    if not services:
        raise ConfigError(f"{where}: none of the services is a system of the province file")
    bands_doc = doc.get("bands") or {}
    if not isinstance(bands_doc, dict):
        raise ConfigError(f"{where}: bands must map good, fair, poor to shares")
    bands = Bands(*(_share(bands_doc, k, getattr(Bands(), k), f"{where}: bands") for k in ("good", "fair", "poor")))
    if not bands.good >= bands.fair >= bands.poor:
        raise ConfigError(f"{where}: bands must go down: good {bands.good} >= fair {bands.fair} >= poor {bands.poor}")
    return StatusPageConfig(tuple(services), _whole(doc, "days", 90, 400, where),
                            _whole(doc, "upcoming_days", 14, 90, where), bands)


def load_config(path: Path, systems: Iterable[str]) -> StatusPageConfig:
    doc = read_yaml(path, "status page file", "IOC_STATUS_PAGE_FILE")
    return parse_config(doc, systems, f"status page file {path}")


# --- the days -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayBar:
    day: date
    up: int  # minutes counted up
    down: int  # minutes counted down
    maintenance: int  # minutes under maintenance
    kind: str  # one of DAY_KINDS

    @property
    def availability(self) -> float | None:
        known = self.up + self.down
        return self.up / known if known else None


def covered_minutes(intervals: Iterable[Interval], start: datetime, end: datetime) -> int:
    """Whole minutes of [start, end) under any of ``intervals`` (overlaps counted once)."""
    cut = [(max(s, start), min(e, end)) for s, e in intervals if s < end and e > start]
    return sum(round((e - s) / MINUTE) for s, e in merge(cut))


def day_bars(counts: Mapping[date, tuple[int, int]], maintenance: Sequence[Interval], *, today: date, days: int,
             tz: ZoneInfo, now: datetime, bands: Bands = Bands()) -> list[DayBar]:
    """One bar per local day, the oldest first, ``today`` last.  ``counts``: local day -> (minutes up,
    minutes down), maintenance already left out; ``maintenance``: the intervals touching the service."""
    bars = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        up, down = counts.get(day, (0, 0))
        held = covered_minutes(maintenance, day_start(day, tz), min(day_start(day + timedelta(days=1), tz), now))
        if up + down:
            kind = bands.kind(up / (up + down))
        else:
            kind = MAINTENANCE if held else NO_DATA
        bars.append(DayBar(day, up, down, held, kind))
    return bars


def overall(bars: Iterable[DayBar]) -> float | None:
    """Minutes up over minutes counted, across the bars; None when none was counted."""
    up = down = 0
    for b in bars:
        up, down = up + b.up, down + b.down
    return up / (up + down) if up + down else None


# --- now ------------------------------------------------------------------------------------------


def current_state(health: str | None, *, in_maintenance: bool, outage_open: bool) -> str:
    """The state shown now.  ``health``: the wall's status of the system (ok, degraded, down, stale;
    None without one); ``outage_open``: an outage alert is firing on it."""
    if in_maintenance:
        return MAINTENANCE
    if outage_open or health == "down":
        return OUTAGE
    return {"ok": OPERATIONAL, "degraded": DEGRADED}.get(health or "", UNKNOWN)


def in_any(at: datetime, intervals: Iterable[Interval]) -> bool:
    return any(s <= at < e for s, e in intervals)


# --- what happened --------------------------------------------------------------------------------

OUTAGE_EVENT, MAINTENANCE_EVENT = "outage", "maintenance"


@dataclass(frozen=True, slots=True)
class Incident:
    service: int  # index in the configuration's services
    kind: str  # outage | maintenance
    start: datetime
    end: datetime | None  # None: still going on

    def duration(self, now: datetime) -> timedelta:
        return max(timedelta(0), (self.end or now) - self.start)

    def planned(self, now: datetime) -> bool:
        return self.start > now


def incidents(services: Sequence[PublicService], outages: Iterable[tuple[str, datetime, datetime | None]],
              maintenance: Iterable[tuple[str | None, datetime, datetime]], *, since: datetime,
              until: datetime) -> list[Incident]:
    """Outages (system, start, end or None) and maintenance windows (system or None = every system,
    start, end) of the services touching [since, until), the newest first.  A window for every
    system is listed under each service."""
    index = {s.system: i for i, s in enumerate(services)}
    out = [Incident(index[code], OUTAGE_EVENT, start, end) for code, start, end in outages
           if code in index and start < until and (end is None or end > since)]
    for code, start, end in maintenance:
        if start < until and end > since:
            targets = range(len(services)) if code is None else [index[code]] if code in index else []
            out += [Incident(i, MAINTENANCE_EVENT, start, end) for i in targets]
    return sorted(set(out), key=lambda x: (-x.start.timestamp(), x.service, x.kind))


# --- the whole page -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    service: PublicService
    state: str
    bars: tuple[DayBar, ...]

    @property
    def availability(self) -> float | None:
        return overall(self.bars)


@dataclass(frozen=True, slots=True)
class StatusPage:
    taken_at: datetime
    services: tuple[ServiceStatus, ...]
    incidents: tuple[Incident, ...]
    days: int


@dataclass(frozen=True, slots=True)
class Readings:
    """What the database gave, per system code."""

    minutes: Mapping[str, Mapping[date, tuple[int, int]]]  # system -> local day -> (up, down)
    health: Mapping[str, str]  # system -> ok | degraded | down | stale
    outages: Sequence[tuple[str, datetime, datetime | None]]  # system, start, end or None
    maintenance: Sequence[tuple[str | None, datetime, datetime]]  # system or None, start, end


def build(config: StatusPageConfig, readings: Readings, *, now: datetime, tz: ZoneInfo) -> StatusPage:
    now = now.astimezone(timezone.utc)
    today = now.astimezone(tz).date()
    since = day_start(today - timedelta(days=config.days - 1), tz)
    services = []
    for s in config.services:
        held = [(a, b) for who, a, b in readings.maintenance if who is None or who == s.system]
        open_outage = any(code == s.system and end is None for code, _, end in readings.outages)
        state = current_state(readings.health.get(s.system), in_maintenance=in_any(now, held), outage_open=open_outage)
        bars = day_bars(readings.minutes.get(s.system, {}), held, today=today, days=config.days, tz=tz, now=now,
                        bands=config.bands)
        services.append(ServiceStatus(s, state, tuple(bars)))
    events = incidents(config.services, readings.outages, readings.maintenance, since=since,
                       until=now + timedelta(days=config.upcoming_days))
    return StatusPage(now, tuple(services), tuple(events), config.days)


def read(dsn: str, config: StatusPageConfig, *, status_rules, down_below: float, outage_rules: Sequence[str],
         tz: ZoneInfo, now: datetime) -> Readings:
    """What the page needs from the database: four queries, whatever the number of services."""
    from agents.indicators.health import system_statuses
    from agents.indicators.queries.health import STATUS_SQL
    from agents.indicators.queries.status_page import DAYS, MAINTENANCE, OUTAGES
    from streams.db.connect import connect
    from streams.db.errors import translated

    systems = [s.system for s in config.services]
    today = now.astimezone(tz).date()
    params = {"systems": systems, "since": day_start(today - timedelta(days=config.days - 1), tz), "until": now,
              "ahead": now + timedelta(days=config.upcoming_days), "tz": tz.key, "down_below": down_below,
              "rules": list(outage_rules), "window_s": status_rules.window_s}
    what = "cannot read the status page"
    with connect(dsn, what=what, role="status-page", dict_rows=True) as conn, translated(what):
        days = conn.execute(DAYS, params).fetchall()
        status = conn.execute(STATUS_SQL, params).fetchall()
        held = conn.execute(MAINTENANCE, params).fetchall()
        alerts = conn.execute(OUTAGES, params).fetchall()
    minutes: dict[str, dict[date, tuple[int, int]]] = {s: {} for s in systems}
    for r in days:
        minutes[r["system"]][r["day"]] = (int(r["up"]), int(r["down"]))
    health = system_statuses([r for r in status if r["system"] in minutes], systems, now=now, rules=status_rules)
    return Readings(minutes, {code: h.status for code, h in health.items()},
                    [(r["entity"], r["started_at"], r["resolved_at"]) for r in alerts],
                    [(r["system"], r["starts_at"], r["ends_at"]) for r in held])

"""Maintenance windows: one-off or recurring, expanded into occurrences.

A recurring window is a weekly rule in local time (``days``, ``start`` "HH:MM", ``minutes``).
Occurrences are materialised in the database for the days ahead, so uptime and alert
silencing only ever look at concrete intervals.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from streams.core.clock import LOCAL_TZ_NAME
from streams.core.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    days: tuple[str, ...]
    start: time
    minutes: int
    tz: str = LOCAL_TZ_NAME

    @classmethod
    def parse(cls, doc: dict) -> WeeklyRule:
        try:
            days = tuple(d.lower()[:3] for d in doc["days"])
            hh, mm = (int(x) for x in str(doc["start"]).split(":"))
            minutes = int(doc["minutes"])
            rule = cls(days, time(hh, mm), minutes, doc.get("tz", LOCAL_TZ_NAME))
            ZoneInfo(rule.tz)
        except (KeyError, ValueError, TypeError) as exc:
            raise ConfigError(f"maintenance rule {doc!r}: expected days, start 'HH:MM', minutes ({exc})") from None
        bad = [d for d in days if d not in DAYS]
        if bad or not days:
            raise ConfigError(f"maintenance rule: unknown days {bad}; use {', '.join(DAYS)}")
        if not 0 < minutes <= 7 * 24 * 60:
            raise ConfigError(f"maintenance rule: minutes must be 1..10080, got {minutes}")
        return rule

    def to_doc(self) -> dict:
        return {"days": list(self.days), "start": self.start.strftime("%H:%M"), "minutes": self.minutes, "tz": self.tz}


def occurrences(rule: WeeklyRule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Occurrences (UTC) that overlap [start, end)."""
    tz = ZoneInfo(rule.tz)
    out = []
    day: date = (start - timedelta(minutes=rule.minutes)).astimezone(tz).date()
    last: date = end.astimezone(tz).date()
    while day <= last:
        if DAYS[day.weekday()] in rule.days:
            s = datetime.combine(day, rule.start, tzinfo=tz).astimezone(timezone.utc)
            e = s + timedelta(minutes=rule.minutes)
            if s < end and e > start:
                out.append((s, e))
        day += timedelta(days=1)
    return out


def covered(ts: datetime, length: timedelta, intervals: list[tuple[datetime, datetime]]) -> bool:
    """Whether [ts, ts + length) overlaps any interval."""
    return any(s < ts + length and e > ts for s, e in intervals)


def uptime(windows: list[tuple[datetime, int, int]], intervals: list[tuple[datetime, datetime]],
           length: timedelta = timedelta(minutes=1)) -> float | None:
    """Share of successful probes over (start, probes, probes_ok) windows outside maintenance."""
    probes = ok = 0
    for ts, p, k in windows:
        if not covered(ts, length, intervals):
            probes += p
            ok += k
    return ok / probes if probes else None

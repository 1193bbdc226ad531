"""Tumbling event-time windows aligned to the Unix epoch, and local days.

Two forms of each: on datetimes (``window_start``, ``local_day_start``), and on whole epoch
seconds (``epoch_of``, ``window_of``, ``local_day_of``), which the increments functions use per
event: one conversion of the event's time to seconds, integer arithmetic for every window, and
``at_epoch`` back to a datetime once per output row.  Both forms give the same instants.
"""
from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache

from streams.core.clock import LOCAL_TZ

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
SECOND = timedelta(seconds=1)
DAY_S = 86_400


def window_start(ts: datetime, size_s: int) -> datetime:
    """Start of the ``size_s``-second window that holds ``ts``."""
    return at_epoch(window_of(epoch_of(ts), size_s))


def local_day_start(ts: datetime, tz: tzinfo = LOCAL_TZ) -> datetime:
    """The local midnight that starts ``ts``'s day (Asia/Ho_Chi_Minh by default), in UTC."""
    return at_epoch(local_day_of(epoch_of(ts), tz))


def epoch_of(ts: datetime) -> int:
    """Whole seconds from the Unix epoch to ``ts`` (an aware datetime), rounded down."""
    return (ts - EPOCH) // SECOND


def window_of(seconds: int, size_s: int) -> int:
    """Start, in epoch seconds, of the ``size_s``-second window that holds ``seconds``."""
    return seconds - seconds % size_s


@lru_cache(maxsize=8192)
def at_epoch(seconds: int) -> datetime:
    """The UTC datetime of whole epoch ``seconds`` (window starts repeat: kept, they are immutable)."""
    return EPOCH + timedelta(seconds=seconds)


def local_day_of(seconds: int, tz: tzinfo = LOCAL_TZ) -> int:
    """The local midnight that starts the day holding epoch ``seconds``, in epoch seconds."""
    return _days(tz).start_of(seconds)


def _midnight(day: date, tz: tzinfo) -> datetime:
    """The local midnight of ``day`` in UTC; at the calendar's edges (0001-01-01 east of UTC, 9999-12-31
    west of it) the instant does not exist in UTC, and the first or last one that does stands for it."""
    try:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
    except OverflowError:
        return datetime.min.replace(tzinfo=timezone.utc) if day.year == 1 else datetime.max.replace(tzinfo=timezone.utc)


class LocalDays:
    """The local days of one time zone met so far, as sorted [start, end) spans in epoch seconds.

    A day is kept only when the zone's offset is the same at both of its ends (no change of
    offset inside it); any other day is computed on datetimes each time, as ``local_day_start``."""

    MAX_DAYS = 4096

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self.starts: list[int] = []
        self.ends: list[int] = []

    def start_of(self, seconds: int) -> int:
        i = bisect_right(self.starts, seconds) - 1
        if i >= 0 and seconds < self.ends[i]:
            return self.starts[i]
        day = at_epoch(seconds).astimezone(self.tz).date()
        start = _midnight(day, self.tz)
        end = _midnight(day + timedelta(days=1), self.tz)
        first = epoch_of(start)
        if start.astimezone(self.tz).utcoffset() == (end - SECOND).astimezone(self.tz).utcoffset():
            if len(self.starts) >= self.MAX_DAYS:
                self.starts.clear()
                self.ends.clear()
            i = bisect_right(self.starts, first)
            self.starts.insert(i, first)
            self.ends.insert(i, epoch_of(end))
        return first


@lru_cache(maxsize=16)
def _days(tz: tzinfo) -> LocalDays:
    return LocalDays(tz)

"""Tumbling event-time windows aligned to the Unix epoch."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone, tzinfo

from streams.core.clock import LOCAL_TZ

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_start(ts: datetime, size_s: int) -> datetime:
    """Start of the ``size_s``-second window that holds ``ts``."""
    seconds = (ts - EPOCH) // timedelta(seconds=1)
    return EPOCH + timedelta(seconds=seconds - seconds % size_s)


def local_day_start(ts: datetime, tz: tzinfo = LOCAL_TZ) -> datetime:
    """The local midnight that starts ``ts``'s day (Asia/Ho_Chi_Minh by default), in UTC."""
    day = ts.astimezone(tz).date()
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)

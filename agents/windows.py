"""Tumbling event-time windows aligned to the Unix epoch."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def window_start(ts: datetime, size_s: int) -> datetime:
    """Start of the ``size_s``-second window that holds ``ts``."""
    seconds = (ts - EPOCH) // timedelta(seconds=1)
    return EPOCH + timedelta(seconds=seconds - seconds % size_s)

"""Now, and the province's local time zone (Vietnam: UTC+7 all year, no daylight saving)."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

#: the IANA name, for settings and data files that name a zone
LOCAL_TZ_NAME = "Asia/Ho_Chi_Minh"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)

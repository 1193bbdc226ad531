"""Windows and local days on epoch seconds give the same instants as the datetime definitions."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.core.clock import LOCAL_TZ
from streams.core.windows import (EPOCH, LocalDays, at_epoch, epoch_of, local_day_of, local_day_start, window_of,
                                  window_start)

SIZES = st.sampled_from([1, 7, 10, 60, 300, 3600, 86_400])
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
INSTANTS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=OFFSETS)


def reference_window_start(ts: datetime, size_s: int) -> datetime:
    seconds = (ts - EPOCH) // timedelta(seconds=1)
    return EPOCH + timedelta(seconds=seconds - seconds % size_s)


def reference_local_day_start(ts: datetime, tz=LOCAL_TZ) -> datetime:
    day = ts.astimezone(tz).date()
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)


@settings(max_examples=1000, deadline=None)
@given(INSTANTS, SIZES)
def test_window_on_epoch_seconds_is_the_datetime_window(ts, size):
    expected = reference_window_start(ts, size)
    assert at_epoch(window_of(epoch_of(ts), size)) == expected
    got = window_start(ts, size)
    assert got == expected and got.tzinfo is timezone.utc


@settings(max_examples=1000, deadline=None)
@given(INSTANTS)
def test_local_day_on_epoch_seconds_is_the_datetime_day(ts):
    expected = reference_local_day_start(ts)
    assert at_epoch(local_day_of(epoch_of(ts))) == expected
    assert local_day_start(ts) == expected


@settings(max_examples=1000, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=OFFSETS),
       st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe", "America/St_Johns"]))
def test_local_days_hold_across_offset_changes(ts, zone):
    tz = ZoneInfo(zone)
    assert at_epoch(local_day_of(epoch_of(ts), tz)) == reference_local_day_start(ts, tz)


def test_every_second_around_local_midnight_and_negative_epochs():
    days = LocalDays(LOCAL_TZ)
    for base in (datetime(2026, 12, 1, 17, 0, tzinfo=timezone.utc), datetime(1969, 12, 31, 17, 0, tzinfo=timezone.utc),
                 datetime(1975, 6, 12, 16, 0, tzinfo=timezone.utc)):
        for delta in range(-90, 90):
            ts = base + timedelta(seconds=delta, microseconds=999_999 if delta % 2 else 0)
            assert at_epoch(days.start_of(epoch_of(ts))) == reference_local_day_start(ts), ts


def test_epoch_seconds_round_down_before_1970():
    assert epoch_of(datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=timezone.utc)) == -1
    assert window_of(-1, 60) == -60

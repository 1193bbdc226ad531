from datetime import timedelta
from itertools import islice

from streams.core.backoff import Backoff
from tests.notify.conftest import T0


def test_delay_doubles_from_five_seconds_to_ten_minutes():
    b = Backoff(base_s=5, max_s=600)
    assert [b.delay(n).total_seconds() for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 320, 600, 600]
    assert b.delay(0) == timedelta(0)
    assert b.delay(10_000) == timedelta(seconds=600)  # no overflow


def test_schedule_is_cumulative():
    assert Backoff(base_s=5, max_s=600).schedule(9) == [5, 15, 35, 75, 155, 315, 635, 1235, 1835]


def test_gives_up_after_max_attempts():
    b = Backoff(base_s=5, max_s=600, max_attempts=3)
    assert b.next_attempt(2, T0, T0) == T0 + timedelta(seconds=10)
    assert b.next_attempt(3, T0, T0) is None


def test_gives_up_past_max_age():
    b = Backoff(base_s=5, max_s=600, max_age=timedelta(hours=1))
    late = T0 + timedelta(minutes=59, seconds=58)
    assert b.next_attempt(1, T0, T0 + timedelta(minutes=50)) is not None
    assert b.next_attempt(1, T0, late) is None  # the retry would fall after the hour


def test_retry_after_lengthens_never_shortens():
    b = Backoff(base_s=5, max_s=600)
    assert b.next_attempt(1, T0, T0, retry_after=30) == T0 + timedelta(seconds=30)
    assert b.next_attempt(4, T0, T0, retry_after=1) == T0 + timedelta(seconds=40)


def test_never_gives_up_without_limits():
    assert Backoff(base_s=5, max_s=60).next_attempt(10_000, T0, T0 + timedelta(days=30)) is not None


def test_delays_for_retrying_until_it_works_double_then_stay_at_the_longest():
    assert list(islice(Backoff(0.5, 4).delays(), 7)) == [0.5, 1, 2, 4, 4, 4, 4]
    assert list(islice(Backoff(0.01, 0.01).delays(), 3)) == [0.01, 0.01, 0.01]

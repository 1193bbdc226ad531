from datetime import datetime, timedelta, timezone

import pytest

from agents.indicators.housekeeping import plan_occurrences
from agents.indicators.maintenance import WeeklyRule, covered, occurrences, uptime
from streams.core.errors import ConfigError

UTC = timezone.utc


def test_weekly_rule_in_local_time():
    rule = WeeklyRule.parse({"days": ["sun"], "start": "01:00", "minutes": 120})
    occ = occurrences(rule, datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 12, 8, tzinfo=UTC))
    # Sundays 29/11 and 06/12, 01:00 in Vietnam = 18:00 UTC the day before
    assert occ == [
        (datetime(2026, 11, 28, 18, 0, tzinfo=UTC), datetime(2026, 11, 28, 20, 0, tzinfo=UTC)),
        (datetime(2026, 12, 5, 18, 0, tzinfo=UTC), datetime(2026, 12, 5, 20, 0, tzinfo=UTC)),
    ]


def test_an_occurrence_already_running_at_the_start_is_included():
    rule = WeeklyRule.parse({"days": ["sat"], "start": "23:30", "minutes": 90})
    occ = occurrences(rule, datetime(2026, 11, 28, 17, 0, tzinfo=UTC), datetime(2026, 11, 28, 18, 0, tzinfo=UTC))
    assert occ == [(datetime(2026, 11, 28, 16, 30, tzinfo=UTC), datetime(2026, 11, 28, 18, 0, tzinfo=UTC))]


@pytest.mark.parametrize("doc", [{"days": ["funday"], "start": "01:00", "minutes": 5},
                                 {"days": ["mon"], "start": "1am", "minutes": 5},
                                 {"days": ["mon"], "start": "01:00", "minutes": 0},
                                 {"start": "01:00", "minutes": 5}])
def test_bad_rules_are_refused(doc):
    with pytest.raises(ConfigError):
        WeeklyRule.parse(doc)


def test_uptime_leaves_maintenance_out():
    t0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
    windows = [(t0 + timedelta(minutes=i), 6, 6 if not 10 <= i < 20 else 0) for i in range(60)]
    assert uptime(windows, []) == pytest.approx(50 / 60)
    maint = [(t0 + timedelta(minutes=10), t0 + timedelta(minutes=20))]
    assert uptime(windows, maint) == 1.0
    assert covered(t0 + timedelta(minutes=9, seconds=30), timedelta(minutes=1), maint)
    assert uptime([], maint) is None


def test_plan_expands_recurring_and_keeps_one_off():
    now = datetime(2026, 11, 27, tzinfo=UTC)
    rows = plan_occurrences([
        (1, "dvc", now, now + timedelta(hours=1), None),
        (2, None, None, None, {"days": ["mon", "thu"], "start": "02:00", "minutes": 30}),
    ], now)
    assert rows[0] == (1, "dvc", now, now + timedelta(hours=1))
    # Mon 30/11, Thu 3/12, Mon 7/12, Thu 10/12 at 02:00 local (19:00 UTC the day before)
    assert [r[2].day for r in rows if r[0] == 2] == [29, 2, 6, 9]

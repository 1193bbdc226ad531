"""The shipped ``source_quiet`` rule over a producer busy by day and silent by night: it pages when the
producer stops in a busy hour, never through the night it is always silent, and not for the first
minutes of the morning before it starts."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from agents.alerting.derived import source_quiet_values
from agents.alerting.evaluate import evaluate
from agents.alerting.rules import load_rules
from agents.alerting.state import FIRING, PENDING
from agents.indicators.producers import HOUR, WEEK, hour_start, load_source_rules
from streams.core.clock import LOCAL_TZ

ROOT = Path(__file__).resolve().parents[3]
(RULE,) = [r for r in load_rules([ROOT / "deploy" / "rules" / "ioc.yaml"]) if r.name == "source_quiet"]
SOURCES = load_source_rules()
DAY = datetime(2026, 12, 2, tzinfo=LOCAL_TZ)  # a Wednesday, local midnight
ENTITY = "health:eoffice"


def busy(hour: datetime) -> int:
    """What e-office sent in an hour of past weeks: 600 events an hour from 07:00 to 17:00 local, none else."""
    return 600 if 7 <= hour.astimezone(LOCAL_TZ).hour < 17 else 0


def history(at: datetime) -> list[dict]:
    """The rows of PRODUCER_HISTORY at ``at``: the same hours of the last 8 weeks (night hours have no row)."""
    h0 = hour_start(at.astimezone(timezone.utc))
    since = h0 - 6 * WEEK
    rows = [{"family": None, "producer": None, "hour": None, "received": None, "last_arrival": None, "since": since}]
    for k in range(1, 9):
        for hour in (h0 - k * WEEK, h0 - HOUR - k * WEEK):
            if hour >= since and busy(hour):
                rows.append({"family": "health", "producer": "eoffice", "hour": hour, "received": busy(hour),
                             "last_arrival": hour + timedelta(minutes=59, seconds=55), "since": since})
    return rows


def pager(start: datetime, end: datetime, last_arrival) -> list[tuple[datetime, str]]:
    """The engine's rounds every 30 s; ``last_arrival(at)``: the producer's newest arrival then."""
    states: dict = {}
    out = []
    at = start
    while at <= end:
        recent = [{"family": "health", "producer": "eoffice", "received": 10, "received_last": 600,
                   "last_arrival": last_arrival(at)}]
        values = source_quiet_values(recent, history(at), SOURCES, at)
        states, transitions = evaluate([RULE], values, states, at)
        out += [(t.at, t.new) for t in transitions if t.entity == ENTITY]
        at += timedelta(seconds=30)
    return out


def test_a_producer_that_stops_in_a_busy_hour_pages_after_ten_missed_events_and_five_minutes():
    stops = DAY + timedelta(hours=10, minutes=5)
    changes = pager(DAY + timedelta(hours=10), DAY + timedelta(hours=10, minutes=40),
                    lambda at: min(at, stops) - timedelta(seconds=2))
    fired = [at for at, new in changes if new == FIRING]
    # ten events of 600 an hour are a minute's worth; then the rule's five minutes
    assert len(fired) == 1 and stops + timedelta(minutes=6) <= fired[0] <= stops + timedelta(minutes=7), changes


def test_the_night_it_is_always_silent_pages_nothing():
    last = DAY - timedelta(hours=7)  # 17:00 the day before
    assert pager(DAY - timedelta(hours=6), DAY + timedelta(hours=6, minutes=59), lambda at: last) == []


def test_the_morning_before_its_first_events_is_not_paged_and_a_producer_that_never_starts_is():
    last = DAY - timedelta(hours=7)
    starts = DAY + timedelta(hours=7, minutes=3)
    changes = pager(DAY + timedelta(hours=6, minutes=50), DAY + timedelta(hours=7, minutes=30),
                    lambda at: last if at < starts else at - timedelta(seconds=2))
    assert FIRING not in [new for _, new in changes], changes
    never = pager(DAY + timedelta(hours=6, minutes=50), DAY + timedelta(hours=7, minutes=30), lambda at: last)
    assert [new for _, new in never][:2] == [PENDING, FIRING]

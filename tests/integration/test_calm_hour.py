"""The calm-day budget: an hour of the demo's background security feed raises no finding worth a page.

One simulated weekday office hour and one night hour (fixed seed, the simulators' own clock, the
demo's rate, no campaign, no drill), written through the real sink into this run's database, the
detectors run every 15 s of simulated time.  The bounds are those of docs/reliability.md
("Calm-day budget"); ``-s`` prints the table.
"""
from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

import pytest

from simulators.calm import calm_hour
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from agents.worker.detectors import DetectorStore
from agents.worker.sinks.timescale import TimescaleSink

#: (kind, severity) -> most findings in the hour; anything not listed must be 0
BOUNDS = {
    ("national", "low"): 5,
    ("national", "medium"): 5,
    ("malware", "medium"): 10,
}


def last_weeks_tuesday(at: time) -> datetime:
    """A Tuesday of last week at ``at`` local time (the simulators depend on the weekday and hour, not the date)."""
    today = datetime.now(LOCAL_TZ).date()
    tuesday = today - timedelta(days=today.weekday() - 1 + 7)
    return datetime.combine(tuesday, at, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize("hour", [time(9, 0), time(2, 0)], ids=["office-09h", "night-02h"])
def test_a_calm_hour_has_no_high_or_critical_finding(test_settings, hour):
    province = load_province(test_settings.province_file)
    start = last_weeks_tuesday(hour)

    async def run():
        sink = TimescaleSink(test_settings.dsn)
        await sink.open()
        try:
            return await calm_hour(sink, DetectorStore(sink.pool), province, start, seed=13)
        finally:
            await sink.close()

    result = asyncio.run(run())
    print("\n" + result.table())
    assert result.runs == 240 and result.events > 400_000  # every 15 s for an hour, at the demo's rate
    counts = result.by_kind_and_severity()
    over = {key: n for key, n in counts.items() if n > BOUNDS.get(key, 0)}
    assert not over, f"over the calm-day budget: {over}\n{result.table()}"

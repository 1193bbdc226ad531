from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from agents.indicators.health import HEALTH_FEED
from streams.core.errors import SinkUnavailable
from streams.core.contracts.health import RequestLog
from streams.core.tables import SourceStats
from agents.worker.sinks.timescale import TimescaleSink

T0 = datetime(2026, 11, 27, 2, 0, 0, tzinfo=timezone.utc)


def req(i, latency):
    return RequestLog(id=f"sink-{i}", type="RequestLog", system="baocao", endpoint="/", dateObserved=T0 + timedelta(
        milliseconds=i), method="GET", status_code=200 if i % 5 else 502, latency_ms=latency, client_ip="10.1.2.3")


async def test_write_is_idempotent_and_sql_quantiles_match_python(test_settings, db):
    sink = TimescaleSink(test_settings.dsn)
    events = [req(i, 1.0 + i * 3.7) for i in range(500)]
    stats = SourceStats("health", T0, len(events), 0)
    try:
        first = await sink.write(HEALTH_FEED, events[:300], stats)
        second = await sink.write(HEALTH_FEED, events, stats)  # 300 already there
        third = await sink.write(HEALTH_FEED, events + events[:10], stats)  # everything twice
    finally:
        await sink.close()
    assert (first.fresh, second.fresh, second.duplicates, third.fresh, third.duplicates) == (300, 200, 300, 0, 510)
    requests, errors, p50, p95, p99 = db.execute(
        """SELECT requests, errors, ioc_hist_quantile(latency_hist, .5), ioc_hist_quantile(latency_hist, .95),
                  ioc_hist_quantile(latency_hist, .99)
           FROM health_window WHERE system = 'baocao' AND endpoint = '*' AND window_s = 60 AND time = %s""", (T0,)
    ).fetchone()
    assert (requests, errors) == (500, 100)
    hist = sketch.from_values(e.latency_ms for e in events)
    assert [p50, p95, p99] == pytest.approx([sketch.quantile(hist, q) for q in (0.5, 0.95, 0.99)], rel=1e-9)


async def test_unreachable_database_is_reported_as_unavailable():
    sink = TimescaleSink("postgresql://ioc@127.0.0.1:1/nowhere")
    with pytest.raises(SinkUnavailable):
        await sink.open(wait_s=1)
    await sink.close()


async def test_a_sink_that_could_not_connect_keeps_trying_afterwards():
    # psycopg_pool closes a pool whose first wait times out: a worker started while the database
    # was down then reported "the pool is already closed" for ever, even once the database was back
    sink = TimescaleSink("postgresql://ioc@127.0.0.1:1/nowhere")
    for _ in range(3):
        with pytest.raises(SinkUnavailable, match="not reachable"):
            await sink.open(wait_s=0.3)
    await sink.close()

"""The worker's three users of the database on one pool: the feed writer (``TimescaleSink``), the
detectors' store (reads at a given time, findings) and the housekeeping store (heartbeat)."""
from datetime import datetime, timedelta, timezone

from agents.indicators.security import SECURITY_FEED, detect_at
from agents.worker.detectors import DetectorStore
from agents.worker.housekeeping import HousekeepingStore
from agents.worker.sinks.timescale import TimescaleSink
from streams.core.contracts.security import AuthFailure
from streams.core.tables import SourceStats
from streams.db.connect import AsyncPool

SOURCE = "203.0.113.201"  # an address no other test of the run uses (the database is shared)


def failure(i: int, at: datetime) -> AuthFailure:
    return AuthFailure(id=f"ws-{i}", type="AuthFailure", dateObserved=at, system="ws-target", src_ip=SOURCE,
                       service="ssh", action="blocked", severity="low")


async def test_detectors_read_what_the_sink_wrote_at_the_time_they_are_given(test_settings, db):
    at = (datetime.now(timezone.utc) - timedelta(days=2)).replace(second=0, microsecond=0)
    pool = AsyncPool(test_settings.dsn, role="worker")
    sink, detectors = TimescaleSink(pool), DetectorStore(pool)
    try:
        await sink.write(SECURITY_FEED, [failure(i, at + timedelta(seconds=i)) for i in range(25)],
                         SourceStats("security", at, 25, 0))
        then = [f for f in await detect_at(detectors, at + timedelta(minutes=2)) if f.subject == SOURCE]
        later = [f for f in await detect_at(detectors, at + timedelta(minutes=30)) if f.subject == SOURCE]
        saved = await detectors.save_findings(then)
    finally:
        await sink.close()
    try:
        assert [(f.kind, f.target, f.severity, f.value) for f in then] == [("brute_force", "ws-target", "medium", 25)]
        assert later == []  # the window ending at ``now`` no longer holds them
        assert saved == 1
        assert db.execute("SELECT kind, target, value FROM security_finding WHERE subject = %s",
                          (SOURCE,)).fetchall() == [("brute_force", "ws-target", 25.0)]
    finally:
        db.execute("DELETE FROM security_finding WHERE subject = %s", (SOURCE,))


async def test_the_heartbeat_is_written_through_the_pool_the_sink_shares(test_settings, db):
    pool = AsyncPool(test_settings.dsn, role="worker")
    sink, housekeeping = TimescaleSink(pool), HousekeepingStore(pool)
    name = f"ws-worker-{datetime.now(timezone.utc).timestamp():.0f}"
    started = datetime.now(timezone.utc)
    try:
        await housekeeping.heartbeat(name, started, {"families": ["health"], "status": "ok"})  # opens the pool
        assert pool.opened
        await sink.known_ids(SECURITY_FEED, ["ws-0"])  # the sink uses the same, already open, pool
        row = db.execute("SELECT started_at, info FROM worker_heartbeat WHERE worker = %s", (name,)).fetchone()
    finally:
        await sink.close()
        db.execute("DELETE FROM worker_heartbeat WHERE worker = %s", (name,))
    assert row == (started, {"families": ["health"], "status": "ok"})
    assert not pool.opened  # closing the sink closed the worker's pool

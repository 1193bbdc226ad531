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


def finding(severity: str, value: float, seen: datetime, detail: str = "") -> "Finding":
    from agents.indicators.security import Finding
    return Finding(kind="port_scan", subject=SOURCE, target="ws-host", severity=severity, layer=3, value=value,
                   threshold=10.0, detail=detail, seen=seen)


def test_findings_of_one_key_are_merged_as_one_upsert_after_another_would_leave_them():
    from agents.worker.detectors import finding_rows

    at = datetime(2026, 12, 3, 10, 1, tzinfo=timezone.utc)
    rows = finding_rows([finding("high", 40, at + timedelta(seconds=30), "a"), finding("medium", 12, at, "b"),
                         finding("low", 5, at + timedelta(minutes=5), "next bucket")])
    assert rows == [
        (datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc), "port_scan", SOURCE, "ws-host", "medium", 3, 40, 10.0,
         "b", at + timedelta(seconds=30), at + timedelta(seconds=30)),
        (datetime(2026, 12, 3, 10, 5, tzinfo=timezone.utc), "port_scan", SOURCE, "ws-host", "low", 3, 5, 10.0,
         "next bucket", at + timedelta(minutes=5), at + timedelta(minutes=5))]


async def test_findings_are_upserted_in_one_statement_and_an_unchanged_one_is_left_alone(test_settings, db):
    from agents.indicators.security import Finding

    at = (datetime.now(timezone.utc) - timedelta(days=3)).replace(minute=1, second=0, microsecond=0)
    detectors = DetectorStore(AsyncPool(test_settings.dsn, role="worker"))
    query = ("SELECT severity, value, detail, first_seen, last_seen, xmin::text FROM security_finding "
             "WHERE subject = %s AND kind = 'port_scan'")
    try:
        assert await detectors.save_findings([finding("medium", 12, at, "b"),
                                              finding("high", 40, at + timedelta(seconds=30), "a")]) == 1
        first = db.execute(query, (SOURCE,)).fetchall()
        assert await detectors.save_findings([finding("high", 40, at + timedelta(seconds=30), "a")]) == 1
        same = db.execute(query, (SOURCE,)).fetchall()
        # findings of several kinds in one run: counts (ints) beside rates (floats)
        spike = Finding(kind="request_spike", subject=SOURCE, target="ws-host", severity="high", layer=2,
                        value=812.5, threshold=240.25, detail="rate", seen=at)
        assert await detectors.save_findings([finding("critical", 30, at + timedelta(seconds=50), "c"), spike]) == 2
        later = db.execute(query, (SOURCE,)).fetchall()
        outbox = db.execute("SELECT op, finding->>'severity' FROM soc_outbox WHERE finding->>'subject' = %s "
                            "AND finding->>'kind' = 'port_scan' ORDER BY id", (SOURCE,)).fetchall()
    finally:
        await detectors.pool.close()
        db.execute("DELETE FROM security_finding WHERE subject = %s", (SOURCE,))
        db.execute("DELETE FROM soc_outbox WHERE finding->>'subject' = %s AND finding->>'kind' IN "
                   "('port_scan', 'request_spike')", (SOURCE,))
    assert [r[:5] for r in first] == [("high", 40.0, "a", at, at + timedelta(seconds=30))]
    assert same == first  # nothing changed: the row version is the same (xmin)
    assert [r[:5] for r in later] == [("critical", 40.0, "c", at, at + timedelta(seconds=50))]
    assert outbox == [("new", "high"), ("update", "critical")]


async def test_firewall_fan_out_is_read_per_source_from_what_the_sink_wrote(test_settings, db):
    """A source probing 25 ports of one host and another sweeping port 445 on 12 hosts (one let
    through) are read; a source as busy but outbound, a client opening 30 connections to one service,
    and visitors with a few connections, are not."""
    from streams.core.contracts.security import FirewallLog

    at = (datetime.now(timezone.utc) - timedelta(days=4)).replace(second=0, microsecond=0)
    ids = iter(range(10_000))

    def log(src, dst, port, *, action="blocked", direction="inbound", system=None):
        return FirewallLog(id=f"fan-{at.timestamp():.0f}-{next(ids)}", type="FirewallLog",
                           dateObserved=at + timedelta(seconds=len(events)), device="fw-fan", system=system,
                           src_ip=src, src_port=40000, dst_ip=dst, dst_port=port, protocol="tcp", action=action,
                           direction=direction, severity="low")

    events: list = []
    for port in range(1000, 1025):
        events.append(log("203.0.113.41", "10.9.0.5", port, system="fan-gis"))
    for host in range(1, 13):
        events.append(log("203.0.113.42", f"10.9.0.{host}", 445, action="allowed" if host == 3 else "blocked"))
    for port in range(2000, 2030):
        events.append(log("10.9.9.9", "198.51.100.9", port, action="allowed", direction="outbound"))
    for _ in range(30):
        events.append(log("192.0.2.200", "10.9.0.5", 443, action="allowed", system="fan-gis"))
    for i in range(40):
        events.append(log(f"192.0.2.{i + 1}", "10.9.0.5", 443, action="allowed", system="fan-gis"))
    pool = AsyncPool(test_settings.dsn, role="worker")
    sink, detectors = TimescaleSink(pool), DetectorStore(pool)
    try:
        await sink.write(SECURITY_FEED, events, SourceStats("security", at, len(events), 0))
        rows = (await detectors.security_inputs(at + timedelta(minutes=2), 5))["fanout"]
    finally:
        await sink.close()
    mine = sorted(r for r in rows if r[0].startswith(("203.0.113.4", "10.9.9.", "192.0.2.")))
    assert mine == [("203.0.113.41", "fan-gis", 25, 1000, 1, 0, at + timedelta(seconds=24)),
                    ("203.0.113.42", "10.9.0.1", 1, 445, 12, 1, at + timedelta(seconds=36))]

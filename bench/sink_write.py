"""The sink's write on its own: µs per event of ``TimescaleSink.write`` (wall, and the process's CPU)
for batches of fresh events, and for batches that are all duplicates (a replay).

    python -m bench.sink_write --dsn postgresql://ioc@127.0.0.1:5433/postgres --batches 8 --size 10000

A scratch database is created (and dropped afterwards) from the admin DSN and migrated; health
request logs and security firewall logs of distinct ids are written in batches of ``--size``
events, one transaction each, in the same process.  Building the events is not timed; building
the rows, the SQL round trips and the increments are (what a worker pays per batch).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import datetime, timedelta


from agents.indicators.health import HEALTH_FEED
from agents.indicators.security import SECURITY_FEED
from streams.db.scratch import scratch_database
from streams.core.contracts.health import RequestLog
from streams.core.contracts.security import FirewallLog
from streams.core.tables import SourceStats
from agents.worker.sinks.timescale import TimescaleSink
from streams.core.clock import utcnow


def health_batch(n: int, start: int, at: datetime) -> list[RequestLog]:
    return [RequestLog(id=f"bench-h-{start + i}", type="RequestLog", system=f"sys{i % 12}", endpoint=f"/e{i % 7}",
                       dateObserved=at + timedelta(microseconds=37 * i), method="GET",
                       status_code=200 if i % 20 else 503, latency_ms=5.0 + i % 900, client_ip="10.1.2.3")
            for i in range(n)]


def security_batch(n: int, start: int, at: datetime) -> list[FirewallLog]:
    return [FirewallLog(id=f"bench-s-{start + i}", type="FirewallLog", dateObserved=at + timedelta(microseconds=37 * i),
                        device=f"fw{i % 3}", system=f"sys{i % 12}", src_ip=f"203.0.{i % 200}.{i % 250 + 1}",
                        src_port=1024 + i % 60000, dst_ip="10.0.0.5", dst_port=443, protocol="tcp",
                        action="blocked" if i % 4 else "allowed", direction="inbound", severity="low")
            for i in range(n)]


async def run(dsn: str, batches: int, size: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall and CPU µs per event of each batch, by family and fresh / replay."""
    sink = TimescaleSink(dsn)
    out: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    now = utcnow().replace(microsecond=0) - timedelta(minutes=5)
    try:
        for family, spec, make in (("health", HEALTH_FEED, health_batch), ("security", SECURITY_FEED, security_batch)):
            made = [make(size, b * size, now + timedelta(seconds=b)) for b in range(batches + 1)]
            stats = SourceStats(family, now, size, 0)
            await sink.write(spec, made[0], stats)  # warm: pool, prepared plans, first chunk
            for label, batch_list in (("fresh", made[1:]), ("replay", made[1:])):
                times = out.setdefault(f"{family} {label}", [])
                for events in batch_list:
                    t0, c0 = time.perf_counter(), time.process_time()
                    result = await sink.write(spec, events, stats)
                    times.append((time.perf_counter() - t0) / len(events) * 1e6)
                    cpu.setdefault(f"{family} {label}", []).append((time.process_time() - c0) / len(events) * 1e6)
                    expect = (size, 0) if label == "fresh" else (0, size)
                    assert (result.fresh, result.duplicates) == expect, (label, result)
    finally:
        await sink.close()
    return out, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dsn", default="postgresql://ioc@127.0.0.1:5433/postgres", help="admin DSN")
    ap.add_argument("--batches", type=int, default=8)
    ap.add_argument("--size", type=int, default=10_000)
    args = ap.parse_args()
    name = f"ioc_bench_sink_{uuid.uuid4().hex[:8]}"
    with scratch_database(args.dsn, name) as dsn:
        results, cpu = asyncio.run(run(dsn, args.batches, args.size))
    for label, values in results.items():
        print(f"{label:18s} µs/event median {statistics.median(values):6.1f}  min {min(values):6.1f}  "
              f"max {max(values):6.1f}  CPU median {statistics.median(cpu[label]):6.1f}  "
              f"({len(values)} batches of {args.size})")


if __name__ == "__main__":
    main()

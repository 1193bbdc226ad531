"""Memory of a worker draining a backlog of large JSON arrays, per cap on the events of one
transaction (``IOC_BATCH_MAX_EVENTS``) and on the bytes of one batch (``IOC_BATCH_MAX_BYTES``):
``python -m bench.batch_memory [--events N] [--caps 10000,0] [--bytes 4194304,0] [--rounds 2]``.

A batch is up to ``IOC_BATCH_MAX`` messages; with arrays of 400 events that is up to 800,000
events, decoded at once before the first is written.  For each pair of caps (0: none), in rounds
alternating them, the same backlog goes to fresh topics, one worker drains it from the start, and
its peak RSS (sampled every 0.2 s) and drain time are printed.  Uses the local stack (``deploy/stack.sh start``), like ``make bench``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.env import BenchEnv, start_stack
from bench.feed import package, simulate_pool
from bench.kafka_io import Ids, Producer
from bench.procs import Proc, rss_mib
from streams.core.geography import load_province
from streams.core.topics import topic_name
from streams.db.connect import Connection, connect

UNCAPPED = 1_000_000_000


def _accepted(conn: Connection) -> int:
    return conn.execute("SELECT coalesce(sum(accepted), 0)::bigint FROM source_window").fetchone()[0]


async def _produce(bootstrap: str, topics: dict[str, str], templates, events: int, prefix: str) -> int:
    producer = Producer(bootstrap, Ids(prefix))
    await producer.start()
    try:
        return (await producer.backlog(topics, templates, events)).events
    finally:
        await producer.stop()


def run(events: int, caps: list[tuple[int, int]], max_array: int, log=print) -> list[dict]:
    start_stack(log=lambda *_: None)
    env = BenchEnv()
    out = []
    conn = None
    work = Path(tempfile.mkdtemp(prefix="ioc-bench-mem-"))
    try:
        env.create_database()
        conn = connect(env.dsn, what="benchmark database", role="bench", autocommit=True)  # polled every 0.2 s
        province = load_province(env.base.province_file)
        templates = package(simulate_pool(province, 20_000), batched=True, max_batch=max_array)
        templates = [t for t in templates if t.batched] or templates  # arrays only: the worst case
        for i, (cap, max_bytes) in enumerate(caps):  # fresh topics, group and ids for every row, also for a repeated cap
            settings = env.settings(f"mem{i}")
            env.topics(settings)
            topics = {t.family: topic_name(settings, t.family) for t in templates}
            sent = asyncio.run(_produce(settings.kafka_bootstrap, topics, templates, events, f"m{i}-"))
            before = _accepted(conn)
            worker = Proc(f"worker-{i}", "bench.worker", settings, work, IOC_METRICS_PORT="0",
                          IOC_BATCH_MAX_EVENTS=str(cap or UNCAPPED), IOC_BATCH_MAX_BYTES=str(max_bytes or UNCAPPED))
            started, peak = time.monotonic(), 0.0
            try:
                while _accepted(conn) - before < sent:
                    if not worker.alive() or time.monotonic() - started > 600:
                        raise RuntimeError(f"the worker did not drain the backlog:\n{worker.log_tail()}")
                    peak = max(peak, rss_mib(worker.pid))
                    time.sleep(0.2)
                took = time.monotonic() - started
                row = {"cap": cap or "none", "max_bytes": max_bytes or "none", "events": sent, "drain_s": round(took, 1),
                       "events_per_s": round(sent / took), "peak_rss_mib": round(peak), "end_rss_mib":
                       round(rss_mib(worker.pid))}
            finally:
                worker.stop()
            log(f"bench: cap {row['cap']}, max bytes {row['max_bytes']}: {sent:,} events drained in {row['drain_s']} s "
                f"({row['events_per_s']:,}/s), worker peak RSS {row['peak_rss_mib']} MiB")
            out.append(row)
    finally:
        if conn is not None:
            conn.close()
        env.close()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.batch_memory", description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=300_000, help="backlog per cap (default 300,000)")
    p.add_argument("--caps", default="10000,0", help="IOC_BATCH_MAX_EVENTS values to compare; 0 = no cap")
    p.add_argument("--bytes", default="0", help="IOC_BATCH_MAX_BYTES values to compare; 0 = no cap")
    p.add_argument("--rounds", type=int, default=1, help="rounds over every pair of caps (default 1)")
    p.add_argument("--max-array", type=int, default=400, help="events per JSON array (default 400)")
    p.add_argument("--json", help="write the rows here too")
    args = p.parse_args(argv)
    pairs = [(int(c), int(b)) for c in args.caps.split(",") for b in args.bytes.split(",")]
    rows = run(args.events, pairs * args.rounds, args.max_array)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

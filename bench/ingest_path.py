"""CPU per event of the worker's ingest path, code trees side by side (``python -m bench.ingest_path``).

A backlog of health events is produced once (one event per message, or with ``--arrays`` JSON arrays
of up to 200); then workers of each tree (``--trees name=path[:variant],…``: the path goes first on
the child's ``PYTHONPATH``) drain it in turn, rounds interleaved (a, b, a, b, …), each with a fresh
consumer group.  A child is the tree's own ``Worker`` (``build_worker``) run by Faust's worker; with
``--sink null`` its pipelines write nowhere (the ingest path, decoding and metrics are measured),
with ``--sink db`` each run writes into a database of its own.  The child reads its process CPU time
(``time.process_time``: every thread) when 5 % and when 100 % of the backlog's events are written,
and reports µs per event between the two.

Variants of a tree with ``agents.worker.batches``: ``conductor`` keeps Faust's per-message drain and
conductor (the feed topic turns each message into a run of one, ``FeedTopic.decode``, which the
agent gathers into batches as it does runs); ``serial`` stores each batch before decoding the next
(no overlap).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve()
ADMIN_DSN = os.environ.get("IOC_TEST_ADMIN_DSN", "postgresql://ioc@127.0.0.1:5433/postgres")


def _settings(**kw):
    from streams.core.settings import Settings

    return Settings(metrics_port=0, **kw)


def _produce(settings, n: int, arrays: bool) -> tuple[int, int]:
    from bench.feed import package, simulate_pool
    from bench.kafka_io import Ids, Producer
    from streams.core.geography import load_province
    from streams.core.topics import topic_name

    pool = simulate_pool(load_province(settings.province_file), 20_000)
    templates = [t for t in package(pool, batched=arrays) if t.family == "health"]

    async def go() -> tuple[int, int]:
        producer = Producer(",".join(settings.bootstrap_servers), Ids(f"ip{uuid.uuid4().hex[:6]}-"))
        await producer.start()
        try:
            sent = await producer.backlog({"health": topic_name(settings, "health")}, templates, n)
        finally:
            await producer.stop()
        return sent.messages, sent.events

    return asyncio.run(go())


def _run_child(tree: Path, variant: str, settings_kw: dict, sink: str, expect: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "IOC_LOG_LEVEL": "WARNING"}
    cmd = [sys.executable, "-P", str(HERE), "child", "--settings", json.dumps(settings_kw), "--sink", sink,
           "--expect", str(expect), "--variant", variant]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=str(tree))
    for line in done.stdout.splitlines():
        if "RESULT " in line:
            return json.loads(line.split("RESULT ", 1)[1])
    raise RuntimeError(f"child of {tree} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")


def drive(args) -> None:
    from streams.db.scratch import create_database, drop_database
    from streams.kafka.admin import create_topics

    trees = dict(item.split("=", 1) for item in args.trees.split(","))
    run = uuid.uuid4().hex[:6]
    base = dict(topic_prefix=f"ip{run}.")
    create_topics(_settings(**base), log_fn=lambda *_: None)
    messages, events = _produce(_settings(**base), args.events, args.arrays)
    print(f"backlog: {events} health events in {messages} messages on {base['topic_prefix']}health", flush=True)
    results: dict[str, list[float]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            db = f"ioc_ip_{run}_{name}_{r}"
            dsn = create_database(ADMIN_DSN, db) if args.sink == "db" else "postgresql://ioc@127.0.0.1:5433/none"
            try:
                kw = dict(base, app_id=f"ioc-ip-{run}-{name}-{r}", database_url=dsn)
                path, _, variant = tree.partition(":")
                res = _run_child(Path(path), variant or "tree", kw, args.sink, events)
            finally:
                if args.sink == "db":
                    drop_database(ADMIN_DSN, db)
            per_event = res["us_per_event"]
            results[name].append(per_event)
            print(f"round {r + 1} {name}: {per_event:.1f} µs CPU per event, {per_event * events / messages:.1f} per "
                  f"message ({res['events']} events in {res['wall_s']:.1f} s, {res['cores']:.2f} cores, "
                  f"{res.get('events_per_batch') or 0:.0f} events per batch)", flush=True)
    for name, values in results.items():
        print(f"{name}: median {statistics.median(values):.1f} µs per event over {len(values)} runs: "
              f"{', '.join(f'{v:.1f}' for v in values)}")


def _per_message_conductor() -> None:
    from faust.transport.consumer import Consumer

    from agents.worker import workers
    from agents.worker.batches import BatchConsumer

    BatchConsumer._drain_messages = Consumer._drain_messages
    workers.RUNS_QUEUED = 4096  # Faust's stream buffer: a queue of runs of one would stall the conductor


def _serial() -> None:
    from agents.worker.overlap import Overlap

    async def run(self, batches) -> None:
        async for batch in batches:
            await self.store(self.prepare(batch))

    Overlap.run = run


def child(args) -> None:
    import faust

    from agents.worker.sinks.base import WriteResult
    from agents.worker.workers import build_worker

    if args.variant == "conductor":
        _per_message_conductor()
    elif args.variant == "serial":
        _serial()
    settings = _settings(**json.loads(args.settings))
    worker = build_worker(settings)
    expect = args.expect

    class NullSink:
        async def write(self, spec, events, stats):
            return WriteResult(len(events), 0, {})

        async def known_ids(self, spec, ids):
            return set()

        async def close(self):
            return None

    if args.sink == "null":
        for pipeline in worker.pipelines.values():
            pipeline.sink = NullSink()
    topic = f"{settings.topic_prefix}health"

    def written() -> int:
        get = worker.registry.get_sample_value
        return int(sum(get(name, {"topic": topic}) or 0 for name in ("ioc_events_fresh_total",
                                                                      "ioc_events_duplicate_total")))

    @worker.app.task
    async def probe() -> None:
        first = None
        while True:
            await asyncio.sleep(0.02)
            n = written()
            if first is None and n >= expect * 0.05:
                first = (n, time.process_time(), time.monotonic())
            if n >= expect and first is not None:
                cpu, wall = time.process_time() - first[1], time.monotonic() - first[2]
                get = worker.registry.get_sample_value
                batches = get("ioc_batch_seconds_count", {"topic": topic}) or 0
                out = {"events": n - first[0], "us_per_event": cpu / (n - first[0]) * 1e6, "wall_s": wall,
                       "cores": cpu / wall, "events_per_batch": n / batches if batches else None}
                print("RESULT " + json.dumps(out), flush=True)
                os._exit(0)

    faust.Worker(worker.app, loglevel="warning", quiet=True, redirect_stdouts=False).execute_from_commandline()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd")
    d = sub.add_parser("drive")
    d.add_argument("--trees", required=True, help="name=path,… (each path a code tree)")
    d.add_argument("--events", type=int, default=60_000)
    d.add_argument("--arrays", action="store_true", help="JSON arrays of up to 200 events, not one per message")
    d.add_argument("--rounds", type=int, default=2)
    d.add_argument("--sink", choices=("null", "db"), default="null")
    c = sub.add_parser("child")
    c.add_argument("--settings", required=True)
    c.add_argument("--sink", choices=("null", "db"), default="null")
    c.add_argument("--expect", type=int, required=True)
    c.add_argument("--variant", choices=("tree", "conductor", "serial"), default="tree")
    args = parser.parse_args(argv)
    (child if args.cmd == "child" else drive)(args)


if __name__ == "__main__":
    main()

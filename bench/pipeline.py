"""The worker's pipeline in one process, without Kafka: CPU per event of decoding, the indicators and the
feed writer, for comparing two versions of the hot path side by side.

    python -m bench.pipeline [--mode single|batched|both] [--events 60000] [--rounds 3] [--profile FILE]

The simulated mix of every family (``bench.feed``) is stamped with fresh ids, as single-event messages
or as the benchmark's JSON arrays, and handed to the worker's own pipelines (``build_pipelines``, the
real ``TimescaleSink`` on a scratch database made from ``IOC_BENCH_ADMIN_DSN`` and dropped afterwards)
in batches of ``IOC_BATCH_MAX`` messages per family, one after the other.  The figure is the process's
CPU time per event (the client side: PostgreSQL's own work is not in it) and the wall time per event;
each round writes fresh events.  With ``--profile`` the first round runs under cProfile and its 30
costliest functions (own time) are written to FILE.

What it leaves out is Faust's part (the fetch, the runs, the offsets) and the overlap of decoding with
storing: ``make bench`` measures the whole worker.  What it is for is a quick answer (a minute) to "did
this change make the hot path cheaper?", measured in rounds that alternate with another build when run
from two checkouts.
"""
from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from agents.worker.pipeline import Message, build_pipelines
from agents.worker.sinks.timescale import TimescaleSink
from agents.worker.workers import FEED_SPECS, quiet_allocator, quiet_collector
from bench.env import ADMIN_DSN
from bench.feed import package, simulate_pool, stamp
from streams.core.clock import utcnow
from streams.core.geography import load_province
from streams.core.metrics import WorkerMetrics
from streams.core.settings import Settings
from streams.db.connect import AsyncPool
from streams.db.scratch import scratch_database

MODES = ("single", "batched")


def messages(settings: Settings, mode: str, n_events: int) -> dict[str, list[Message]]:
    """The simulated mix as messages per family, with fresh ids (a new prefix per call)."""
    province = load_province(settings.province_file)
    pool = simulate_pool(province, n_events, end=utcnow() - timedelta(minutes=2))
    when, prefix, first = utcnow() - timedelta(minutes=1), f"bp{uuid.uuid4().hex[:8]}-", 0
    out: dict[str, list[Message]] = {}
    for offset, template in enumerate(package(pool, batched=mode == "batched")):
        raw = stamp(template, first, prefix, when)
        first += len(template.events)
        out.setdefault(template.family, []).append(Message(template.family, 0, offset, raw, template.key))
    return out


async def one_round(settings: Settings, by_family: dict[str, list[Message]], profile: cProfile.Profile | None
                    ) -> tuple[int, float, float]:
    """Events stored, CPU seconds and wall seconds of one round through fresh pipelines."""
    sink = TimescaleSink(AsyncPool(settings.dsn, role="worker"))

    async def no_dead_letters(_letters: Sequence[object]) -> None:
        return None

    pipelines = build_pipelines(settings, FEED_SPECS, sink, no_dead_letters, WorkerMetrics(CollectorRegistry()))
    for family, msgs in by_family.items():  # connections, prepared statements, caches: not timed
        await pipelines[family].process(msgs[:2])
    events, step = 0, settings.batch_max
    cpu, wall = time.process_time(), time.perf_counter()
    if profile is not None:
        profile.enable()
    for family, msgs in by_family.items():
        for i in range(2, len(msgs), step):
            events += (await pipelines[family].process(msgs[i:i + step])).events
    if profile is not None:
        profile.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await sink.close()
    return events, cpu, wall


def measure(mode: str, n_events: int, rounds: int, profile_to: Path | None = None) -> dict[str, float]:
    settings = Settings()
    with scratch_database(ADMIN_DSN, f"ioc_bench_pipeline_{uuid.uuid4().hex[:8]}") as dsn:
        settings = settings.model_copy(update={"database_url": SecretStr(dsn)})
        cpu_us, wall_us, events = [], [], 0
        for r in range(rounds):
            by_family = messages(settings, mode, n_events)
            profile = cProfile.Profile() if profile_to is not None and r == 0 else None
            events, cpu, wall = asyncio.run(one_round(settings, by_family, profile))
            cpu_us.append(cpu / events * 1e6)
            wall_us.append(wall / events * 1e6)
            print(f"bench.pipeline: {mode} round {r + 1}/{rounds}: {events:,} events, "
                  f"{cpu_us[-1]:.1f} µs CPU and {wall_us[-1]:.1f} µs wall per event", flush=True)
            if profile is not None and profile_to is not None:
                text = io.StringIO()
                pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(30)
                profile_to.write_text(text.getvalue())
    return {"events": events, "cpu_us": round(statistics.median(cpu_us), 1),
            "wall_us": round(statistics.median(wall_us), 1)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__.splitlines()[0])
    p.add_argument("--mode", choices=(*MODES, "both"), default="both")
    p.add_argument("--events", type=int, default=60_000, help="simulated events per round [60000]")
    p.add_argument("--rounds", type=int, default=3, help="rounds per mode; the median is reported [3]")
    p.add_argument("--profile", type=Path, help="write a cProfile summary of the first round here")
    args = p.parse_args(argv)
    quiet_allocator()  # as the worker runs
    quiet_collector()
    for mode in MODES if args.mode == "both" else (args.mode,):
        res = measure(mode, args.events, args.rounds, args.profile)
        print(f"{mode:<8} {res['events']:>8,} events  {res['cpu_us']:>6} µs CPU per event  "
              f"{res['wall_us']:>6} µs wall per event  ({1e6 / res['cpu_us']:,.0f} events per CPU-second)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Faust agents: a short loop per feed family that hands batches to ``FeedPipeline``.

Each family's topic is a ``FeedTopic``: its agent's stream yields runs of messages (a partition's
records from one fetch, ``agents.worker.batches``), not single events.  The agent gathers the runs
already waiting into a batch of at most ``batch_max`` messages and stores it in two stages
(``agents.worker.overlap``): it decodes the next batch while the database stores the one before.
Only once a batch is stored (its transaction committed) are its offsets acknowledged
(``agents.worker.offsets.acknowledge``), batch after batch in the order they were read; Faust's
commit timer then commits them.
Dead letters go through ``agents.worker.deadletter`` (a reference when the topic cannot take the
original); an agent that crashes all the same is counted by ``agents.worker.supervision`` and shows as
degraded in the heartbeat, the metrics and the meta-alerts.
"""
from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import socket
from collections.abc import Awaitable, Sequence
from datetime import timedelta

import faust
from prometheus_client import CollectorRegistry

from agents.indicators.security import DetectorConfig, detect_at
from agents.indicators.housekeeping import run_housekeeping
from agents.indicators.rollup_store import catch_up
from agents.worker.deadletter import DeadLetterSender, Record
from agents.worker.detectors import DetectorStore
from agents.worker.housekeeping import HousekeepingStore
from agents.worker.batches import FeedTopic, Run, cut
from agents.worker.overlap import Overlap, gather
from agents.worker.pipeline import FeedPipeline, Prepared, build_pipelines
from agents.worker.snapshots import purge_snapshots
from streams.core.backoff import Backoff
from agents.worker.supervision import AgentWatch
from agents.worker import offsets
from agents.worker.app import create_app
from streams.core.errors import IOCError
from streams.core.families import FAMILIES
from streams.core.metrics import WorkerMetrics, serve
from streams.core.pacing import Pacing
from streams.core.settings import Settings
from streams.core.tables import FeedSpec
from agents.worker.sinks.timescale import TimescaleSink
from streams.core.topics import DEADLETTER, topic_name
from streams.core.clock import LOCAL_TZ, utcnow
from streams.db.connect import AsyncPool

log = logging.getLogger(__name__)

FEED_SPECS: tuple[FeedSpec, ...] = tuple(f.load("feed") for f in FAMILIES)
#: runs (a partition's records from one fetch) an agent's queue holds before the fetcher waits for it
RUNS_QUEUED = 16


class Worker:
    """The worker's parts: Faust app, one database pool for the feed writer (sink), the housekeeping and
    the detectors' store, metrics, one pipeline per feed family."""

    def __init__(self, settings: Settings, *, registry: CollectorRegistry | None = None,
                 specs: Sequence[FeedSpec] = FEED_SPECS) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = WorkerMetrics(self.registry)
        self.app = create_app(settings)
        pool = AsyncPool(settings.dsn, role="worker")
        self.sink = TimescaleSink(pool)
        self.housekeeping_store = HousekeepingStore(pool)
        self.detector_store = DetectorStore(pool)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.started = utcnow()
        self.deadletter_topic = self.app.topic(topic_name(settings, DEADLETTER))
        self.send_dead_letters = DeadLetterSender(
            self._send_dead_letter, max_bytes=self.app.conf.producer_max_request_size, metrics=self.metrics,
            too_large=_too_large, backoff=Backoff(0.5, settings.sink_retry_max_s))
        self.watch = AgentWatch([spec.family for spec in specs],
                                degraded_for=timedelta(seconds=settings.agent_degraded_s))
        for spec in specs:
            self.metrics.agent_crashes.labels(spec.family)  # a series at 0: increase() sees the first crash
        self.metrics.degraded.set(0)
        self.pipelines = build_pipelines(settings, specs, self.sink, self.send_dead_letters, self.metrics)
        for family, pipeline in self.pipelines.items():
            self._register(family, pipeline)
        self.app.timer(10.0, on_leader=False)(self.heartbeat)
        self.app.timer(settings.housekeeping_interval_s, on_leader=False)(self.housekeeping)
        self.detector_config = DetectorConfig()
        self.detect_pacing = Pacing(settings.detect_interval_s, settings.detect_max_share)
        # every worker may run them: findings are upserts keyed by kind, subject, target and bucket
        self.app.timer(settings.detect_interval_s, on_leader=False)(self.detect)
        # every worker may run it: one at a time (an advisory lock), each taking the marks it finds
        self.app.timer(settings.rollup_interval_s, on_leader=False)(self.rollup)

    def _register(self, family: str, pipeline: FeedPipeline) -> None:
        settings = self.settings
        name = topic_name(settings, family)
        topic = FeedTopic(self.app, topics=[name], maxsize=RUNS_QUEUED)
        offsets.guard([name])
        metrics = self.metrics
        watch = self.watch

        async def ingest(stream: faust.StreamT) -> None:
            watch.started(family)
            try:
                await consume(stream)
            except Exception as exc:  # Faust restarts the agent; its unstored messages stay uncommitted
                log.exception("ingest agent of %s crashed; Faust restarts it", family)
                watch.crashed(family, exc)
                metrics.agent_crashes.labels(family).inc()
                metrics.degraded.set(1)
                raise

        def prepare(runs: list[Run]) -> tuple[list[Run], Prepared, float]:
            started = asyncio.get_running_loop().time()
            messages = runs[0].messages if len(runs) == 1 else [m for run in runs for m in run.messages]
            return runs, pipeline.prepare(messages), started

        async def store(prepared: tuple[list[Run], Prepared, float]) -> None:
            runs, batch, started = prepared
            await pipeline.store(batch)
            consumer = self.app.consumer
            for run in runs:  # committed: the offsets may be committed now
                offsets.acknowledge(consumer, run.tp, (m.offset for m in run.messages), run.generation)
            metrics.batch_seconds.labels(runs[0].tp.topic).observe(asyncio.get_running_loop().time() - started)
            self._observe_lag(runs)

        async def consume(stream: faust.StreamT) -> None:
            queue = stream.channel.queue
            runs = cut(stream.__aiter__(), settings.batch_max)
            batches = gather(runs, lambda: not queue.empty(), settings.batch_max, settings.batch_linger_s,
                             arrived=lambda run: run.fetched, weigh=lambda run: run.nbytes,
                             max_weight=settings.batch_max_bytes)
            await Overlap(prepare, store, ready=queue.full).run(batches)  # full: decode ahead

        ingest.__name__ = f"ingest_{family}"
        self.app.agent(topic, name=f"ioc.ingest.{family}")(ingest)

    def _observe_lag(self, runs: Sequence[Run]) -> None:
        consumer = self.app.consumer
        last: dict[tuple[str, int], int] = {}
        for run in runs:
            last[run.tp] = max(run.messages[-1].offset, last.get(run.tp, -1))
        for (topic, partition), offset in last.items():
            try:
                high = consumer.highwater(faust.types.TP(topic, partition))
            except Exception:  # not known yet right after assignment
                continue
            if high is not None:
                self.metrics.consumer_lag.labels(topic, str(partition)).set(max(0, high - offset - 1))

    async def _send_dead_letter(self, record: Record) -> Awaitable:
        """Enqueue one record on the dead-letter topic; the awaitable returned completes on delivery."""
        return await self.deadletter_topic.send(key=record.key, value=record.value, headers=record.headers)

    async def heartbeat(self) -> None:
        info = {"families": sorted(self.pipelines), "sink_up": all(p.sink_up for p in self.pipelines.values()),
                **self.watch.info()}
        self.metrics.degraded.set(1 if info["status"] == "degraded" else 0)
        try:
            await self.housekeeping_store.heartbeat(self.name, self.started, info)
        except Exception as exc:  # the next heartbeat tries again; writes report their own errors
            log.debug("heartbeat not written: %s", exc)


    async def detect(self) -> None:
        """Security detectors over the recent counters of the whole province, at most
        ``IOC_DETECT_MAX_SHARE`` of the time (``Pacing``)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        if not self.detect_pacing.due(started):
            self.metrics.detect_deferred.inc()
            return
        try:
            findings = await detect_at(self.detector_store, utcnow(), self.detector_config)
            await self.detector_store.save_findings(findings)
            for f in findings:
                self.metrics.findings.labels(f.kind, f.severity).inc()
        except IOCError as exc:
            log.warning("security detectors skipped: %s", exc)
        took = loop.time() - started
        self.metrics.detect_seconds.observe(took)
        next_in = self.detect_pacing.ran(started, took) - started
        if next_in > self.settings.detect_interval_s:
            log.info("security detectors took %.1f s: the next run in %.0f s, not %.0f s", took, next_in,
                     self.settings.detect_interval_s)

    async def rollup(self) -> None:
        """The hourly and daily rollups brought up to date with the batches stored since the last run."""
        started = asyncio.get_running_loop().time()
        try:
            done = await asyncio.to_thread(catch_up, self.settings.dsn, LOCAL_TZ)
        except IOCError as exc:
            log.warning("rollups skipped, next try in %.0f s: %s", self.settings.rollup_interval_s, exc)
            return
        self.metrics.rollup_seconds.observe(asyncio.get_running_loop().time() - started)
        if done.marks:
            log.debug("rollups: %d marks, %d hour and %d day ranges", done.marks, done.hours, done.days)

    async def housekeeping(self) -> None:
        try:
            await run_housekeeping(self.housekeeping_store, self.settings.retention_days, utcnow(),
                                   login_attempt_days=self.settings.login_attempt_retention_days,
                                   raw_tables={f: p.spec.raw.name for f, p in self.pipelines.items()},
                                   future_tolerance=timedelta(seconds=self.settings.future_tolerance_s))
        except IOCError as exc:
            log.warning("housekeeping skipped, next try in %.0f s: %s", self.settings.housekeeping_interval_s, exc)
        deleted = await asyncio.to_thread(purge_snapshots, self.settings.snapshots_dir,
                                          utcnow() - timedelta(days=self.settings.snapshot_days))
        if deleted:
            log.info("snapshots older than %d days: %d deleted", self.settings.snapshot_days, deleted)


def _too_large(exc: BaseException) -> bool:
    """Whether a send failed because the record is too large (for the producer or the broker); Faust
    wraps the producer's errors in ``ProducerSendError``."""
    from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError

    seen: BaseException | None = exc
    for _ in range(5):  # the error, and what it was raised from
        if seen is None:
            break
        if isinstance(seen, (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


#: the cyclic collector's thresholds in the worker: a batch makes tens of thousands of short-lived objects
#: (events, rows, parameters) that reference counting frees; scanning the young generation every 700
#: allocations (Python's default) costs a fifth of decoding an array of camera events
GC_THRESHOLDS = (20_000, 20, 50)


def quiet_collector() -> None:
    """What start-up made (modules, the app, the province, the contracts) is frozen out of the cyclic
    collector's scans, and young objects are scanned less often (``GC_THRESHOLDS``)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


#: glibc's ``mallopt`` parameters (malloc.h)
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8
#: blocks this large or larger get pages of their own, returned to the system when freed
MMAP_THRESHOLD = 128 * 1024


def quiet_allocator() -> bool:
    """glibc's allocator made to give memory back: one arena for all threads, and large blocks
    mapped on their own at a fixed threshold.  Call it before the process starts a thread.

    Faust's consumer runs in a thread of its own: the fetched records are allocated in that thread's
    arena and freed by the event loop's, and glibc's threshold for mapping a block on its own grows
    with the largest block freed (up to 32 MiB), so fetch buffers and message values end up in heaps
    that are rarely given back: the worker's resident memory stays at its peak.  False where the C
    library is not glibc (nothing is changed)."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return bool(mallopt(M_ARENA_MAX, 1)) and bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def build_worker(settings: Settings, registry: CollectorRegistry | None = None) -> Worker:
    return Worker(settings, registry=registry)


def run_worker(settings: Settings) -> int:
    """The worker as a process (``ioc worker``): metrics on ``IOC_METRICS_PORT``, then Faust's own
    worker (signals, start and stop of the agents) until it is stopped."""
    quiet_allocator()  # before Faust's consumer thread and the metrics server's
    worker = build_worker(settings)
    quiet_collector()
    serve(worker.registry, settings.metrics_port, settings.metrics_host)
    logging.getLogger("ioc").info("worker %s: metrics on http://%s:%s/metrics", worker.name, settings.metrics_host,
                                  settings.metrics_port)
    faust.Worker(worker.app, loglevel=settings.log_level.lower(), quiet=True,
                 redirect_stdouts=False).execute_from_commandline()
    return 0

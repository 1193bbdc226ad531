"""``ioc alerts backtest``: a recording through the worker's pipeline and the alert rules, offline, on a
simulated clock; lists when each alert would have fired and resolved.  Nothing is notified.

The run has a scratch database of its own, on the server of ``IOC_DATABASE_URL`` (created, migrated
to the current schema, dropped at the end: the database of the settings is never written), whose
``now()`` is the simulated clock (``streams/db/simclock.py``).  Every ``IOC_ALERT_INTERVAL_S`` of
simulated time, from the recording's first arrival to its last:

1. the messages that have arrived by then go through the worker's pipeline (``FeedPipeline``:
   validation, the late-event rule, the id ledger, the window increments) into the scratch database,
   one batch per feed family, with the worker's settings and the simulated clock as "now";
2. the security detectors run (``detect_at``) when ``IOC_DETECT_INTERVAL_S`` has passed;
3. the alert engine runs one round (``AlertEngine.run_once``) with the rules given, the derived
   readers of ``ioc alerts run``, the province's topology, and no receiver: no notification, no
   escalation, no Alertmanager.

After the recording the clock goes on (``--tail``, by default the rules' longest ``keep_firing_for``
and 15 minutes more) until every alert that began during the recording has resolved or been
cancelled.  Alerts that begin after the recording's end come from its feeds falling silent: they
are counted, not listed.  The pure parts (time line, worst values, report) are in
``simulators/backtest.py``.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import time
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from agents.alerting import derived
from agents.alerting.engine import AlertEngine, RuleSet
from agents.alerting.evaluate import States, Topology
from agents.alerting.rules import load_rules
from agents.alerting.runner import derived_readers
from agents.alerting.store import AlertStore
from agents.indicators.security import DetectorConfig, detect_at
from agents.worker.detectors import DetectorStore
from agents.worker.pipeline import DeadLetter, Message as KafkaMessage, build_pipelines
from agents.worker.sinks.timescale import TimescaleSink
from simulators.backtest import (Fired, Peaks, Schedule, Survey, begun_and_open, csv_text, local, span, summary_lines,
                                 survey, table_lines)
from simulators.jobs.common import PROGRESS_EVERY_S
from simulators.recording import Message, Recording, RecordingError
from streams.core.clock import utcnow
from streams.core.errors import ConfigError, SinkError
from streams.core.families import FAMILIES
from streams.core.geography import load_province
from streams.core.metrics import WorkerMetrics
from streams.core.settings import Settings
from streams.core.topics import all_topics, topic_name
from streams.db.connect import AsyncPool, Connection, connect
from streams.db.errors import translated
from streams.db.scratch import create_database, drop_database
from streams.db.simclock import clock_dsn, install_clock, set_clock

FEED_SPECS = tuple(f.load("feed") for f in FAMILIES)
#: the tail after the recording, besides the rules' longest keep_firing_for: the 5-minute windows
#: of most indicators, and the rules' for-durations
TAIL_MARGIN = timedelta(minutes=15)

#: every alert that fired, with the entity of the parent whose alert suppressed it
FIRED_SQL = """
SELECT a.rule, a.entity, a.severity, a.started_at, a.fired_at, a.resolved_at, a.flapping, p.entity AS parent
FROM alert a LEFT JOIN alert p ON p.id = a.suppressed_by
WHERE a.fired_at IS NOT NULL
ORDER BY a.fired_at, a.rule, a.entity
"""
#: pending alerts cancelled before they fired, per rule, begun by the recording's end
CANCELLED_SQL = "SELECT rule, count(*) AS n FROM alert WHERE state = 'cancelled' AND started_at <= %s GROUP BY rule"
#: alerts begun after the recording's end
AFTER_END_SQL = "SELECT count(*) AS n FROM alert WHERE started_at > %s"


def scratch_name() -> str:
    """The run's database: when it started, the process and a random part (at most 63 characters)."""
    return f"ioc_backtest_{utcnow():%Y%m%d_%H%M%S}_{os.getpid()}_{secrets.token_hex(3)}"


class SimClock:
    """The simulated time, read by the pipeline, the decoder and the alert store."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class _Kept:
    """A connection that a ``with`` block commits (or rolls back) but does not close."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, exc_type, *_) -> None:
        if exc_type is None:
            self.conn.commit()
        else:
            self.conn.rollback()


class BacktestStore(AlertStore):
    """The alert store of the scratch database, read as of the simulated time (``at``) through one
    connection kept for the whole run (the live store connects for each read: here, a round costs
    its queries only); it keeps the states of the last round and the worst value of every alert
    while it fired."""

    def __init__(self, dsn: str, names: Mapping[str, str], start: datetime) -> None:
        super().__init__(clock_dsn(dsn, start), names=names)
        self.conn = connect(self.dsn, what="backtest database unavailable", table="alert", role="backtest",
                            dict_rows=True)
        self.peaks = Peaks()
        self.states: States = {}

    def _connect(self) -> _Kept:  # type: ignore[override]
        return _Kept(self.conn)

    def at(self, now: datetime) -> None:
        """Move the session's clock: its ``now()`` is ``now`` from here on."""
        with self._connect() as conn:
            set_clock(conn, now)

    def close(self) -> None:
        self.conn.close()

    def apply_round(self, rules, states, transitions, now, **kw) -> int:
        queued = super().apply_round(rules, states, transitions, now, **kw)
        self.peaks.observe(states.values(), [r.name for r in rules.values() if r.condition == "below"])
        self.states = states
        return queued


class Feeder:
    """The worker's pipelines, without Kafka: messages of the recording into the scratch database."""

    def __init__(self, settings: Settings, dsn: str, clock: SimClock) -> None:
        from kafka.partitioner.default import murmur2  # Kafka's default partitioner

        self.settings = settings
        self.pool = AsyncPool(clock_dsn(dsn, clock.now), role="backtest")
        self.sink = TimescaleSink(self.pool)
        self.detector_store = DetectorStore(self.pool)
        self.rejected: Counter[str] = Counter()
        self.events = 0
        self.pipelines = build_pipelines(settings, FEED_SPECS, self.sink, self._dead_letter,
                                         WorkerMetrics(CollectorRegistry()), clock=clock)
        self.partitions = all_topics(settings)
        self.offsets: Counter[tuple[str, int]] = Counter()
        self._hash = murmur2

    async def _dead_letter(self, letters: Sequence[DeadLetter]) -> None:
        self.rejected.update(d.reason for d in letters)

    def _message(self, msg: Message) -> KafkaMessage:
        """The message as the worker would read it: its topic, and its key's partition (the late-event
        rule compares an event with the newest of its partition)."""
        topic = topic_name(self.settings, msg.family)
        key = msg.key.encode() if msg.key else None
        partition = (self._hash(key) & 0x7FFFFFFF) % self.partitions[topic] if key else 0
        offset = self.offsets[(topic, partition)]
        self.offsets[(topic, partition)] += 1
        return KafkaMessage(topic, partition, offset, msg.value, key)

    async def feed(self, messages: Sequence[Message]) -> None:
        by_family: dict[str, list[KafkaMessage]] = defaultdict(list)
        for msg in messages:
            by_family[msg.family].append(self._message(msg))
        size = self.settings.batch_max
        for family, batch in by_family.items():
            for i in range(0, len(batch), size):
                out = await self.pipelines[family].process(batch[i:i + size])
                self.events += out.events

    async def detect(self, now: datetime, config: DetectorConfig) -> None:
        await self.detector_store.save_findings(await detect_at(self.detector_store, now, config))

    async def close(self) -> None:
        await self.pool.close()


def _rule_set(files: Sequence[Path]) -> RuleSet:
    if not files:
        raise ConfigError("no alert rule files (--rules FILE…, or IOC_ALERT_RULES matched nothing)")
    load_rules(list(files))  # a bad file: ConfigError naming the file, the rule and the field
    rules = RuleSet(list(files))
    rules.refresh()
    return rules


def _survey(path: str) -> tuple[Recording, Survey]:
    try:
        rec = Recording(path)
        found = survey(rec)
    except (OSError, EOFError, zlib.error) as exc:  # no such file, not readable, a damaged gzip
        raise RecordingError(getattr(exc, "strerror", None) or str(exc) or type(exc).__name__, path=path) from None
    if not found.messages:
        raise RecordingError("no messages", path=path)
    return rec, found


@dataclass
class Outcome:
    """What a run leaves once its database is dropped."""

    store: BacktestStore
    feeder: Feeder
    end: datetime  # the last simulated time
    rows: list[dict[str, Any]] = field(default_factory=list)
    cancelled: dict[str, int] = field(default_factory=dict)
    after_end: int = 0


def run_backtest(settings: Settings, path: str, *, rule_files: Sequence[Path] | None = None,
                 csv_out: str | None = None, tail: timedelta | None = None,
                 out: Callable[[str], None] = lambda line: print(line, flush=True)) -> int:
    """The command: checks the rules and the recording (one-line errors, before any database is made),
    runs it in a scratch database, prints the alerts and the summary per rule, writes the CSV."""
    ruleset = _rule_set(list(rule_files) if rule_files else settings.alert_rule_files())
    rec, found = _survey(path)
    if tail is None:
        tail = max((r.keep_firing_for for r in ruleset.rules), default=timedelta(0)) + TAIL_MARGIN
    if csv_out:
        _write(csv_out, "")  # now rather than after the run
    counts = ", ".join(f"{n} {f}" for f, n in found.families.most_common())
    out(f"backtest: {found.messages} messages, {found.events} events ({counts}) from {path}")
    out(f"backtest: simulated {local(found.start)} → {local(found.end)} (local time), every "
        f"{settings.alert_interval_s:g} s, then up to {span(tail)} more for open alerts to resolve")
    out(f"backtest: rules from {', '.join(str(p) for p in ruleset.paths)}")
    name = scratch_name()
    out(f"backtest: scratch database {name} (dropped at the end)")
    started = time.monotonic()
    try:
        with translated(f"cannot create the database {name} for the backtest", refused=SinkError):
            dsn = create_database(settings.dsn, name)
            install_clock(dsn)
        run = asyncio.run(_simulate(settings, dsn, rec, found, ruleset, tail, out))
        with connect(dsn, what="cannot read the backtest's alerts", role="backtest", dict_rows=True) as conn:
            run.rows = conn.execute(FIRED_SQL).fetchall()
            run.cancelled = {r["rule"]: r["n"] for r in conn.execute(CANCELLED_SQL, (found.end,)).fetchall()}
            run.after_end = conn.execute(AFTER_END_SQL, (found.end,)).fetchone()["n"]
    finally:  # also after Ctrl-C, or a creation that failed half-way (a migration)
        drop_database(settings.dsn, name)
    fired = [Fired(r["rule"], r["entity"], r["severity"], r["fired_at"], r["resolved_at"],
                   run.store.peaks.of(r["rule"], r["entity"], r["fired_at"]),
                   f"suppressed by {r['parent']}" if r["parent"] else ("flapping" if r["flapping"] else ""))
             for r in run.rows if r["started_at"] <= found.end]
    rejected = ", ".join(f"{n} {reason}" for reason, n in run.feeder.rejected.most_common())
    out(f"backtest: done in {time.monotonic() - started:.1f} s: {run.feeder.events} events fed"
        + (f", rejected as the worker would: {rejected}" if rejected else "")
        + f"; simulated until {local(run.end)}")
    for line in table_lines(fired, run.end) if fired else ["no alert would have fired"]:
        out(line)
    out("")
    out("by rule:")
    for line in summary_lines(fired, run.cancelled, run.end, [r.name for r in ruleset.rules]) or ["(none)"]:
        out(line)
    if run.after_end:
        out(f"({run.after_end} alerts begun after the recording's end, its feeds falling silent, are left out)")
    if csv_out:
        _write(csv_out, csv_text(fired, run.end))
        out(f"backtest: {len(fired)} alerts written to {csv_out}")
    return 0


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


async def _simulate(settings: Settings, dsn: str, rec: Recording, found: Survey, ruleset: RuleSet, tail: timedelta,
                    out: Callable[[str], None]) -> Outcome:
    """Step the simulated clock from the recording's start until its end, and on while alerts begun
    during it are open (at most ``tail``)."""
    step = timedelta(seconds=settings.alert_interval_s)
    detect_every = timedelta(seconds=settings.detect_interval_s)
    province = load_province(settings.province_file)
    clock = SimClock(found.start)
    schedule = Schedule(rec, found.gap)
    config = DetectorConfig()
    store = BacktestStore(dsn, province.names(), found.start)
    feeder: Feeder | None = None
    try:
        feeder = Feeder(settings, dsn, clock)
        engine = AlertEngine(store, ruleset, topology=Topology(derived.topology_parents(province)),
                             derived=derived_readers(store, province))  # no receivers, no escalation levels
        last_detect: datetime | None = None
        last_report = time.monotonic()
        now = found.start
        while True:
            clock.now = now
            await feeder.feed(schedule.due(now))
            if last_detect is None or now - last_detect >= detect_every:
                await feeder.detect(now, config)
                last_detect = now
            store.at(now)
            engine.run_once(now)
            open_ = begun_and_open(store.states, found.end)
            if now >= found.end and (not open_ or now >= found.end + tail):
                return Outcome(store, feeder, now)
            if time.monotonic() - last_report >= PROGRESS_EVERY_S:
                last_report = time.monotonic()
                if now < found.end:
                    share = (now - found.start) / (found.end - found.start)
                    out(f"backtest: {feeder.events} events fed, simulated {local(now)} ({share:.0%}), "
                        f"{open_} alerts open")
                else:
                    out(f"backtest: recording done, simulated {local(now)}: waiting for {open_} alert(s) to resolve")
            now += step
    finally:
        store.close()
        if feeder is not None:
            await feeder.close()

"""One batch of Kafka messages of a feed family: decode, dead-letter, write — without Faust.

The Faust agent (``agents.worker.workers``) hands each batch to ``FeedPipeline`` in two stages:
``prepare`` decodes it (no I/O: JSON, contracts, watermarks), ``store`` dead-letters and writes it,
and the agent acknowledges the messages only after ``store`` returns; ``process`` is both in turn.
The agent prepares the next batch while the database stores the one before, never further ahead.
``store`` returns only when the batch is stored: while the database is down it waits and retries
(backpressure), so the worker never reads further than it can write.

No input can make it raise: an exception while decoding a message's bytes dead-letters that
message (reason ``internal_error``), an exception while writing events other than the database
being unavailable dead-letters the events it is raised for, and anything else makes the batch
go again message by message, a message that still fails being dead-lettered whole.  So an agent
never crashes, restarts and crashes again on the same message while its partition stalls.
"""
from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from streams.core.backoff import Backoff
from streams.core.errors import SinkError, SinkUnavailable
from streams.core.contracts import Event
from streams.core.metrics import WorkerMetrics, observe_all
from agents.worker.sinks.base import Sink
from streams.core.tables import EVENT_TIME, FeedSpec, SourceStats, reject_kind
from agents.indicators.producers import Producers
from streams.core.clock import utcnow
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.core.validation import Decoder, Limits, Rejected

log = logging.getLogger(__name__)

#: how the worker retries a write or a dead letter when it is given no other backoff
WRITE_RETRY = Backoff(0.5, 30)


class Message(NamedTuple):
    """A Kafka record as the pipeline reads it (a named tuple: one is made per record, at C speed)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected event: the original bytes, and where and why it was rejected."""

    original: bytes
    reason: str
    detail: str
    topic: str
    partition: int
    offset: int
    index: int | None
    key: bytes | None = None

    def headers(self) -> list[tuple[str, bytes]]:
        h = [
            ("ioc-reason", self.reason.encode()),
            ("ioc-detail", self.detail.encode("utf-8", "replace")[:1000]),
            ("ioc-source-topic", self.topic.encode()),
            ("ioc-source-partition", str(self.partition).encode()),
            ("ioc-source-offset", str(self.offset).encode()),
        ]
        if self.index is not None:
            h.append(("ioc-source-index", str(self.index).encode()))
        return h


DeadLetterSend = Callable[[Sequence[DeadLetter]], Awaitable[None]]


@dataclass(slots=True)
class Part:
    """Decoded whole messages of a batch, written in one transaction: events to write, events rejected,
    and events behind the watermark (late, or replayed: told apart when written)."""

    topic: str
    first: Message | None = None
    events: list[Event] = field(default_factory=list)
    rejected: list[DeadLetter] = field(default_factory=list)
    late: list[tuple[Event, Message, datetime]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Prepared:
    """A decoded batch: its parts, or None when decoding failed outside the per-message guards
    (the messages are then stored one by one)."""

    messages: Sequence[Message]
    parts: list[Part] | None


@dataclass(slots=True)
class BatchOutcome:
    messages: int = 0
    events: int = 0
    fresh: int = 0
    duplicates: int = 0
    rejected: list[DeadLetter] = field(default_factory=list)

    def add(self, other: "BatchOutcome") -> None:
        """Count another part of the same batch (its messages are already counted here)."""
        self.events += other.events
        self.fresh += other.fresh
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


class FeedPipeline:
    def __init__(
        self,
        spec: FeedSpec,
        decoder: Decoder,
        sink: Sink,
        dead_letter: DeadLetterSend,
        metrics: WorkerMetrics,
        *,
        late_allowance: timedelta = timedelta(minutes=10),
        backoff: Backoff | None = None,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_events: int = 10_000,
        producers: Producers = Producers(),
    ) -> None:
        self.spec = spec
        self.producers = producers
        self.producer_of = producers.of(spec.family)
        self.max_events = max_events
        self.decoder = decoder
        self.sink = sink
        self.dead_letter = dead_letter
        self.metrics = metrics
        self.late_allowance = late_allowance
        self.backoff = backoff or WRITE_RETRY
        self.clock = clock
        self.sleep = sleep
        self.watermark: dict[tuple[str, int], datetime] = {}
        self.sink_up = True

    async def process(self, messages: Sequence[Message]) -> BatchOutcome:
        """Decode, dead-letter and store one batch of messages; return only once all is stored or
        dead-lettered.  Should the batch fail in a way the per-message guards do not catch, its
        messages go again one by one, and one that fails alone is dead-lettered whole."""
        return await self.store(self.prepare(messages))

    def prepare(self, messages: Sequence[Message]) -> Prepared:
        """Decode a batch (no I/O): the first stage, which may run while ``store`` writes the batch
        before.  Watermarks move here, so batches must be prepared in the order they are read."""
        try:
            return Prepared(messages, self._decode_parts(messages))
        except Exception:
            log.exception("decoding a batch of %s messages failed; storing them one by one", len(messages))
            return Prepared(messages, None)

    async def store(self, prepared: Prepared) -> BatchOutcome:
        """Dead-letter and write a prepared batch; return only once all is stored or dead-lettered."""
        messages = prepared.messages
        if prepared.parts is not None:
            try:
                out = BatchOutcome(messages=len(messages))
                for part in prepared.parts:
                    await self._flush(part, out)
                return out
            except SinkUnavailable:  # never a dead letter: _write holds the batch while the database is down
                raise
            except Exception:
                log.exception("a batch of %s messages failed; processing them one by one", len(messages))
        out = BatchOutcome(messages=len(messages))
        for msg in messages:
            try:
                one = await self._process([msg])
            except SinkUnavailable:
                raise
            except Exception as exc:
                log.exception("%s[%s]@%s failed on its own: dead-lettered", msg.topic, msg.partition, msg.offset)
                letter = self._failure(msg, exc)
                await self.dead_letter([letter])
                self.metrics.dead_letters.labels(msg.topic, letter.reason).inc()
                one = BatchOutcome(messages=1, rejected=[letter])
            out.add(one)
        return out

    async def _process(self, messages: Sequence[Message]) -> BatchOutcome:
        out = BatchOutcome(messages=len(messages))
        for part in self._decode_parts(messages):
            await self._flush(part, out)
        return out

    def _decode_parts(self, messages: Sequence[Message]) -> list[Part]:
        """Decode a batch into parts of at most ``max_events`` events (whole messages, at least one).

        A batch of many JSON arrays can hold hundreds of thousands of events: each part is written in
        a transaction of its own, so the decoded events held at once, and a transaction's size, stay
        bounded.  Writes are idempotent, so a batch read again after a crash between two of its
        transactions changes nothing."""
        topic = messages[0].topic if messages else self.spec.family
        for name, n in Counter(m.topic for m in messages).items():  # one topic per agent: one label lookup
            self.metrics.messages_in.labels(name).inc(n)
        parts: list[Part] = []
        part = Part(topic)
        now = self.clock()  # the batch's messages are judged at one time
        for msg in messages:
            if part.first is None:
                part.first = msg
            events, rejected, late = part.events, part.rejected, part.late
            held, dead, behind = len(events), len(rejected), len(late)
            try:
                self._decode(msg, events, rejected, late, now)
            except Exception as exc:  # a bug on some input must not stop the partition
                log.exception("%s[%s]@%s could not be decoded: dead-lettered", msg.topic, msg.partition, msg.offset)
                del events[held:], rejected[dead:], late[behind:]
                rejected.append(self._failure(msg, exc))
            if len(events) + len(late) >= self.max_events:
                parts.append(part)
                part = Part(topic)
        if part.events or part.rejected or part.late or not parts:
            parts.append(part)
        return parts

    def _decode(self, msg: Message, events: list[Event], rejected: list[DeadLetter],
                late: list[tuple[Event, Message, datetime]], now: datetime) -> None:
        decoded = self.decoder.decode(msg.value, now)
        for rej in decoded.rejected:
            rejected.append(self._dead(msg, rej))
        tp = (msg.topic, msg.partition)
        mark = self.watermark.get(tp)
        if not decoded.events:
            return
        times = list(map(EVENT_TIME, decoded.events))
        highest = max(times) if mark is None else max(mark, max(times))  # no mark in the message goes higher
        if min(times) >= highest - self.late_allowance:  # the usual message: none of its events is late
            events.extend(decoded.events)
            self.watermark[tp] = highest
            return
        for ev in decoded.events:  # some may be late: each judged by the mark of the events before it
            ts = ev.event_time
            if mark is not None and ts < mark - self.late_allowance:
                late.append((ev, msg, mark))
                continue
            if mark is None or ts > mark:
                mark = ts
            events.append(ev)
        if mark is not None:
            self.watermark[tp] = mark

    async def _flush(self, part: Part, out: BatchOutcome) -> None:
        m = self.metrics
        topic, events, rejected = part.topic, part.events, part.rejected
        if part.late:
            await self._sort_late(topic, part.late, events, rejected)
        m.events_in.labels(topic).inc(len(events) + len(rejected))
        out.events += len(events)
        if rejected:
            await self.dead_letter(rejected)
            for d in rejected:
                m.dead_letters.labels(topic, d.reason).inc()
            out.rejected.extend(rejected)
        stats = SourceStats(self.spec.family, self.clock(), len(events) + len(rejected), len(rejected),
                            self.producer_of, self._dead_by_producer(rejected))
        fresh, duplicates = await self._store(topic, events, stats, part.first)
        out.fresh += fresh
        out.duplicates += duplicates

    def _dead_by_producer(self, rejected: Sequence[DeadLetter]) -> Counter[tuple[str, str]]:
        """The batch's rejected events per (producer, kind): who sent what was refused, and why."""
        of_raw, family = self.producers.of_raw, self.spec.family
        return Counter((of_raw(family, d.original), reject_kind(d.reason)) for d in rejected)

    async def _sort_late(self, topic: str, late: list[tuple[Event, Message, datetime]], events: list[Event],
                         rejected: list[DeadLetter]) -> None:
        """Late events whose id is already stored are a replay: written on as duplicates (they change
        nothing, and the source counts them as duplicates); only the others are rejected as late."""
        delays = self.backoff.delays()
        while True:
            try:
                known = await self.sink.known_ids(self.spec, [ev.id for ev, _, _ in late])
                break
            except SinkUnavailable as exc:
                self.metrics.sink_errors.labels(topic, "unavailable").inc()
                log.warning("cannot tell replayed events from late ones yet: %s", exc)
                await self.sleep(next(delays))
        for ev, msg, mark in late:
            if ev.id in known:
                events.append(ev)
                continue
            detail = (f"{ev.time_field} {ev.event_time.isoformat()} is more than "
                      f"{self.late_allowance.total_seconds():.0f} s behind {mark.isoformat()}")
            rejected.append(self._dead(msg, Rejected("late", detail, ev.model_dump_json().encode(), None)))

    async def _store(
        self, topic: str, events: list[Event], stats: SourceStats, first: Message | None
    ) -> tuple[int, int]:
        """Write the batch; if the database refuses it, write event by event and dead-letter the refused."""
        result = await self._write(topic, events, stats)
        if not isinstance(result, Exception):
            return result
        fresh = dups = 0
        refused: list[DeadLetter] = []
        for i, ev in enumerate(events):
            one = replace(stats, received=1 + (stats.rejected if i == 0 else 0),
                          rejected=stats.rejected if i == 0 else 0, dead=stats.dead if i == 0 else {})
            single = await self._write(topic, [ev], one) if len(events) > 1 else result
            if isinstance(single, Exception):
                where = first or Message(topic, -1, -1, None)
                if isinstance(single, SinkError):
                    reason, detail = "sink_rejected", "the database refused this event"
                else:
                    reason, detail = "internal_error", f"writing it failed: {_describe(single)}"
                refused.append(DeadLetter(ev.model_dump_json().encode(), reason, detail, where.topic,
                                          where.partition, where.offset, None, where.key))
                continue
            fresh += single[0]
            dups += single[1]
        if refused:
            await self.dead_letter(refused)
            for d in refused:
                self.metrics.dead_letters.labels(topic, d.reason).inc()
        return fresh, dups

    async def _write(self, topic: str, events: list[Event], stats: SourceStats) -> tuple[int, int] | Exception:
        """Write, retrying while the database is unavailable; the exception when the database refuses
        the batch (``SinkError``) or writing it fails otherwise (a bug on some event)."""
        m = self.metrics
        delays = self.backoff.delays()
        while True:
            started = asyncio.get_running_loop().time()
            try:
                with m.writes.write():
                    result = await self.sink.write(self.spec, events, stats)
            except SinkUnavailable as exc:
                m.sink_errors.labels(topic, "unavailable").inc()
                m.sink_up.set(0)
                delay = next(delays)
                if self.sink_up:
                    log.error("database unavailable, holding %s events and retrying: %s", len(events), exc)
                else:
                    log.warning("database still unavailable, next try in %.1f s: %s", delay, exc)
                self.sink_up = False
                await self.sleep(delay)
                continue
            except SinkError as exc:
                m.sink_errors.labels(topic, "rejected").inc()
                log.error("the database refused a batch of %s events: %s", len(events), exc)
                return exc
            except Exception as exc:
                m.sink_errors.labels(topic, "internal").inc()
                log.exception("writing a batch of %s events failed", len(events))
                return exc
            if not self.sink_up:
                log.warning("database reachable again; writing resumed")
            self.sink_up = True
            m.sink_up.set(1)
            m.write_seconds.labels(topic).observe(asyncio.get_running_loop().time() - started)
            for table, n in result.rows.items():
                m.rows_written.labels(table).inc(n)
            m.events_fresh.labels(topic).inc(result.fresh)
            m.events_duplicate.labels(topic).inc(result.duplicates)
            if events:
                stamps = list(map(datetime.timestamp, map(EVENT_TIME, events)))
                newest = max(stamps)
                m.last_event_time.labels(topic).set(newest)
                now = self.clock().timestamp()
                delays = [now - t for t in stamps]
                if newest > now:  # events ahead of the clock (within the future tolerance) wait 0 s
                    delays = [max(0.0, d) for d in delays]
                observe_all(m.event_delay.labels(topic), delays)
            return result.fresh, result.duplicates

    def _failure(self, msg: Message, exc: Exception) -> DeadLetter:
        """The whole message, dead-lettered because handling it raised ``exc``."""
        return DeadLetter(msg.value or b"", "internal_error", f"processing failed: {_describe(exc)}", msg.topic,
                          msg.partition, msg.offset, None, msg.key)

    def _dead(self, msg: Message, rej: Rejected) -> DeadLetter:
        return DeadLetter(rej.original, rej.reason, rej.detail, msg.topic, msg.partition, msg.offset, rej.index, msg.key)


def build_pipelines(settings: Settings, specs: Sequence[FeedSpec], sink: Sink, dead_letter: DeadLetterSend,
                    metrics: WorkerMetrics, *, clock: Callable[[], datetime] = utcnow) -> dict[str, FeedPipeline]:
    """One pipeline per feed family, with the settings' limits, late allowance and retries, the province's
    bounds (coordinates outside them are impossible), its units through time (an event's unit is the one
    valid on its day) and producers (cameras counted by their link), and ``clock`` for "now" (the worker's:
    the wall clock; a backtest's: the simulated one)."""
    limits = Limits(
        max_message_bytes=settings.max_message_bytes,
        max_events_per_message=settings.max_events_per_message,
        future_tolerance=timedelta(seconds=settings.future_tolerance_s),
        max_age=timedelta(seconds=settings.max_event_age_s),
    )
    province = load_province(settings.province_file)
    producers = Producers.from_province(province)
    return {
        spec.family: FeedPipeline(
            spec,
            Decoder(spec.family, limits=limits, bounds=province.bounds, units=province.divisions, clock=clock),
            sink,
            dead_letter,
            metrics,
            late_allowance=timedelta(seconds=settings.late_allowance_s),
            backoff=Backoff(0.5, settings.sink_retry_max_s),
            clock=clock,
            max_events=settings.batch_max_events,
            producers=producers,
        )
        for spec in specs
    }


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"

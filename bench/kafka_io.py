"""Kafka for the benchmarks (aiokafka): a fast backlog, a paced feed, the group's lag, a bare consumer."""
from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.calc import due
from bench.feed import Template, stamp
from streams.core.clock import utcnow

Offsets = dict[TopicPartition, int]


class Ids:
    """Event ids unique to this benchmark run: ``<prefix><hex counter>``."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.used = 0

    def take(self, n: int) -> int:
        first = self.used
        self.used += n
        return first


@dataclass(slots=True)
class Sent:
    events: int = 0
    messages: int = 0
    bytes: int = 0
    seconds: float = 0.0
    cursor: int = 0  # next template

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


class Producer:
    """One aiokafka producer for the run; topics by feed family come with each call."""

    def __init__(self, bootstrap: str, ids: Ids) -> None:
        self.ids = ids
        self._p = AIOKafkaProducer(bootstrap_servers=bootstrap, client_id="ioc-bench", acks=1, linger_ms=5,
                                   max_batch_size=1024 * 1024, max_request_size=2 * 1024 * 1024)

    async def start(self) -> None:
        await self._p.start()

    async def stop(self) -> None:
        await self._p.stop()

    async def _send(self, topics: Mapping[str, str], t: Template, sent: Sent):
        value = stamp(t, self.ids.take(len(t.events)), self.ids.prefix, utcnow())
        fut = await self._p.send(topics[t.family], value=value, key=t.key)
        sent.events += len(t.events)
        sent.messages += 1
        sent.bytes += len(value)
        return fut

    async def backlog(self, topics: Mapping[str, str], templates: Sequence[Template], n_events: int,
                      cursor: int = 0) -> Sent:
        """At least ``n_events`` as fast as Kafka takes them; returns once all are acknowledged."""
        sent = Sent(cursor=cursor)
        started = time.perf_counter()
        pending = []
        while sent.events < n_events:
            pending.append(await self._send(topics, templates[sent.cursor % len(templates)], sent))
            sent.cursor += 1
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await self._p.flush()
        await asyncio.gather(*pending)
        sent.seconds = time.perf_counter() - started
        return sent

    async def paced(self, topics: Mapping[str, str], templates: Sequence[Template], rate: float,
                    stop: asyncio.Event, cursor: int = 0, tick_s: float = 0.01) -> Sent:
        """``rate`` events/s until ``stop`` is set; each event stamped with its send time."""
        sent = Sent(cursor=cursor)
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not stop.is_set():
            target = due(rate, loop.time() - started)
            while sent.events < target:
                await self._send(topics, templates[sent.cursor % len(templates)], sent)
                sent.cursor += 1
            try:
                await asyncio.wait_for(stop.wait(), tick_s)
            except asyncio.TimeoutError:
                pass
        await self._p.flush()
        sent.seconds = loop.time() - started
        return sent


def partitions(topics: Mapping[str, int]) -> list[TopicPartition]:
    return [TopicPartition(t, p) for t, n in sorted(topics.items()) for p in range(n)]


@dataclass
class LagProbe:
    """The consumer group's lag: end offsets minus committed offsets, over the feed topics."""

    bootstrap: str
    group: str
    tps: list[TopicPartition]
    _consumer: AIOKafkaConsumer | None = field(default=None, init=False)
    _admin: AIOKafkaAdminClient | None = field(default=None, init=False)

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                          enable_auto_commit=False, client_id="ioc-bench-lag")
        await self._consumer.start()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="ioc-bench-admin")
        await self._admin.start()

    async def stop(self) -> None:
        if self._consumer:
            await self._consumer.stop()
        if self._admin:
            await self._admin.close()

    async def wait_ready(self, timeout: float = 30) -> None:
        """Wait until every partition of new topics has a leader (producing before that is retried, noisily)."""
        deadline = time.monotonic() + timeout
        client = self._consumer._client
        while True:
            await client.force_metadata_update()
            if all(client.cluster.leader_for_partition(tp) not in (None, -1) for tp in self.tps):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics of group {self.group} have partitions without a leader after {timeout} s")
            await asyncio.sleep(0.2)

    async def end_offsets(self) -> Offsets:
        return dict(await self._consumer.end_offsets(self.tps))

    async def committed(self) -> Offsets:
        got = await self._admin.list_consumer_group_offsets(self.group, partitions=self.tps)
        return {tp: max(0, om.offset) for tp, om in got.items() if om is not None}

    async def lag(self) -> int:
        end, done = await self.end_offsets(), await self.committed()
        return sum(max(0, end[tp] - done.get(tp, 0)) for tp in self.tps)

    async def members(self) -> int:
        """Members of the group that hold at least one partition."""
        resp = await self._admin.describe_consumer_groups([self.group])
        n = 0
        for r in resp:
            for g in getattr(r, "groups", []):
                members = g[5] if isinstance(g, tuple) else getattr(g, "members", [])
                n += sum(1 for m in members if (m[4] if isinstance(m, tuple) else getattr(m, "member_assignment", b"")))
        return n


@dataclass(frozen=True, slots=True)
class Consumed:
    messages: int
    bytes: int
    seconds: float

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


async def backlog_records(consumer: AIOKafkaConsumer, start: Offsets, end: Offsets,
                          max_records: int = 20000) -> AsyncIterator[dict[TopicPartition, list[ConsumerRecord]]]:
    """Assigns the partitions with messages between two sets of offsets, and yields what each
    ``getmany`` brings of them (records before ``end``), until every partition has reached its end."""
    todo = {tp: end[tp] for tp in end if end[tp] > start.get(tp, 0)}
    consumer.assign(list(todo))
    for tp in todo:
        consumer.seek(tp, start.get(tp, 0))
    while todo:
        got = await consumer.getmany(timeout_ms=1000, max_records=max_records)
        out: dict[TopicPartition, list[ConsumerRecord]] = {}
        for tp, records in got.items():
            stop_at = todo.get(tp)
            if stop_at is None:
                continue
            out[tp] = [r for r in records if r.offset < stop_at]
            if records and records[-1].offset >= stop_at - 1:
                del todo[tp]
                consumer.pause(tp)
        yield out


async def bare_consume(bootstrap: str, start: Offsets, end: Offsets) -> Consumed:
    """Read the messages between two sets of offsets with a plain aiokafka consumer, no processing."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id="ioc-bench-bare")
    await consumer.start()
    try:
        n = nbytes = 0
        t0 = time.perf_counter()
        async for batch in backlog_records(consumer, start, end):
            for records in batch.values():
                n += len(records)
                nbytes += sum(len(r.value or b"") for r in records)
        return Consumed(n, nbytes, time.perf_counter() - t0)
    finally:
        await consumer.stop()

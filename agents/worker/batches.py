"""Kafka records reach the feed agents by the partition-run, not one message at a time.

Faust's consumer hands each fetched record to its conductor alone: per record a ``ConsumerMessage``,
a pair of tasks (``wait_first``), the conductor's handler, an ``Event``, a queue put, and the stream's
iteration and acknowledgement — most of the worker's CPU for a small message.  A feed topic is
declared as a ``FeedTopic`` instead: ``BatchConsumer`` (the app's consumer, ``agents.worker.app``)
takes each ``getmany`` of Faust's fetcher and, for a partition whose subscribers are all
``FeedTopic`` channels, puts **one** event per partition and fetch into their queues: a ``Run`` of
the partition's new records as pipeline ``Message`` objects.  Everything else about Faust stays: the
fetcher, flow control and pauses during a rebalance, the subscriptions, the commit timer and the
agents with their supervisor; other topics take Faust's per-message path unchanged.

- A channel queue holds a few runs (``FeedTopic.maxsize``); a full queue holds the fetcher as a full
  stream buffer does, and the queues are cleared when a rebalance suspends the flow.
- The event's message stands for the run (its partition, first offset and consumer generation): the
  agent's stream drops a run queued before a rebalance as it drops any stale message; the stand-in is
  born acknowledged, so the stream's own acknowledgement after each value never touches an offset.
- No offset is acknowledged here: ``agents.worker.offsets.acknowledge`` does it once the run's
  transaction has committed, for the generation the run was read in.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Optional, cast

import faust
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP
from faust.types.tuples import Message as FaustMessage

from agents.worker.pipeline import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Run:
    """New records of one partition from one fetch, in offset order, read in consumer ``generation``."""

    tp: TP
    messages: list[Message]
    generation: int
    fetched: float = 0.0  # when it was fetched (the event loop's clock): a batch lingers from there

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def nbytes(self) -> int:
        """The bytes of its messages' values."""
        return sum(len(m.value) for m in self.messages if m.value)


async def cut(runs: AsyncIterator[Run], limit: int) -> AsyncIterator[Run]:
    """The runs, each cut into pieces of at most ``limit`` messages (a transaction's worth): a large
    fetch is stored in several batches, the next decoded while the one before is written."""
    async for run in runs:
        if len(run.messages) <= limit:
            yield run
            continue
        for i in range(0, len(run.messages), limit):
            yield Run(run.tp, run.messages[i:i + limit], run.generation, run.fetched)


def fresh_messages(tp: TP, records: Iterable[Any], read_offset: Optional[int]) -> list[Message]:
    """The records at or after ``read_offset`` (all when it is None) as pipeline messages: a record
    behind the read position is dropped, as Faust's drain drops it."""
    topic, partition = tp
    if read_offset is None:
        return [Message(topic, partition, r.offset, r.value, r.key) for r in records]
    return [Message(topic, partition, r.offset, r.value, r.key) for r in records if r.offset >= read_offset]


class FeedTopic(faust.Topic):
    """A topic whose subscribers receive ``Run`` values: one per partition and fetch."""

    def run_event(self, run: Run) -> faust.EventT:
        """The event of a run.  Its message stands for the run and is born acknowledged: the stream's
        acknowledgement after each value (the compiled iterator writes the consumer's books itself,
        past ``Consumer.ack``) must never mark the run's first offset as done."""
        first = run.messages[0]
        stand_in = FaustMessage(first.topic, first.partition, first.offset, 0.0, 0, None, None, None, None,
                                tp=run.tp, generation_id=run.generation)
        stand_in.acked = True
        return self.app.create_event(None, run, None, stand_in)

    def _compile_decode(self) -> None:
        self.decode = self._decode_alone  # type: ignore[method-assign]

    async def _decode_alone(self, message: Any, *, propagate: bool = False) -> faust.EventT:
        """A message that comes by Faust's per-message path (the conductor) becomes a run of one."""
        tp = message.tp
        run = Run(tp, [Message(tp.topic, tp.partition, message.offset, message.value, message.key)],
                  message.generation_id, asyncio.get_running_loop().time())
        return self.run_event(run)


def feed_channels(channels: Optional[Iterable[Any]]) -> Sequence[FeedTopic]:
    """The subscribers of a partition when all of them take runs; empty otherwise (per-message path)."""
    if not channels:
        return ()
    chans = list(channels)
    return cast(Sequence[FeedTopic], chans) if all(isinstance(c, FeedTopic) for c in chans) else ()


class BatchConsumer(aiokafka_driver.Consumer):
    """Faust's aiokafka consumer with a drain that delivers a partition's fetched records as one run."""

    async def _deliver_run(self, channels: Sequence[FeedTopic], run: Run) -> None:
        """Put the run's event in each subscriber's queue.  A put that waits on a full queue is cancelled
        when the queue is cleared (a rebalance suspends the flow, or the worker stops): the run goes
        with the queue's other runs, unacknowledged, and is read again from the committed offsets; only
        a cancellation of this task itself goes on up."""
        event = channels[0].run_event(run)
        for chan in channels:
            try:
                await chan.queue.put(event)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise
                log.debug("a run of %s[%s] was dropped with its cleared queue", run.tp.topic, run.tp.partition)
                return

    async def _deliver_each(self, tp: TP, records: Sequence[Any]) -> None:
        """Faust's own path for a partition of another topic: the conductor, message by message."""
        read_offset = self._read_offset
        for record in records:
            r_offset = read_offset[tp]
            if r_offset is None or record.offset >= r_offset:
                await self.wait_first(self.callback(self._to_message(tp, record)), self.suspend_flow.wait())
                read_offset[tp] = record.offset

    async def _drain_once(self, tp_index: Any) -> None:
        records, active = await self._wait_next_records(1.0)
        if not records or self.should_stop:
            return
        app = self.app
        generation = app.consumer_generation_id
        if not self.flow_active:  # a rebalance began while fetching: read again from the committed offsets
            await self.perform_seek()
            return
        read_offset = self._read_offset
        fetched = asyncio.get_running_loop().time()
        for tp, recs in records.items():
            if not self.flow_active or app.consumer_generation_id != generation:
                break
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                continue
            app.monitor.track_tp_end_offset(tp, self.highwater(tp))
            channels = feed_channels(tp_index.get(tp))
            if not channels:
                await self._deliver_each(tp, recs)
                continue
            messages = fresh_messages(tp, recs, read_offset[tp])
            if not messages:
                continue
            if self._n_acked >= self._commit_every:
                self._n_acked = 0
                await self.commit()
            await self.wait_first(self._deliver_run(channels, Run(tp, messages, generation, fetched)),
                                  self.suspend_flow.wait())
            read_offset[tp] = messages[-1].offset

    async def _drain_messages(self, fetcher: Any) -> None:  # the Fetcher service's task
        tp_index = getattr(self.app.topics, "_tp_index", None)
        if tp_index is None:  # a Faust release without the conductor's partition index
            log.warning("Faust's conductor has no partition index: records go message by message")
            return await super()._drain_messages(fetcher)
        consumer_stopped = self._stopped.is_set
        fetcher_stopped = fetcher._stopped.is_set
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                self.diag.set_flag(CONSUMER_FETCHING)
                await self.sleep(0)
                if not self.should_stop:
                    await self._drain_once(tp_index)
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)


class DurableProducer(aiokafka_driver.Producer):
    """Faust's aiokafka producer (dead letters) with idempotence: acknowledged by every in-sync replica
    (``acks=all``; at least ``min.insync.replicas`` of them on a cluster), and a batch retried after a
    leader change written once.  Faust turns idempotence on only for exactly-once processing."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class BatchTransport(aiokafka_driver.Transport):
    """The aiokafka transport with ``BatchConsumer`` and ``DurableProducer``."""

    Consumer = BatchConsumer
    Producer = DurableProducer

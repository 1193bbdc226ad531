from collections import defaultdict
from types import SimpleNamespace

import pytest
from faust.types import TP

from agents.worker import offsets
from agents.worker.batches import fresh_messages
from agents.worker.pipeline import Message

TOPIC = "unit-batches.health"
TP0 = TP(TOPIC, 0)


def records(*offs):
    return [SimpleNamespace(offset=o, value=f"v{o}".encode(), key=b"k") for o in offs]


def test_a_run_holds_the_records_from_the_read_offset_on_as_pipeline_messages():
    assert fresh_messages(TP0, records(3, 4), None) == [Message(TOPIC, 0, 3, b"v3", b"k"),
                                                        Message(TOPIC, 0, 4, b"v4", b"k")]
    assert [m.offset for m in fresh_messages(TP0, records(3, 4, 5), 4)] == [4, 5]  # fetched before a seek back


class FakeConsumer:
    """The books of Faust's consumer that acknowledging and committing use."""

    def __init__(self, generation=1, committed=None):
        self.app = SimpleNamespace(consumer_generation_id=generation)
        self.flow_active = True
        self.assigned = {TP0}
        self._committed_offset = defaultdict(lambda: None, {TP0: committed} if committed is not None else {})
        self._acked = defaultdict(list)
        self._acked_index = defaultdict(set)
        self._n_acked = 0

    def assignment(self):
        return self.assigned

    def commit_position(self):
        return offsets._new_offset(self, TP0)


def test_stored_offsets_are_committed_from_the_committed_one_without_a_gap():
    offsets.guard([TOPIC])
    consumer = FakeConsumer(committed=10)
    assert offsets.acknowledge(consumer, TP0, [12, 13], generation=1) == 2
    assert consumer.commit_position() is None  # 10 and 11 are not stored yet
    assert offsets.acknowledge(consumer, TP0, [10, 11], generation=1) == 2
    assert consumer.commit_position() == 14
    consumer._committed_offset[TP0] = 14  # as Faust's commit leaves it
    assert offsets.acknowledge(consumer, TP0, [9, 13], generation=1) == 0  # committed already
    assert offsets.acknowledge(consumer, TP0, [15, 15], generation=1) == 1  # each offset once
    assert consumer._n_acked == 5


def test_nothing_is_acknowledged_across_a_rebalance():
    offsets.guard([TOPIC])
    consumer = FakeConsumer(generation=2, committed=0)
    assert offsets.acknowledge(consumer, TP0, [0, 1], generation=1) == 0  # read in the generation before
    consumer.flow_active = False  # a rebalance has begun
    assert offsets.acknowledge(consumer, TP0, [0, 1], generation=2) == 0
    consumer.flow_active = True
    consumer.assigned = set()  # the partition went to another worker
    assert offsets.acknowledge(consumer, TP0, [0, 1], generation=2) == 0
    assert consumer.commit_position() is None and consumer._n_acked == 0


def test_the_streams_acknowledgement_of_a_run_touches_no_offset():
    from faust._cython.streams import StreamIterator

    from agents.worker.app import create_app
    from agents.worker.batches import FeedTopic, Run
    from streams.core.settings import Settings

    app = create_app(Settings(metrics_port=0, topic_prefix="unit-batches.", app_id="unit-batches"))
    topic = FeedTopic(app, topics=[TOPIC])
    app.topics._acking_topics.add(TOPIC)
    event = topic.run_event(Run(TP0, fresh_messages(TP0, records(7, 8), None), generation=1))
    assert event.message.offset == 7 and event.message.generation_id == 1
    assert event.ack() is False  # the Python path
    StreamIterator(app.stream(topic)).after(event, True, None)  # the compiled path writes the books itself
    consumer = app.consumer
    assert not consumer._acked.get(TP0) and not consumer._acked_index.get(TP0) and consumer._n_acked == 0


async def test_a_message_by_faust_s_per_message_path_becomes_a_run_of_one():
    from faust.types.tuples import ConsumerMessage

    from agents.worker.app import create_app
    from agents.worker.batches import FeedTopic
    from streams.core.settings import Settings

    app = create_app(Settings(metrics_port=0, topic_prefix="unit-batches.", app_id="unit-batches"))
    message = ConsumerMessage(TOPIC, 0, 5, 0.0, 0, None, b"k", b"v5", None, generation_id=3)
    event = await FeedTopic(app, topics=[TOPIC]).decode(message)
    assert event.value.messages == [Message(TOPIC, 0, 5, b"v5", b"k")] and event.value.generation == 3
    assert event.message is not message and event.message.acked and not message.acked


async def test_the_worker_s_producer_waits_for_every_in_sync_replica_and_writes_a_retried_batch_once():
    from agents.worker.app import create_app
    from streams.core.settings import Settings

    app = create_app(Settings(metrics_port=0, topic_prefix="unit-batches.", app_id="unit-batches"))
    producer = app.producer._new_producer()  # not started: no broker needed
    assert producer._txn_manager is not None  # aiokafka's idempotence (sequence numbers per partition)
    assert producer._sender._acks == -1  # acks=all


async def test_a_large_run_is_cut_into_pieces_of_a_transaction_s_worth():
    from agents.worker.batches import Run, cut

    async def runs():
        yield Run(TP0, fresh_messages(TP0, records(*range(5)), None), 4)
        yield Run(TP0, fresh_messages(TP0, records(5), None), 4)

    pieces = [(run.tp, [m.offset for m in run.messages], run.generation) async for run in cut(runs(), 2)]
    assert pieces == [(TP0, [0, 1], 4), (TP0, [2, 3], 4), (TP0, [4], 4), (TP0, [5], 4)]


async def test_a_run_waiting_on_a_full_queue_is_dropped_when_the_queue_is_cleared_not_raised():
    """A rebalance or a stop clears the agents' queues, cancelling the fetcher's waiting put: the fetcher
    goes on (the run is read again from the committed offsets), it must not crash the worker; a
    cancellation of the fetcher itself still stops it."""
    import asyncio

    from mode.utils.queues import FlowControlEvent, ThrowableQueue

    from agents.worker.batches import BatchConsumer, Run

    flow = FlowControlEvent(initially_suspended=False)
    queue = ThrowableQueue(maxsize=1, flow_control=flow)
    await queue.put("a run already waiting for the agent")
    chan = SimpleNamespace(queue=queue, run_event=lambda run: run)
    run = Run(TP0, fresh_messages(TP0, records(1), None), generation=1)
    deliver = asyncio.ensure_future(BatchConsumer._deliver_run(None, [chan], run))
    await asyncio.sleep(0)  # now waiting on the full queue
    assert not deliver.done()
    queue.clear()
    assert await asyncio.wait_for(deliver, 5) is None  # dropped with the queue, not raised
    await queue.put("a run already waiting for the agent")
    stopped = asyncio.ensure_future(BatchConsumer._deliver_run(None, [chan], run))
    await asyncio.sleep(0)
    stopped.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopped

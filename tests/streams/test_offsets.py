"""Only stored messages are committed (agents/worker/offsets.py), driven without Kafka."""
from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

from faust.types import TP
from faust.types.tuples import ConsumerMessage

from agents.worker import offsets

FEED = TP("t.health", 0)
OTHER = TP("t.internal", 0)
offsets.guard([FEED.topic])


def consumer(committed=None):
    c = SimpleNamespace(_acked=defaultdict(list), _acked_index=defaultdict(set), _unacked_messages=set(),
                        _committed_offset=defaultdict(lambda: None), recorded=[])
    if committed is not None:
        c._committed_offset[FEED] = committed
    return c


def record(c, *numbers, tp=FEED):
    for n in numbers:
        c._acked[tp].append(n)
        c._acked_index[tp].add(n)


def new_offset(c, tp=FEED):
    return offsets._new_offset(c, tp)


def test_commit_starts_exactly_at_the_committed_offset():
    c = consumer(committed=100)
    record(c, 101, 102, 103)  # 100 not stored: the original logic committed 104 here (off by one)
    assert new_offset(c) is None
    record(c, 100)
    assert new_offset(c) == 104
    assert c._acked[FEED] == [] and c._acked_index[FEED] == set()


def test_commit_stops_at_the_first_hole_and_keeps_the_rest():
    c = consumer(committed=10)
    record(c, 12, 10, 11, 15, 16)
    assert new_offset(c) == 13
    assert c._acked[FEED] == [15, 16] and c._acked_index[FEED] == {15, 16}


def test_before_any_commit_the_first_run_counts():
    c = consumer()
    record(c, 0, 1, 2, 5)
    assert new_offset(c) == 3
    assert new_offset(consumer()) is None


def message(tp, offset):
    return ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, [], b"k", b"v", None, 1, 1, tp=tp)


def fake_ack(self, message):
    self.recorded.append(message.offset)
    message.acked = True
    return True


def test_an_unstored_feed_message_is_never_acknowledged():
    ack = offsets._ack(fake_ack)
    c = consumer()
    skipped, kept = message(FEED, 7), message(FEED, 8)
    c._unacked_messages.update({skipped, kept})
    offsets.stored([kept])
    assert ack(c, skipped) is False  # e.g. skipped by a stream during a rebalance
    assert ack(c, kept) is True
    assert c.recorded == [8]
    assert skipped.acked and skipped not in c._unacked_messages  # forgotten, not waited for


def test_other_topics_are_acknowledged_as_before():
    ack = offsets._ack(fake_ack)
    c = consumer()
    assert ack(c, message(OTHER, 3)) is True
    assert c.recorded == [3]


def test_a_faust_release_without_the_changed_methods_stops_the_worker(monkeypatch):
    import pytest
    from faust.transport.consumer import Consumer

    from streams.core.errors import IOCError

    monkeypatch.setattr(offsets, "_installed", False)
    monkeypatch.delattr(Consumer, "_add_gap")
    with pytest.raises(IOCError, match="_add_gap"):
        offsets.install()

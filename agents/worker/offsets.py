"""Commit to Kafka only the offsets of messages the database has stored.

The worker's guarantee — nothing lost — rests on one rule: a feed message's offset is committed
only after the transaction that stored its events has committed.  Faust's consumer acknowledges
messages in more places than that, and each of them has lost events under test
(``tests/faults/``):

- ``take_events`` acknowledges its batch in a ``finally``, also when the batch was never stored
  (the agent cancelled by a graceful stop while it waits for the database, or crashed);
- a stream *skips and acknowledges* the messages still queued from before a rebalance (flow
  control suspended, or an older consumer generation); after the rebalance the committed offset
  moves past them, although no worker stored them (``test_rebalance.py`` lost 893 of 100,148
  events this way);
- when a fetched offset jumps, the consumer takes the offsets between for a compacted topic's
  holes and acknowledges them itself (``Consumer._add_gap``); our topics have no holes: a jump is a
  record fetched before a rebalance's seek and delivered after it;
- the commit position is the first run of consecutive acknowledged offsets, checked against the
  last commit with an off-by-one (``min(acked) - committed > 1``), so one unacknowledged message
  right at the committed offset could be passed over.

The feed agents read their messages in runs (``agents.worker.batches``): no Faust code sees those
messages, and ``acknowledge()`` alone acknowledges their offsets, once their transaction has
committed, and only while the consumer is still in the generation they were read in and holds their
partition (a run stored across a rebalance is read again and recognised as stored).

``install()`` changes the consumer so that, on the guarded (feed) topics, an acknowledgement of a
message the worker did not mark with ``stored()`` is dropped: the message leaves the consumer's
books and its offset, and every later one of its partition, stays uncommitted until it is read
again and stored.  Re-read events are recognised as already stored (by id and time) and change
nothing.  Gaps are never acknowledged, and the commit position must start exactly at the last
committed offset.
"""
from __future__ import annotations

import logging
import weakref
from collections.abc import Iterable
from typing import Any, Optional

from faust.transport.consumer import Consumer
from faust.types import TP

from streams.core.errors import IOCError

log = logging.getLogger(__name__)

_guarded: set[str] = set()
_stored: weakref.WeakSet = weakref.WeakSet()
_installed = False


def guard(topics: Iterable[str]) -> None:
    """Topics whose offsets are committed only for messages marked ``stored``."""
    _guarded.update(topics)


def stored(messages: Iterable[Any]) -> None:
    """Mark Faust messages as stored (their transaction committed): they may be acknowledged."""
    for message in messages:
        _stored.add(message)


def acknowledge(consumer: Consumer, tp: TP, offsets: Iterable[int], generation: Optional[int]) -> int:
    """Acknowledge the stored ``offsets`` of ``tp`` read in consumer ``generation``; how many were new.

    Nothing is acknowledged while a rebalance stops the flow, after the generation changed or when the
    partition is no longer assigned: those offsets are read again, from the committed one."""
    if (generation != consumer.app.consumer_generation_id or not consumer.flow_active
            or tp not in consumer.assignment()):
        log.debug("%s: %s stored offsets from generation %s not acknowledged (now %s)", tp,
                  len(list(offsets)), generation, consumer.app.consumer_generation_id)
        return 0
    committed = consumer._committed_offset[tp]
    index = consumer._acked_index[tp]
    acked = consumer._acked[tp]
    before = len(acked)
    for offset in offsets:
        if (committed is None or offset >= committed) and offset not in index:
            index.add(offset)
            acked.append(offset)
    added = len(acked) - before
    consumer._n_acked += added
    return added


def _ack(original):
    def ack(self: Consumer, message) -> bool:
        if message.topic in _guarded and message not in _stored:
            if not message.acked:
                message.acked = True  # never counted again; read again after a restart or rebalance
                self._unacked_messages.discard(message)
                log.debug("%s[%s]@%s not stored: left uncommitted", message.topic, message.partition,
                          message.offset)
            return False
        _stored.discard(message)
        return original(self, message)

    ack.__wrapped__ = original  # type: ignore[attr-defined]
    return ack


async def _add_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
    if tp.topic in _guarded:
        log.info("%s: offsets %s to %s were skipped by the fetcher and stay uncommitted; they are read "
                 "again after the next rebalance or restart", tp, offset_from, offset_to)
        return
    await _original_add_gap(self, tp, offset_from, offset_to)


def _new_offset(self: Consumer, tp: TP) -> Optional[int]:
    """The offset to commit: the end of the run of acknowledged offsets that starts exactly at the
    last committed one (or at the first acknowledged one, before any commit)."""
    if tp.topic not in _guarded:
        return _original_new_offset(self, tp)
    acked = self._acked[tp]
    if not acked:
        return None
    acked.sort()
    committed = self._committed_offset[tp]
    if committed is not None and acked[0] > committed:
        return None  # the message at ``committed`` is not stored yet
    end = acked[0]
    count = 0
    for offset in acked:
        if offset > end:
            break
        end, count = offset + 1, count + 1  # duplicates of an offset cannot happen (acked_index)
    del acked[:count]
    self._acked_index[tp].difference_update(range(end - count, end))
    return end


_original_add_gap = Consumer._add_gap
_original_new_offset = Consumer._new_offset


def install() -> None:
    """Change Faust's consumer as the module's docstring says (once per process)."""
    global _installed
    if _installed:
        return
    missing = [name for name in ("ack", "_new_offset", "_add_gap", "assignment")
               if not callable(getattr(Consumer, name, None))]
    if missing:  # a Faust release changed the consumer: the guarantee cannot be kept blindly
        raise IOCError(f"faust-streaming's Consumer has no {', '.join(missing)}: agents/worker/offsets.py must be "
                       "brought up to this Faust release (run tests/faults) before the worker can run")
    Consumer.ack = _ack(Consumer.ack)  # type: ignore[method-assign]
    Consumer._add_gap = _add_gap  # type: ignore[method-assign]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
    _installed = True

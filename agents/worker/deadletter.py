"""Sending dead letters so that no message can stall its partition.

A dead letter carries the original bytes of what was rejected whenever the dead-letter topic can
take them.  When it cannot — the original plus its headers is larger than the producer's
``max_request_size`` (a message over ``IOC_MAX_MESSAGE_BYTES`` but under the broker's own limit,
as seen in production), or the broker refuses the record as too large — a *reference* is sent
instead: a small JSON document with the original's size, SHA-256 and first KiB, the reason, and
where it lies (topic, partition, offset, array index).  The original stays in its feed topic for
the topic's retention; the reference is enough to find it, check it and tell its producer.

Any other failure to send (broker unreachable, a timeout) is retried with backoff: the batch is
not acknowledged until its dead letters are delivered, exactly like a database outage holds it.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from agents.worker.pipeline import WRITE_RETRY, DeadLetter
from streams.core.backoff import Backoff
from streams.core.metrics import WorkerMetrics

log = logging.getLogger(__name__)

#: bytes of the original a reference carries
HEAD_BYTES = 1024
#: Kafka's per-record framing besides key, value and headers (record batch header 61 bytes, varints)
RECORD_OVERHEAD = 128


@dataclass(frozen=True, slots=True)
class Record:
    """What goes to the dead-letter topic for one dead letter."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    reference: bool = False


def record_size(key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]) -> int:
    """An upper bound of the size Kafka's producer computes for one record in its own batch."""
    return (RECORD_OVERHEAD + len(key or b"") + len(value)
            + sum(len(k.encode()) + len(v) + 10 for k, v in headers))


def reference(d: DeadLetter, why: str) -> Record:
    """A small stand-in for a dead letter too large for the dead-letter topic."""
    digest = hashlib.sha256(d.original).hexdigest()
    doc = {
        "ioc_reference": 1,
        "why": why,
        "reason": d.reason,
        "detail": d.detail[:1000],
        "size": len(d.original),
        "sha256": digest,
        "head_base64": base64.b64encode(d.original[:HEAD_BYTES]).decode(),
        "topic": d.topic,
        "partition": d.partition,
        "offset": d.offset,
        "index": d.index,
    }
    headers = [*d.headers(), ("ioc-reference", b"1"), ("ioc-original-size", str(len(d.original)).encode()),
               ("ioc-original-sha256", digest.encode())]
    return Record(d.key, orjson.dumps(doc), headers, reference=True)


def record_of(d: DeadLetter, max_bytes: int) -> Record:
    """The dead letter as it is when the topic can take it, else its reference."""
    headers = d.headers()
    size = record_size(d.key, d.original, headers)
    if size <= max_bytes:
        return Record(d.key, d.original, headers)
    return reference(d, f"{len(d.original)} bytes: the record ({size} bytes with headers) is over the "
                        f"dead-letter producer's limit of {max_bytes}")


Send = Callable[[Record], Awaitable[Awaitable[Any]]]  # enqueue; the awaitable it returns completes on delivery


class DeadLetterSender:
    """Delivers dead letters before their batch is acknowledged; never fails on a letter's size.

    ``send`` enqueues one record and returns an awaitable of its delivery; ``too_large`` says
    whether an exception (of either step) means the record is too large for the topic."""

    def __init__(self, send: Send, *, max_bytes: int, metrics: WorkerMetrics,
                 too_large: Callable[[BaseException], bool], backoff: Backoff | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.send = send
        self.max_bytes = max_bytes
        self.metrics = metrics
        self.too_large = too_large
        self.backoff = backoff or WRITE_RETRY
        self.sleep = sleep

    async def __call__(self, letters: Sequence[DeadLetter]) -> None:
        pending = []
        for d in letters:  # all enqueued first: the producer batches them
            delays = self.backoff.delays()  # one backoff per letter, over both steps
            pending.append((d, delays, *await self._enqueue(d, record_of(d, self.max_bytes), delays)))
        for d, delays, record, delivery in pending:
            await self._deliver(d, delays, record, delivery)

    async def _enqueue(self, d: DeadLetter, record: Record, delays: Iterator[float]) -> tuple[Record, Awaitable[Any]]:
        while True:
            try:
                return record, await self.send(record)
            except Exception as exc:
                record = await self._failed(d, record, exc, delays)

    async def _deliver(self, d: DeadLetter, delays: Iterator[float], record: Record, delivery: Awaitable[Any]) -> None:
        while True:
            try:
                await delivery
            except Exception as exc:
                record = await self._failed(d, record, exc, delays)
                record, delivery = await self._enqueue(d, record, delays)
                continue
            if record.reference:
                self.metrics.dead_letter_references.labels(d.reason).inc()
                log.warning("%s[%s]@%s (%s, %s bytes) dead-lettered as a reference: %s", d.topic, d.partition,
                            d.offset, d.reason, len(d.original), orjson.loads(record.value)["why"])
            return

    async def _failed(self, d: DeadLetter, record: Record, exc: Exception, delays: Iterator[float]) -> Record:
        """The record to try next after ``exc``: its reference when it was too large, else the same
        one after a pause (the broker is unreachable or busy: the batch waits, like for the database)."""
        if self.too_large(exc) and not record.reference:
            self.metrics.dead_letter_errors.labels("too_large").inc()
            return reference(d, f"{len(d.original)} bytes: the broker refused the record as too large ({exc})")
        self.metrics.dead_letter_errors.labels("unavailable").inc()
        delay = next(delays)
        log.error("dead letter of %s[%s]@%s not delivered, next try in %.1f s: %r", d.topic, d.partition,
                  d.offset, delay, exc)
        await self.sleep(delay)
        return record

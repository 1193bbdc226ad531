"""Dead letters too large for the dead-letter topic become references; sending never fails on size."""
import asyncio
import base64
import hashlib

import orjson
import pytest
from aiokafka.errors import KafkaTimeoutError, MessageSizeTooLargeError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faust.exceptions import ProducerSendError
from prometheus_client import CollectorRegistry

from agents.worker.deadletter import HEAD_BYTES, DeadLetterSender, record_of, record_size, reference
from agents.worker.pipeline import DeadLetter
from streams.core.backoff import Backoff
from agents.worker.workers import _too_large
from streams.core.metrics import WorkerMetrics

LIMIT = 1_000_000  # Faust's producer_max_request_size


def letter(original: bytes, reason: str = "too_large") -> DeadLetter:
    return DeadLetter(original, reason, f"message is {len(original)} bytes, limit 1000000", "ioc.health", 3, 41,
                      None, b"dvc")


def test_record_size_bounds_what_the_producer_computes():
    for value in (b"", b"x" * 100, b"y" * 999_000):
        d = letter(value, "not_json")
        headers = d.headers()
        assert record_size(d.key, value, headers) >= DefaultRecordBatchBuilder.estimate_size_in_bytes(
            d.key, value, headers)


def test_a_letter_the_topic_can_take_goes_whole():
    d = letter(b'{"id": 1', "not_json")
    rec = record_of(d, LIMIT)
    assert (rec.value, rec.key, rec.reference, rec.headers) == (d.original, b"dvc", False, d.headers())


@pytest.mark.parametrize("size,reason", [(1_010_022, "too_large"), (999_990, "not_json")])
def test_a_letter_over_the_producer_limit_becomes_a_reference(size, reason):
    original = b"[" + b"7" * (size - 1)
    rec = record_of(letter(original, reason), LIMIT)
    assert rec.reference and len(rec.value) < 4096
    doc = orjson.loads(rec.value)
    assert doc["size"] == size and doc["sha256"] == hashlib.sha256(original).hexdigest()
    assert base64.b64decode(doc["head_base64"]) == original[:HEAD_BYTES]
    assert (doc["reason"], doc["topic"], doc["partition"], doc["offset"], doc["index"]) == (
        reason, "ioc.health", 3, 41, None)
    assert "over the dead-letter producer's limit" in doc["why"]
    headers = dict(rec.headers)
    assert headers["ioc-reason"] == reason.encode() and headers["ioc-source-offset"] == b"41"
    assert headers["ioc-reference"] == b"1" and headers["ioc-original-size"] == str(size).encode()
    assert headers["ioc-original-sha256"] == doc["sha256"].encode()


class FakeTopic:
    """Records what is sent; raises what it is told to, at enqueue or on delivery."""

    def __init__(self, *, enqueue_errors=(), delivery_errors=()):
        self.enqueue_errors, self.delivery_errors = list(enqueue_errors), list(delivery_errors)
        self.sent = []

    async def send(self, record):
        if self.enqueue_errors:
            raise self.enqueue_errors.pop(0)
        fut = asyncio.get_running_loop().create_future()
        if self.delivery_errors:
            fut.set_exception(self.delivery_errors.pop(0))
        else:
            self.sent.append(record)
            fut.set_result(None)
        return fut


def sender(topic, limit=LIMIT):
    registry = CollectorRegistry()
    sleeps = []

    async def sleep(s):
        sleeps.append(s)

    s = DeadLetterSender(topic.send, max_bytes=limit, metrics=WorkerMetrics(registry), too_large=_too_large,
                         backoff=Backoff(0.5, 4), sleep=sleep)
    return s, sleeps, lambda name, **labels: registry.get_sample_value(name, labels) or 0


def size_error():
    try:
        raise MessageSizeTooLargeError("The message is 1010122 bytes when serialized")
    except MessageSizeTooLargeError as exc:
        try:
            raise ProducerSendError(f"Error while sending: {exc!r}") from exc
        except ProducerSendError as wrapped:
            return wrapped


async def test_the_producer_refusing_the_size_sends_the_reference():
    topic = FakeTopic(enqueue_errors=[size_error()])
    send, sleeps, metric = sender(topic, limit=10_000_000)  # our estimate lets it through; the producer does not
    await send([letter(b"x" * 2000)])
    (rec,) = topic.sent
    assert rec.reference and "refused the record as too large" in orjson.loads(rec.value)["why"]
    assert sleeps == [] and metric("ioc_dead_letter_errors_total", kind="too_large") == 1
    assert metric("ioc_dead_letter_references_total", reason="too_large") == 1


async def test_the_broker_refusing_the_size_sends_the_reference():
    topic = FakeTopic(delivery_errors=[MessageSizeTooLargeError()])
    send, sleeps, _ = sender(topic, limit=10_000_000)
    await send([letter(b"a" * 100, "not_json"), letter(b"b" * 100, "invalid")])
    assert [(r.reference, dict(r.headers)["ioc-reason"]) for r in topic.sent] == [
        (False, b"invalid"), (True, b"not_json")]


async def test_an_unreachable_broker_is_retried_not_given_up():
    topic = FakeTopic(enqueue_errors=[KafkaTimeoutError()], delivery_errors=[KafkaTimeoutError(), KafkaTimeoutError()])
    send, sleeps, metric = sender(topic)
    await send([letter(b"z", "not_json")])
    assert [r.value for r in topic.sent] == [b"z"]
    assert sleeps == [0.5, 1.0, 2.0] and metric("ioc_dead_letter_errors_total", kind="unavailable") == 3


def test_too_large_is_told_from_other_errors():
    assert _too_large(size_error()) and _too_large(MessageSizeTooLargeError())
    assert not _too_large(KafkaTimeoutError()) and not _too_large(RuntimeError("x"))
    assert not _too_large(ProducerSendError("Error while sending: KafkaConnectionError()"))


def test_a_reference_stays_small():
    d = DeadLetter(b"q" * 5_000_000, "internal_error", "d" * 5000, "ioc.health", 0, 1, 7, b"k" * 200)
    rec = reference(d, "why")
    assert record_size(rec.key, rec.value, rec.headers) < 8192

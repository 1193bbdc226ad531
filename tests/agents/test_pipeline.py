import asyncio
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from prometheus_client import CollectorRegistry

from agents.indicators.health import HEALTH_FEED
from agents.worker.pipeline import FeedPipeline, Message
from streams.core.backoff import Backoff
from streams.core.errors import SinkError, SinkUnavailable
from streams.core.metrics import WorkerMetrics
from agents.worker.sinks.base import MemorySink
from streams.core.validation import Decoder

NOW = datetime(2026, 11, 27, 1, 0, 30, tzinfo=timezone.utc)


def probe(i, ok=True, at=NOW - timedelta(seconds=5)):
    return {"id": f"p{i}", "type": "ServiceProbe", "system": "dvc", "endpoint": "/",
            "dateObserved": at.isoformat(), "success": ok, "latency_ms": 40.0}


def msg(value, offset=0, partition=0):
    return Message("ioc.health", partition, offset, value if isinstance(value, bytes) else orjson.dumps(value))


class Harness:
    def __init__(self, sink=None, **options):
        self.registry = CollectorRegistry()
        self.sink = sink or MemorySink()
        self.dead = []
        self.sleeps = []

        async def dead(letters):
            self.dead.extend(letters)

        async def sleep(s):
            self.sleeps.append(s)

        self.pipeline = FeedPipeline(HEALTH_FEED, Decoder("health", clock=lambda: NOW), self.sink, dead,
                                     WorkerMetrics(self.registry), backoff=Backoff(0.5, 4), clock=lambda: NOW,
                                     sleep=sleep, **options)

    def metric(self, name, **labels):
        return self.registry.get_sample_value(name, labels) or 0

    def window(self, system="dvc"):
        rows = self.sink.counters["health_window"]
        return next(r for k, r in rows.items() if k[0] == system and k[1] == "*" and k[2] == 60)


async def test_a_batch_of_large_arrays_is_written_in_bounded_transactions():
    class Counting(MemorySink):
        sizes: list[int] = []

        async def write(self, spec, events, stats):
            self.sizes.append(len(events))
            return await super().write(spec, events, stats)

    h = Harness(Counting(), max_events=5)
    bad = {"id": "x", "type": "ServiceProbe"}
    batch = [msg([probe(i) for i in range(k, k + 3)] + ([bad] if k == 3 else []), k) for k in (0, 3, 6, 9)]
    out = await h.pipeline.process(batch)
    assert h.sink.sizes == [6, 6]  # whole messages, up to the first one past 5 events
    assert (out.messages, out.events, out.fresh, len(out.rejected)) == (4, 12, 12, 1)
    assert len(h.dead) == 1 and h.window()["probes"] == 12
    src = next(iter(h.sink.counters["source_window"].values()))
    assert (src["received"], src["rejected"], src["accepted"]) == (13, 1, 12)
    out = await h.pipeline.process(batch)  # read again after a crash between the two transactions
    assert (out.fresh, out.duplicates) == (0, 12) and h.window()["probes"] == 12


async def test_good_events_are_stored_and_counted_once_even_when_replayed():
    h = Harness()
    batch = [msg([probe(1), probe(2, ok=False)], 0), msg(probe(3), 1)]
    out = await h.pipeline.process(batch)
    assert (out.events, out.fresh, out.duplicates) == (3, 3, 0)
    out = await h.pipeline.process(batch)  # the same messages again, as after a crash
    assert (out.fresh, out.duplicates) == (0, 3)
    w = h.window()
    assert (w["probes"], w["probes_ok"]) == (3, 2)
    assert h.metric("ioc_events_duplicate_total", topic="ioc.health") == 3


async def test_a_bad_event_in_an_array_rejects_only_itself():
    h = Harness()
    bad = {**probe(2), "latency_ms": -5}
    out = await h.pipeline.process([msg([probe(1), bad, probe(3)])])
    assert out.fresh == 2
    assert [(d.reason, d.index) for d in h.dead] == [("invalid", 1)]
    assert orjson.loads(h.dead[0].original) == bad
    headers = dict(h.dead[0].headers())
    assert headers["ioc-reason"] == b"invalid" and b"latency_ms" in headers["ioc-detail"]
    assert h.metric("ioc_dead_letters_total", topic="ioc.health", reason="invalid") == 1


async def test_not_json_keeps_the_original_bytes():
    h = Harness()
    await h.pipeline.process([msg(b"\xff\xfe{oops", 7)])
    (d,) = h.dead
    assert (d.reason, d.original, d.offset, d.index) == ("not_json", b"\xff\xfe{oops", 7, None)
    src = next(iter(h.sink.counters["source_window"].values()))
    assert (src["received"], src["rejected"], src["accepted"]) == (1, 1, 0)


async def test_late_events_beyond_the_allowance_are_dead_lettered():
    h = Harness()
    await h.pipeline.process([msg(probe(1, at=NOW))])
    await h.pipeline.process([msg(probe(2, at=NOW - timedelta(minutes=11)), 1)])
    assert [d.reason for d in h.dead] == ["late"]


class FlakySink(MemorySink):
    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    async def write(self, spec, events, stats):
        if self.failures:
            self.failures -= 1
            raise SinkUnavailable("connection refused")
        return await super().write(spec, events, stats)


async def test_database_outage_holds_the_batch_and_retries_with_backoff():
    h = Harness(FlakySink(4))
    out = await h.pipeline.process([msg(probe(1))])
    assert out.fresh == 1
    assert h.sleeps == [0.5, 1.0, 2.0, 4.0]
    assert h.metric("ioc_sink_errors_total", topic="ioc.health", kind="unavailable") == 4
    assert h.metric("ioc_sink_up") == 1


class HangingSink(MemorySink):
    """A write that waits until released, as a commit waiting for a lost synchronous standby does."""

    def __init__(self):
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def write(self, spec, events, stats):
        self.entered.set()
        await self.release.wait()
        return await super().write(spec, events, stats)


async def test_a_write_that_hangs_without_failing_shows_as_waiting():
    h = Harness(HangingSink())
    clock = [100.0]
    h.pipeline.metrics.writes.clock = lambda: clock[0]
    assert h.metric("ioc_sink_write_waiting_seconds") == 0
    task = asyncio.create_task(h.pipeline.process([msg(probe(1))]))
    await h.sink.entered.wait()
    clock[0] = 175.0
    assert h.metric("ioc_sink_write_waiting_seconds") == 75.0  # no error counted: only this moves
    assert h.metric("ioc_sink_errors_total", topic="ioc.health", kind="unavailable") == 0
    h.sink.release.set()
    assert (await task).fresh == 1
    assert h.metric("ioc_sink_write_waiting_seconds") == 0


async def test_only_the_oldest_write_in_progress_counts():
    from streams.core.metrics import InFlight

    clock = [0.0]
    writes = InFlight(lambda: clock[0])
    with writes.write():
        clock[0] = 10.0
        with writes.write():
            clock[0] = 12.0
            assert writes.oldest_age() == 12.0
        assert writes.oldest_age() == 12.0
    assert writes.oldest_age() == 0.0


class FailsOnP2(MemorySink):
    """A sink that raises ``exc`` for every batch holding the event ``p2``: ``SinkError`` is the database
    refusing it, another exception a bug of the code on it."""

    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    async def write(self, spec, events, stats):
        if any(e.id == "p2" for e in events):
            raise self.exc
        return await super().write(spec, events, stats)


async def test_an_event_the_database_refuses_is_dead_lettered_alone():
    h = Harness(FailsOnP2(SinkError("value out of range", table="health_event")))
    out = await h.pipeline.process([msg([probe(1), probe(2), probe(3)])])
    assert out.fresh == 2
    assert [d.reason for d in h.dead] == ["sink_rejected"]
    assert b'"p2"' in h.dead[0].original


@pytest.mark.parametrize("value,reason", [
    (b"[" * 5000 + b"]" * 5000, "not_json"),
    (b'{"id":"x","type":"Nope"}', "unknown_type"),
    (b"42", "not_an_object"),
])
async def test_reasons(value, reason):
    h = Harness()
    await h.pipeline.process([msg(value)])
    assert [d.reason for d in h.dead] == [reason]


class BrokenDecoder(Decoder):
    """A decoder with a bug on one input (an exception no contract check catches)."""

    def decode(self, raw, now=None):
        if raw and b"boom" in raw:
            raise OverflowError("date value out of range")
        return super().decode(raw, now)


async def test_a_message_the_decoder_fails_on_is_dead_lettered_and_its_neighbours_stored():
    h = Harness()
    h.pipeline.decoder = BrokenDecoder("health", clock=lambda: NOW)
    out = await h.pipeline.process([msg(probe(1), 0), msg(b'{"boom": 1}', 1), msg(probe(3), 2)])
    assert out.fresh == 2
    (d,) = h.dead
    assert (d.reason, d.offset, d.original) == ("internal_error", 1, b'{"boom": 1}')
    assert "OverflowError" in d.detail
    assert h.metric("ioc_dead_letters_total", topic="ioc.health", reason="internal_error") == 1


async def test_an_event_the_writer_fails_on_is_dead_lettered_alone():
    h = Harness(FailsOnP2(TypeError("unsupported operand type(s)")))
    out = await h.pipeline.process([msg([probe(1), probe(2), probe(3)])])
    assert out.fresh == 2
    assert [d.reason for d in h.dead] == ["internal_error"]
    assert b'"p2"' in h.dead[0].original and "TypeError" in h.dead[0].detail
    assert h.metric("ioc_sink_errors_total", topic="ioc.health", kind="internal") == 2  # the batch, then p2 alone


async def test_an_outage_is_still_held_never_dead_lettered():
    h = Harness(FlakySink(3))
    h.pipeline.decoder = BrokenDecoder("health", clock=lambda: NOW)
    out = await h.pipeline.process([msg(probe(1), 0), msg(b"boom", 1)])
    assert out.fresh == 1 and h.sleeps == [0.5, 1.0, 2.0]
    assert [d.reason for d in h.dead] == ["internal_error"]


async def test_a_batch_failing_outside_the_guards_goes_again_message_by_message():
    calls = []

    def clock():  # the batch's first reading of the clock fails; the retries succeed
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("clock source gone")
        return NOW

    h = Harness()
    h.pipeline.clock = clock
    out = await h.pipeline.process([msg(probe(1), 0), msg(probe(2), 1)])
    assert (out.messages, out.fresh, out.rejected) == (2, 2, [])
    assert h.window()["probes"] == 2


async def test_a_message_failing_even_alone_is_dead_lettered_whole():
    h = Harness()
    flush = h.pipeline._flush

    async def buggy_flush(part, out):  # a bug outside every inner guard
        if any(d.reason == "not_json" for d in part.rejected):
            raise RuntimeError("flush bug")
        return await flush(part, out)

    h.pipeline._flush = buggy_flush
    out = await h.pipeline.process([msg(probe(1), 0), msg(b"not json", 1), msg(probe(3), 2)])
    assert out.fresh == 2 and h.window()["probes"] == 2
    assert [(d.reason, d.offset, d.original) for d in h.dead] == [("internal_error", 1, b"not json")]
    assert "RuntimeError: flush bug" in h.dead[0].detail


async def test_late_events_in_arrays_are_judged_by_the_mark_of_the_events_before_them():
    """A message's events are judged in order: one is late when it is more than the allowance behind the
    newest event before it, in earlier messages or earlier in its own array (the sequential rule, checked
    over random arrays, with none of the ids stored before: every event behind is late, not replayed)."""
    import random
    rng = random.Random(7)
    h = Harness()
    allowance = h.pipeline.late_allowance
    mark, expected, n = None, [], 0
    for offset in range(60):
        batch = []
        for _ in range(rng.randint(1, 4)):
            n += 1
            at = NOW - timedelta(minutes=rng.choice([0, 1, 5, 9, 10, 11, 15, 30, 40]), seconds=rng.randint(0, 59))
            if mark is not None and at < mark - allowance:
                expected.append(f"p{n}")
            elif mark is None or at > mark:
                mark = at
            batch.append(probe(n, at=at))
        await h.pipeline.process([msg(batch if len(batch) > 1 else batch[0], offset)])
    late = [orjson.loads(d.original)["id"] for d in h.dead if d.reason == "late"]
    assert late == expected and 5 < len(expected) < n - 5

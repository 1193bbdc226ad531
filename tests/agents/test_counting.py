"""An id counts once per feed family, whatever its timestamp (docs/contracts.md), through the
pipeline and the in-memory sink; tests/streams/test_counting_db.py does the same with TimescaleDB."""
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import orjson
from prometheus_client import CollectorRegistry

from agents.worker.pipeline import FeedPipeline, Message
from streams.core.backoff import Backoff
from streams.core.windows import window_start
from agents.worker.workers import FEED_SPECS
from streams.core.geography import load_province
from streams.core.metrics import WorkerMetrics
from streams.core.settings import DEFAULT_PROVINCE_FILE
from agents.worker.sinks.base import MemorySink
from streams.core.tables import PRODUCER_WINDOW, SOURCE_WINDOW, SOURCE_WINDOW_S
from streams.core.validation import Decoder
from tests.agents.memory import cut_to_milliseconds, simulated_feed, stored, with_microseconds

START = datetime(2026, 3, 2, 2, 30, tzinfo=timezone.utc)
BOUNDS = load_province(DEFAULT_PROVINCE_FILE).bounds


def pipelines(sink, clock):
    async def dead(letters):
        dead.letters.extend(letters)

    async def sleep(_):
        return None

    dead.letters = []
    return {s.family: FeedPipeline(s, Decoder(s.family, bounds=BOUNDS, clock=clock), sink, dead,
                                   WorkerMetrics(CollectorRegistry()), backoff=Backoff(0.01, 0.01), clock=clock,
                                   sleep=sleep)
            for s in FEED_SPECS}, dead.letters


def messages(feed, family, offset=0):
    return [Message(f"ioc.{family}", 0, offset + i, orjson.dumps(e)) for i, (f, e) in enumerate(feed) if f == family]


def source_rows(sink, family):
    return [r for k, r in sink.counters[SOURCE_WINDOW.name].items() if k[0] == family]


def producer_rows(sink, family):
    return [r for k, r in sink.counters[PRODUCER_WINDOW.name].items() if k[0] == family]


async def test_an_event_re_sent_with_its_time_cut_to_milliseconds_is_a_duplicate_in_every_family():
    feed = [(f, with_microseconds(e)) for f, e in simulated_feed(START)]
    resent = [(f, cut_to_milliseconds(e)) for f, e in feed]
    assert resent[0][1]["dateObserved"] != feed[0][1]["dateObserved"]
    end = START + timedelta(minutes=6)
    sink = MemorySink()
    runs, letters = pipelines(sink, lambda: end)
    counts = defaultdict(int)
    for family, run in runs.items():
        out = await run.process(messages(feed, family))
        counts[family] = out.fresh
    assert all(counts.values()) and not letters, (counts, letters[:1])
    before = stored(sink)
    raw_before = {name: dict(rows) for name, rows in sink.raw.items()}
    for family, run in runs.items():
        out = await run.process(messages(resent, family, offset=100_000))
        assert (out.fresh, out.duplicates) == (0, counts[family]), family
    assert not letters
    assert stored(sink) == before  # every window, day and state table as it was
    assert {name: dict(rows) for name, rows in sink.raw.items()} == raw_before  # the first copies only
    for family in runs:
        (src,) = source_rows(sink, family)
        assert (src["accepted"], src["duplicates"], src["rejected"]) == (counts[family], counts[family], 0)
        producers = producer_rows(sink, family)
        assert len(producers) > 1, family  # counted per system, camera link, station, unit …
        assert sum(r["accepted"] for r in producers) == counts[family]  # the re-send added no event
        assert sum(r["duplicates"] for r in producers) == counts[family]
        assert sum(r["received"] for r in producers) == 2 * counts[family]
        assert all(r["invalid"] == r["late"] == r["dropped"] == 0 for r in producers)


async def test_a_replay_behind_the_late_allowance_counts_as_duplicates_not_as_late():
    def probe(i, at):
        return {"id": f"replay-{i}", "type": "ServiceProbe", "system": "dvc", "endpoint": "/",
                "dateObserved": at.isoformat(), "success": True, "latency_ms": 40.0}

    clock = [START]
    sink = MemorySink()
    runs, letters = pipelines(sink, lambda: clock[0])
    run = runs["health"]
    batch = [Message("ioc.health", 0, i, orjson.dumps(probe(i, START + timedelta(seconds=i)))) for i in range(20)]
    assert (await run.process(batch)).fresh == 20
    newer = START + timedelta(minutes=15)  # the newest event moves 15 min ahead: the batch is now 'late'
    clock[0] = newer
    await run.process([Message("ioc.health", 0, 20, orjson.dumps(probe(20, newer)))])
    clock[0] = newer + timedelta(minutes=1)  # a source_window row of its own
    stray = Message("ioc.health", 0, 41, orjson.dumps(probe(99, START)))  # never stored: late indeed
    out = await run.process([Message(m.topic, 0, 21 + m.offset, m.value) for m in batch] + [stray])
    assert (out.fresh, out.duplicates) == (0, 20)
    assert [d.reason for d in letters] == ["late"] and b"replay-99" in letters[0].original
    src = sink.counters[SOURCE_WINDOW.name][("health", window_start(clock[0], SOURCE_WINDOW_S))]
    assert (src["received"], src["duplicates"], src["rejected"], src["accepted"]) == (21, 20, 1, 0)
    assert sink.counters["health_window"][("dvc", "*", 60, START)]["probes"] == 20

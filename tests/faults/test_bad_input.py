"""The corpus of malformed messages: every bad event dead-lettered with its reason, every good
one stored, hostile text kept as sent — through the pure pipeline, and once through the real
worker on the private stack (reasons read from the dead-letter topic's ``ioc-reason`` header)."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry

from agents.worker.pipeline import FeedPipeline, Message
from agents.worker.workers import FEED_SPECS
from streams.kafka.admin import create_topics
from streams.core.metrics import WorkerMetrics
from agents.worker.sinks.base import MemorySink
from streams.core.validation import Decoder, Limits
from tests.faults.corpus import HTML, OK, SQL, VIETNAMESE, Case, corpus, elements
from tests.faults.harness import FaultRun, produce
from tests.streams.test_contracts import BOUNDS
from tests.support import read_dead_letters, wait_for

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
LIMIT = 200_000  # max_message_bytes of these runs: the oversized case stays far below Kafka's own limit
SPECS = {s.family: s for s in FEED_SPECS}
HOSTILE = (SQL, HTML, VIETNAMESE)


def strings(value: Any) -> set[str]:
    """Every string inside a row (JSON columns included)."""
    if isinstance(value, str):
        try:
            inner = orjson.loads(value)
        except orjson.JSONDecodeError:
            return {value}
        return {value} | (strings(inner) if isinstance(inner, (dict, list)) else set())
    if isinstance(value, dict):
        return set().union(*(strings(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(strings(v) for v in value)) if value else set()
    return set()


def hostile_text(case: Case) -> str | None:
    return next((t for t in HOSTILE if case.value and orjson.dumps(t)[1:-1] in case.value
                 and case.expect[0][0] == OK), None)


def test_the_corpus_through_the_pipeline(fault_report):
    cases = corpus(NOW, max_message_bytes=LIMIT)
    sink, letters = MemorySink(), []

    async def dead_letter(batch):
        letters.extend(batch)

    metrics = WorkerMetrics(CollectorRegistry())
    pipelines = {f: FeedPipeline(spec, Decoder(f, limits=Limits(max_message_bytes=LIMIT), bounds=BOUNDS,
                                               clock=lambda: NOW), sink, dead_letter, metrics, clock=lambda: NOW)
                 for f, spec in SPECS.items()}
    reasons: Counter = Counter()
    loop = asyncio.new_event_loop()
    try:
        for offset, case in enumerate(cases):
            before = len(letters)
            loop.run_until_complete(pipelines[case.family].process(
                [Message(case.family, hash(case.key) % 2, offset, case.value, case.key.encode())]))
            mine = {d.index: d for d in letters[before:]}
            stored = {i for i, _ in sink.raw.get(SPECS[case.family].raw.name, {})}
            for index, outcome, ident in elements(case):
                if outcome == OK:
                    assert ident in stored, f"{case.name}: {ident} not stored"
                else:
                    assert index in mine and mine[index].reason == outcome, (case.name, index, mine)
                    reasons[outcome] += 1
            assert len(mine) == sum(o != OK for _, o, _ in elements(case)), case.name
            if text := hostile_text(case):
                row = next(r for (i, _), r in sink.raw[SPECS[case.family].raw.name].items() if i == case.good_ids[0])
                assert text in strings(list(row)), f"{case.name}: {text!r} not kept in {row}"
    finally:
        loop.close()
    fault_report.add("corpus", where="pipeline", cases=len(cases), good=sum(len(c.good_ids) for c in cases),
                     rejected=dict(sorted(reasons.items())))


def test_the_corpus_through_the_worker(private_stack, fault_report, tmp_path):
    base = private_stack.settings(topic_prefix="corpus.", max_message_bytes=LIMIT)
    create_topics(base, log_fn=lambda *_: None)
    cases = corpus(datetime.now(timezone.utc), max_message_bytes=LIMIT)
    run = FaultRun(private_stack, base, "corpus", tmp_path)
    try:
        run.start_worker()
        placed = produce(base, [(c.family, c.key, c.value) for c in cases])
        wanted: dict[tuple[str, int, int, int | None], tuple[str, str]] = {}
        good: dict[str, list[str]] = {}
        for case, where in zip(cases, placed):
            for index, outcome, ident in elements(case):
                if outcome == OK:
                    good.setdefault(SPECS[case.family].raw.name, []).append(ident)
                else:
                    wanted[(where.topic, where.partition, where.offset, index)] = (outcome, case.name)
        def source(h: dict[str, str]) -> tuple[str, int, int, int | None]:
            index = int(h["ioc-source-index"]) if "ioc-source-index" in h else None
            return h["ioc-source-topic"], int(h["ioc-source-partition"]), int(h["ioc-source-offset"]), index

        read = read_dead_letters(base, lambda letters: len({source(h) for h, _ in letters}) >= len(wanted), timeout=90,
                                 what=f"{len(wanted)} dead letters", logs=run.log_tails,
                                 max_partition_fetch_bytes=2 * LIMIT)
        found = {source(h): h for h, _ in read}
        assert set(found) == set(wanted), (set(wanted) - set(found), set(found) - set(wanted))
        wrong = {wanted[k][1]: (wanted[k][0], h["ioc-reason"]) for k, h in found.items()
                 if h["ioc-reason"] != wanted[k][0]}
        assert not wrong, wrong
        for table, ids in good.items():
            wait_for(lambda t=table, i=ids: run.query(f"SELECT count(*) FROM {t} WHERE id = ANY(%s)", (i,)
                                                     )[0][0] == len(i),
                     timeout=30, what=f"{len(ids)} good events in {table}")
        for case in cases:
            if text := hostile_text(case):
                ((row,),) = run.query(f"SELECT row_to_json(t) FROM {SPECS[case.family].raw.name} t WHERE id = %s",
                                      (case.good_ids[0],))
                assert text in strings(row), f"{case.name}: {text!r} not stored as sent: {row}"
        assert run.workers[0].alive(), run.log_tails()
        fault_report.add("corpus", where="worker", cases=len(cases), dead_letters=len(found),
                         good=sum(len(i) for i in good.values()),
                         reasons=dict(sorted(Counter(h["ioc-reason"] for h in found.values()).items())))
    finally:
        run.close()

"""Property-based fuzzing of every contract: no crash, every bad event rejected with a reason,
every accepted event processed and storable in PostgreSQL.

Messages start from a valid event of every type and are mutated: fields replaced by arbitrary
JSON, removed, or set to hostile text, extreme numbers, timestamps anywhere in years 1–9999 with
any offset, scoped IP addresses; events are sent alone or in arrays, and the bytes are cut or
corrupted.  Pure: ``Decoder`` and ``FeedPipeline`` with the in-memory sink, no services.
"""
from __future__ import annotations

import asyncio
import ipaddress
import math
from collections import Counter
from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from agents.worker.pipeline import FeedPipeline, Message
from agents.worker.workers import FEED_SPECS
from streams.core.families import MODELS
from streams.core.metrics import WorkerMetrics
from agents.worker.sinks.base import MemorySink
from streams.core.tables import FeedSpec
from streams.core.validation import Decoder, Limits
from tests.faults.corpus import examples
from tests.streams.test_contracts import BOUNDS

pytestmark = pytest.mark.integration  # with the other fault tests, outside `make unit`

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
LIMITS = Limits(max_message_bytes=20_000, max_events_per_message=50)
EXAMPLES = examples(NOW)
SPECS = {s.family: s for s in FEED_SPECS}
REASONS = {"empty", "too_large", "not_json", "too_many_events", "not_an_object", "invalid", "unknown_type",
           "future_timestamp", "too_old", "out_of_area", "late"}
EXAMPLES_PER_FAMILY = 200
STATS: dict[str, Counter] = {}

# --- what PostgreSQL accepts, per column type of the raw tables ---------------------------------------

INT_RANGE = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


def storable(value, pg_type: str) -> str | None:
    """Why PostgreSQL would refuse ``value`` in a column of ``pg_type``; None when it takes it."""
    if value is None:
        return None
    if pg_type in ("text", "jsonb") and "\x00" in value:
        return "NUL character"
    if pg_type == "jsonb" and "\\u0000" in value:
        return "\\u0000 in JSON"
    if pg_type == "inet":
        if "%" in value:
            return "scoped address"
        ipaddress.ip_address(value)
    if pg_type in INT_RANGE and not -INT_RANGE[pg_type] <= value < INT_RANGE[pg_type]:
        return f"{value} out of {pg_type} range"
    if pg_type in ("double precision", "real") and not math.isfinite(value):
        return "not finite"
    if pg_type == "real" and abs(value) > 3.4e38:
        return "out of real range"
    if pg_type == "timestamptz" and (value.tzinfo is None or value.utcoffset() != timedelta(0)):
        return "not UTC"
    return None


def refused(spec: FeedSpec, event) -> list[str]:
    return [f"{column}: {why}" for (column, pg_type), value in zip(spec.raw.columns, spec.raw.to_row(event))
            if (why := storable(value, pg_type))]


# --- mutations ---------------------------------------------------------------------------------------

TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
OFFSETS = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
TIMESTAMPS = st.one_of(
    st.datetimes(timezones=OFFSETS).map(datetime.isoformat),  # anywhere in years 1–9999
    st.datetimes(NOW.replace(tzinfo=None) - timedelta(days=500), NOW.replace(tzinfo=None) + timedelta(days=1),
                 timezones=OFFSETS).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),  # naive
    st.builds(lambda d, tz: d.replace(tzinfo=tz).isoformat(),  # the ends of the calendar
              st.sampled_from([datetime.min, datetime.max, datetime(1, 1, 1, 12), datetime(9999, 12, 31, 12)]),
              OFFSETS),
    TEXT,
)
NUMBERS = st.one_of(st.sampled_from([0, -1, 1, 65535, 65536, 2**31, 2**63 - 1, 2**64 - 1, 1e308, -1e308, 5e-324,
                                     0.5, 599, 600, 100, 1e39]), st.floats(), st.integers(-(2**63), 2**64 - 1))
ADDRESSES = st.one_of(st.ip_addresses().map(str), st.tuples(st.ip_addresses(v=6), TEXT).map(lambda t: f"{t[0]}%{t[1]}"),
                      TEXT)
TEXTS = st.one_of(TEXT, st.sampled_from(["'); DROP TABLE health_event; --", "<script>alert(1)</script>",
                                         "Phản ánh hiện trường – Kiên Giang", "a\x00b", " ", "x" * 5000]))


def _value_for(key: str, old):
    if key in ("dateObserved", "start_time", "end_time", "received_date", "due_date", "resolved_date",
               "reported_at", "deadline", "dateLastValueReported"):
        return TIMESTAMPS
    if key.endswith("_ip"):
        return ADDRESSES
    if isinstance(old, bool):
        return st.one_of(st.booleans(), JSON)
    if isinstance(old, (int, float)):
        return NUMBERS
    if isinstance(old, str):
        return TEXTS
    return JSON


@st.composite
def mutated(draw, family: str) -> dict:
    event = dict(draw(st.sampled_from(EXAMPLES[family])))
    event["id"] = draw(st.one_of(st.just(event["id"]), TEXT))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.one_of(st.sampled_from(sorted(event)), TEXT))
        if draw(st.integers(0, 5)) == 0:
            event.pop(key, None)
        else:
            event[key] = draw(_value_for(key, event.get(key)))
    return event


@st.composite
def messages(draw, family: str) -> bytes:
    events = draw(st.lists(mutated(family), min_size=1, max_size=5))
    raw = orjson.dumps(events if len(events) > 1 or draw(st.booleans()) else events[0])
    damage = draw(st.integers(0, 9))
    if damage == 0:  # cut
        raw = raw[: draw(st.integers(0, len(raw)))]
    elif damage == 1:  # corrupt a byte
        i = draw(st.integers(0, len(raw) - 1))
        raw = raw[:i] + bytes([draw(st.integers(0, 255))]) + raw[i + 1:]
    elif damage == 2:  # something else entirely
        raw = draw(st.one_of(st.binary(max_size=64), JSON.map(orjson.dumps)))
    return raw


# --- the property --------------------------------------------------------------------------------------


def expected_elements(raw: bytes) -> int:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return 1
    if len(raw) > LIMITS.max_message_bytes:
        return 1
    if isinstance(doc, list):
        return len(doc) if len(doc) <= LIMITS.max_events_per_message else 1
    return 1


DECODERS = {family: Decoder(family, limits=LIMITS, bounds=BOUNDS, clock=lambda: NOW) for family in EXAMPLES}
METRICS = WorkerMetrics(CollectorRegistry())


def check_message(family: str, raw: bytes, loop: asyncio.AbstractEventLoop) -> None:
    decoder = DECODERS[family]
    decoded = decoder.decode(raw)  # never raises
    stats = STATS.setdefault(family, Counter())
    stats["examples"] += 1
    assert len(decoded.events) + len(decoded.rejected) == expected_elements(raw)
    for rej in decoded.rejected:
        assert rej.reason in REASONS, rej
        assert rej.detail and not rej.detail.startswith("validation failed:"), rej  # a contract's own error
        stats[f"rejected:{rej.reason}"] += 1
    models = MODELS[family]
    for ev in decoded.events:
        stats["accepted"] += 1
        assert isinstance(ev, models)
        assert NOW - LIMITS.max_age <= ev.event_time <= NOW + LIMITS.future_tolerance
        assert not refused(SPECS[family], ev), (ev, refused(SPECS[family], ev))
        # what a dead letter of a late event carries decodes to the same event
        assert decoder.check(orjson.loads(ev.model_dump_json()), NOW) == ev

    letters = []

    async def dead_letter(batch):
        letters.extend(batch)

    sink = MemorySink()
    pipeline = FeedPipeline(SPECS[family], decoder, sink, dead_letter, METRICS, clock=lambda: NOW)
    outcome = loop.run_until_complete(pipeline.process([Message(family, 0, 0, raw, b"k")]))
    late = [d for d in letters if d.reason == "late"]  # behind an earlier event of the same message
    assert outcome.events + len(late) == len(decoded.events)
    assert sorted(d.reason for d in letters if d.reason != "late") == sorted(r.reason for r in decoded.rejected)
    assert all(dict(d.headers())["ioc-reason"].decode() in REASONS for d in letters)
    kept = Counter((e.id, e.event_time) for e in decoded.events)  # each late copy is one event less
    kept.subtract((e.id, e.event_time) for e in map(decoder.adapter.validate_json, (d.original for d in late)))
    # an id is stored once whatever its timestamp (the family's id ledger): two copies of an id at two
    # times are one row
    assert len(sink.raw.get(SPECS[family].raw.name, {})) == len({i for (i, _), n in kept.items() if n > 0})


@pytest.fixture(scope="module")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.parametrize("family", list(EXAMPLES))
def test_every_contract_survives_fuzzed_messages(family, loop, fault_report):
    @settings(max_examples=EXAMPLES_PER_FAMILY, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(raw=messages(family))
    def run(raw):
        check_message(family, raw, loop)

    run()
    stats = STATS.get(family, Counter())
    fault_report.add("fuzz", family=family, **dict(sorted(stats.items())))

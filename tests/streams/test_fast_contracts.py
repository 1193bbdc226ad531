"""The msgspec fast path against pydantic, side by side: the same events accepted, with equal values,
the same rejects with the same reason, detail and bytes; and the generator refuses what it does not
translate."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_validator,
                      model_validator)

from bench.feed import simulate_pool
from streams.core.contracts.base import Event
from streams.core.contracts.fast import Unsupported, shape_types
from streams.core.families import CONTRACTS, FAMILIES, fast_adapter
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.core.tables import attr_fields, attrs_json
from streams.core.validation import Decoder, Limits
from tests.faults.corpus import corpus, examples
from tests.faults.test_fuzz import messages
from tests.streams.test_contracts import BOUNDS

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
LIMITS = Limits(max_message_bytes=200_000, max_events_per_message=600)
EXAMPLES = examples(NOW)


def decoders(family: str) -> tuple[Decoder, Decoder]:
    return tuple(Decoder(family, limits=LIMITS, bounds=BOUNDS, clock=lambda: NOW, fast=fast) for fast in (False, True))


DECODERS = {f.name: decoders(f.name) for f in FAMILIES}


def fingerprint(event: BaseModel) -> tuple:
    """Everything a decoded event holds, types included (5 and 5.0 differ, so do time zones)."""
    return type(event), repr(event.__dict__), event.model_dump_json()


def assert_same(family: str, raw: bytes | None) -> None:
    reference, fast = DECODERS[family]
    old, new = reference.decode(raw), fast.decode(raw)
    assert [fingerprint(e) for e in new.events] == [fingerprint(e) for e in old.events], raw
    assert new.rejected == old.rejected, raw


def simulated() -> dict[str, list[dict]]:
    pool = simulate_pool(load_province(Settings().province_file), 3000, end=NOW - timedelta(minutes=1))
    by_family: dict[str, list[dict]] = {f.name: [] for f in FAMILIES}
    for family, _, event in pool:
        by_family[family].append(event)
    return by_family


SIMULATED = simulated()


def test_every_contract_is_translated():
    for family in FAMILIES:
        assert {s.model for s in shape_types(family.contract).values()} == set(family.models)


@pytest.mark.parametrize("family", list(CONTRACTS))
def test_valid_events_take_the_fast_path_and_equal_pydantic(family):
    events = EXAMPLES[family] + SIMULATED[family]
    assert events
    adapter = fast_adapter(family)
    for event in events:
        raw = orjson.dumps(event)
        assert adapter.decode(raw) is not None, event  # msgspec takes it: pydantic is not asked
        assert_same(family, raw)
    raw = orjson.dumps(events[:500])
    assert adapter.decode(raw) is not None
    assert_same(family, raw)
    assert len(DECODERS[family][1].decode(raw).events) == min(500, len(events))


def test_the_corpus_gives_the_same_verdicts():
    cases = corpus(NOW, max_message_bytes=LIMITS.max_message_bytes)
    assert len(cases) > 100
    for case in cases:
        assert_same(case.family, case.value)


TRICKY = [
    " dvc", "dvc ", "dvc\n", "\u00a0dvc", "dvc\u2003", "dvc\x1c", "\x1f", "", " ", "Ａ", "a\x00",
    "2026-11-27T09:30:00.1234567+07:00", "2026-11-27T02:30:00.9999995Z", "2026-11-27T02:30:00.123456Z",
    "2026-11-27 02:30:00Z", "2026-11-27t02:30:00z", "2026-11-27T02:30Z", "2026-11-27T09:30:00+0700",
    "2026-11-27T02:30:00,5Z", "1764210600", "2026-11-27T02:30:00", "2026-11-27T02:30:00-00:00",
    1764210600, 1764210600.5, 0, -1, 5, 5.0, 0.5, 1e308, -1e308, 2**63 - 1, 2**63, 2**64 - 1, -(2**63),
    True, False, None, [], {}, [1.0, 2.0], ["a", " b"], {"type": "Point", "coordinates": [104.4, 10.4]},
    {"type": "Point", "coordinates": [104.4, 10.4], "x": 1}, "113.161.4.20", " 113.161.4.20", "2001:DB8::1",
    "fe80::1%eth0", "::ffff:1.2.3.4", "010.0.0.1", "a" * 64, "A" * 64,
]


@st.composite
def tricky_events(draw, family: str) -> dict:
    event = dict(draw(st.sampled_from(EXAMPLES[family] + SIMULATED[family][:50])))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(event) + ["extra"]))
        event[key] = draw(st.sampled_from(TRICKY))
    return event


@pytest.mark.parametrize("family", list(CONTRACTS))
def test_tricky_values_give_the_same_verdicts(family):
    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(events=st.lists(tricky_events(family), min_size=1, max_size=4), array=st.booleans())
    def run(events, array):
        assert_same(family, orjson.dumps(events if array or len(events) > 1 else events[0]))

    run()


@pytest.mark.parametrize("family", list(CONTRACTS))
def test_fuzzed_messages_give_the_same_verdicts(family):
    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(raw=messages(family))
    def run(raw):
        assert_same(family, raw)

    run()


def test_extra_fields_still_decode_and_json_quirks_stay_orjsons():
    probe = EXAMPLES["health"][0]
    for extra in (b'"x": 1e999', b'"x": "\xff"', b'"x": ' + b"[" * 1100 + b"]" * 1100, b'"x": 18446744073709551616',
                  b'"x": {"deep": [1, 2, {"a": null}]}', b'"type": "RequestLog"'):
        assert_same("health", orjson.dumps(probe)[:-1] + b", " + extra + b"}")
    precise = orjson.dumps({**probe, "dateObserved": "2026-11-27T02:30:00.1234567Z"})
    escaped = precise.replace(b".1234567", b"\\u002e1234567")
    assert b"\\u002e" in escaped and fast_adapter("health").decode(escaped) is None
    assert_same("health", escaped)
    assert DECODERS["health"][1].decode(orjson.dumps({**probe, "x": 1})).events  # ignored, as pydantic does


# --- what the generator refuses --------------------------------------------------------------------


UNTRANSLATED = {
    "multiple_of": Annotated[float, Field(multiple_of=0.5)],
    "a Literal of ints": Literal[1, 2],
    "a union": int | str,
    "to_lower": Annotated[str, StringConstraints(to_lower=True)],
    "a validator taking info": Annotated[str, AfterValidator(lambda v, info: v)],
    "a plain datetime": datetime,
    "a dict": dict[str, int],
    "lax int": Annotated[int, Field(strict=False)],
}


@pytest.mark.parametrize("feature", list(UNTRANSLATED))
def test_a_field_type_it_does_not_translate_is_refused(feature):
    model = type("Probe", (Event,), {"__annotations__": {"type": Literal["X"], "value": UNTRANSLATED[feature]},
                                     "__module__": __name__})
    with pytest.raises(Unsupported):
        shape_types(Annotated[model, Field(discriminator="type")])


def test_model_features_it_does_not_translate_are_refused():
    class FieldValidated(Event):
        type: Literal["X"]
        name: str

        @field_validator("name")
        @classmethod
        def _upper(cls, v: str) -> str:
            return v.upper()

    class Before(Event):
        type: Literal["X"]

        @model_validator(mode="before")
        @classmethod
        def _before(cls, data):
            return data

    class Aliased(Event):
        type: Literal["X"]
        name: str = Field(alias="Name")

    class Allowing(Event):
        model_config = ConfigDict(extra="allow")
        type: Literal["X"]

    class Lax(Event):
        model_config = ConfigDict(strict=False)
        type: Literal["X"]

    for model in (FieldValidated, Before, Aliased, Allowing, Lax):
        with pytest.raises(Unsupported):
            shape_types(Annotated[model, Field(discriminator="type")])
    with pytest.raises(Unsupported):
        shape_types(FieldValidated | Before)  # a union needs its discriminator


@pytest.mark.parametrize("family", list(CONTRACTS))
def test_attrs_written_by_orjson_hold_what_pydantic_writes(family):
    """A raw row's ``attrs``: the same JSON value whichever writes it, for every field but the common ones."""
    skip = frozenset({"id", "type", "dateObserved"})
    reference = DECODERS[family][0]
    events = [ev for e in EXAMPLES[family] + SIMULATED[family] for ev in reference.decode(orjson.dumps(e)).events]
    assert events
    for event in events:
        names = attr_fields(type(event), None, skip)
        written = attrs_json(type(event), None, skip)(event)
        assert orjson.loads(written) == orjson.loads(event.model_dump_json(include=names, exclude_none=True)), event
    by_orjson = {type(e) for e in events if attrs_json(type(e), None, skip).__name__ == "plain"}
    if family in ("security", "health", "network"):  # fields of JSON scalars only: orjson writes them all
        assert by_orjson == {type(e) for e in events}
    if family == "camera":  # times and places: pydantic writes them
        assert not by_orjson


def test_attrs_beyond_64_bit_integers_are_written_by_pydantic():
    """orjson refuses to write integers beyond 64 bits (and reads them as floats, which the contract refuses);
    an event made in Python may hold one, and pydantic writes it."""
    raw = {"id": "big", "type": "FirewallLog", "dateObserved": "2026-11-27T08:00:00+07:00", "device": "fw-gw-vnpt",
           "src_ip": "45.12.3.4", "dst_ip": "203.0.113.14", "protocol": "icmp", "action": "blocked",
           "severity": "low", "direction": "inbound", "bytes": 2**64}
    event = fast_adapter("security").validate_python(raw)
    written = attrs_json(type(event), None, frozenset({"id", "type", "dateObserved"}))(event)
    assert json.loads(written)["bytes"] == 2**64


def test_a_field_name_python_would_read_as_another_is_refused():
    """Python reads identifiers in source NFKC-normalised: "ﬁle" (a ligature) would read the field "file"."""
    model = create_model("Ligature", __base__=Event, type=(Literal["X"], ...), **{"\ufb01le": (str, ...)})
    with pytest.raises(Unsupported):
        shape_types(Annotated[model, Field(discriminator="type")])

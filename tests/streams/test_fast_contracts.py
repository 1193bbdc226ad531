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
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model, field_serializer,
                      field_validator, model_validator)

from bench.feed import simulate_pool
from streams.core.contracts.base import Event
from streams.core.contracts.fast import Matches, Refused, Unsupported, plain_text, shape_types
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


def test_only_plain_messages_skip_the_text_checks(monkeypatch):
    """A compact ASCII message without escapes cannot hold text with surrounding whitespace or a NUL: its
    events are built without those checks; any other message has every string checked."""
    probe = orjson.dumps(EXAMPLES["health"][0])
    assert plain_text(probe) and plain_text(b'{"id":"a","x":[1,2]}')
    for text in (" dvc", "dvc ", "a b", "dvc\u00a0", "\u2003dvc", "d\\u0000", "dvc\\n", "\\u0020dvc"):
        assert not plain_text(('{"id":"' + text + '"}').encode()), text
    assert not plain_text(b'{"id": "a"}') and not plain_text(bytearray(probe))  # spaced JSON; not bytes
    reference, fast = DECODERS["health"]
    built = []
    for name in ("builds", "plain_builds"):
        builds = getattr(fast.adapter, name)
        counted = {s: (lambda d, b=b, n=name: built.append(n) or b(d)) for s, b in builds.items()}
        monkeypatch.setattr(fast.adapter, name, counted)
    assert [fingerprint(e) for e in fast.decode(probe).events] == [fingerprint(e) for e in reference.decode(probe).events]
    spaced = orjson.dumps({**EXAMPLES["health"][0], "id": "p1 "})  # an id has no pattern: msgspec takes it
    assert [e.id for e in fast.decode(spaced).events] == [e.id for e in reference.decode(spaced).events] == ["p1"]
    assert built == ["plain_builds", "builds"]


def test_events_of_a_model_share_their_set_of_fields_and_copies_stay_apart():
    """Every field of a fast-built event is set, as pydantic sets them; a copy with an update changes its
    own set only (the events of a model share one, never changed in place)."""
    first, second = DECODERS["dossier"][1].decode(orjson.dumps(EXAMPLES["dossier"][:2])).events
    assert [e.model_fields_set for e in (first, second)] == [set(type(e).model_fields) for e in (first, second)]
    copied = first.model_copy(update={"unit_code": "xyz"})
    copied.__pydantic_fields_set__.add("ghost")
    assert "ghost" not in first.model_fields_set and "ghost" not in second.model_fields_set
    assert copied.unit_code == "xyz" and first.unit_code != "xyz"


def test_a_pattern_remembers_what_passed_up_to_its_limit_and_refuses_the_rest():
    code = Matches(r"^[a-z0-9][a-z0-9_.:-]{0,63}\Z", limit=2)
    code("dvc")
    code("dvc")
    assert code.seen == {"dvc"}
    for bad in ("Dvc", "dvc\n", "-dvc", "a" * 65):
        with pytest.raises(Refused):
            code(bad)
    code("hscv")
    code("lgsp")  # the limit reached: what was remembered is forgotten
    assert code.seen == {"lgsp"}


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
def test_attrs_written_by_orjson_are_what_pydantic_writes(family):
    """A raw row's ``attrs``: the same JSON text whichever writes it, for every field but the common ones,
    times, places and lists of nested models included; orjson writes every event type of the contracts."""
    skip = frozenset({"id", "type", "dateObserved"})
    reference = DECODERS[family][0]
    events = [ev for e in EXAMPLES[family] + SIMULATED[family] for ev in reference.decode(orjson.dumps(e)).events]
    assert events
    for event in events:
        names = attr_fields(type(event), None, skip)
        written = attrs_json(type(event), None, skip)(event)
        assert written == event.model_dump_json(include=names, exclude_none=True), event
    assert {attrs_json(type(e), None, skip).__name__ for e in events} == {"plain"}


def test_attrs_of_a_model_with_a_serialiser_are_written_by_pydantic():
    """A nested model that pydantic writes its own way (a serialiser) is left to pydantic."""

    class Place(BaseModel):
        name: str

        @field_serializer("name")
        def upper(self, value: str) -> str:
            return value.upper()

    class Visit(Event):
        type: Literal["Visit"]
        dateObserved: datetime
        place: Place

    event = Visit(id="v1", type="Visit", dateObserved=datetime(2026, 11, 27, 1, tzinfo=timezone.utc),
                  place=Place(name="rạch giá"))
    dump = attrs_json(Visit, None, frozenset({"id", "type"}))
    assert dump.__name__ == "dump"
    assert json.loads(dump(event)) == {"dateObserved": "2026-11-27T01:00:00Z", "place": {"name": "RẠCH GIÁ"}}


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

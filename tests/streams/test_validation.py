from datetime import datetime, timezone

import orjson
import pytest

from streams.core.contracts.base import _ip
from streams.core.validation import Bounds, Decoder, Limits, _Reject

NOW = datetime(2026, 11, 27, 1, 0, 0, tzinfo=timezone.utc)


def probe(**over):
    ev = {"id": "p1", "type": "ServiceProbe", "system": "dvc", "endpoint": "/",
          "dateObserved": "2026-11-27T08:00:00+07:00", "success": True, "latency_ms": 12.5}
    ev.update(over)
    return ev


def decode(value, **kw):
    return Decoder("health", clock=lambda: NOW, **kw).decode(value if isinstance(value, bytes) else orjson.dumps(value))


def reasons(decoded):
    return [r.reason for r in decoded.rejected]


def test_single_event_and_array_are_both_accepted():
    assert len(decode(probe()).events) == 1
    assert len(decode([probe(id="a"), probe(id="b")]).events) == 2


def test_timestamps_are_converted_to_utc():
    (ev,) = decode(probe()).events
    assert ev.dateObserved == NOW and ev.dateObserved.tzinfo == timezone.utc


def test_wrong_types_and_impossible_values_are_rejected():
    assert reasons(decode(probe(latency_ms="12"))) == ["invalid"]
    assert reasons(decode(probe(success="yes"))) == ["invalid"]
    assert reasons(decode(probe(latency_ms=-1))) == ["invalid"]
    assert reasons(decode(probe(dateObserved="2026-11-27T08:00:00"))) == ["invalid"]  # no offset
    assert reasons(decode(probe(system="DVC Portal"))) == ["invalid"]
    assert reasons(decode(b'{"latency_ms": NaN}')) == ["not_json"]
    assert reasons(decode(b"[1e999]")) == ["not_json"]


def test_time_limits():
    assert reasons(decode(probe(dateObserved="2026-11-27T01:10:00Z"))) == ["future_timestamp"]
    assert reasons(decode(probe(dateObserved="2020-01-01T00:00:00Z"))) == ["too_old"]
    assert decode(probe(dateObserved="2026-11-27T01:04:00Z")).events  # within the tolerance


def test_size_limits():
    big = orjson.dumps(probe(error="x" * 2000))
    assert reasons(decode(big, limits=Limits(max_message_bytes=1024))) == ["too_large"]
    many = [probe(id=str(i)) for i in range(11)]
    assert reasons(decode(many, limits=Limits(max_events_per_message=10))) == ["too_many_events"]


def test_bad_element_rejected_alone_with_its_index():
    out = decode([probe(id="a"), {"nope": 1}, "text", probe(id="d")])
    assert [e.id for e in out.events] == ["a", "d"]
    assert [(r.reason, r.index) for r in out.rejected] == [("invalid", 1), ("not_an_object", 2)]
    assert orjson.loads(out.rejected[0].original) == {"nope": 1}


def test_bounds():
    b = Bounds(103.4, 9.1, 105.6, 10.65)
    assert b.contains(105.08, 10.01) and not b.contains(106.7, 10.8)


def test_vietnamese_text_is_kept():
    (ev,) = decode(probe(error="Hết thời gian chờ — máy chủ Rạch Giá")).events
    assert ev.error == "Hết thời gian chờ — máy chủ Rạch Giá"


def test_text_with_a_nul_character_is_rejected_in_health_too():
    # PostgreSQL cannot store NUL in text: accepted, it made the database refuse the whole batch
    assert reasons(decode(probe(id="p\x00"))) == ["invalid"]
    assert reasons(decode(probe(endpoint="/\x00"))) == ["invalid"]
    assert reasons(decode(probe(success=False, error="time\x00out"))) == ["invalid"]


def test_timestamps_that_leave_the_calendar_in_utc_are_rejected_not_raised():
    # year 1 at +01:00 and year 9999 at -01:00 are valid ISO 8601 but not representable in UTC
    assert reasons(decode(probe(dateObserved="0001-01-01T00:00:00+01:00"))) == ["invalid"]
    assert reasons(decode(probe(dateObserved="9999-12-31T23:59:59-01:00"))) == ["invalid"]


def test_scoped_ipv6_addresses_are_rejected():
    request = {"id": "r1", "type": "RequestLog", "system": "dvc", "endpoint": "/", "method": "GET",
               "dateObserved": "2026-11-27T08:00:00+07:00", "status_code": 200, "latency_ms": 5.0}
    assert decode({**request, "client_ip": "2001:db8::7"}).events[0].client_ip == "2001:db8::7"
    assert reasons(decode({**request, "client_ip": "fe80::1%eth0"})) == ["invalid"]  # PostgreSQL inet refuses it
    assert reasons(decode({**request, "client_ip": "::%0"})) == ["invalid"]


def test_an_unexpected_error_in_a_contract_rejects_the_event_and_never_raises(monkeypatch):
    def boom(*_args, **_kw):
        raise ZeroDivisionError("bug in a validator")

    decoder = Decoder("health", clock=lambda: NOW)
    monkeypatch.setattr(decoder.adapter, "validate_python", boom)  # the element-by-element path
    for builds in ("builds", "plain_builds"):  # the whole message's, with its text checked or plain
        monkeypatch.setattr(decoder.adapter, builds, dict.fromkeys(getattr(decoder.adapter, builds), boom))
    out = decoder.decode(orjson.dumps([probe(id="a"), probe(id="b")]))
    assert [(r.reason, r.index) for r in out.rejected] == [("invalid", 0), ("invalid", 1)]
    assert "ZeroDivisionError" in out.rejected[0].detail


def test_non_finite_numbers_are_refused_at_every_depth():
    # orjson never yields NaN or Infinity; Python callers of ``check`` can, at any depth
    water = {"id": "w1", "type": "WaterObserved", "refDevice": "tram-rach-gia", "waterLevel": 1.2,
             "dateObserved": "2026-11-27T08:00:00+07:00", "location": {"type": "Point", "coordinates": [105.08, 10.0]}}
    health, sensor = Decoder("health", clock=lambda: NOW), Decoder("sensor", clock=lambda: NOW)
    assert sensor.check(water, NOW).location_point.lat == 10.0
    for bad in (float("nan"), float("inf"), -float("inf")):
        nested = {**water, "location": {"type": "Point", "coordinates": [105.08, bad]}}
        for decoder, item in ((health, probe(latency_ms=bad)), (sensor, nested)):
            with pytest.raises(_Reject) as refused:
                decoder.check(item, NOW)
            assert refused.value.reason == "invalid" and "finite" in refused.value.detail


def test_addresses_are_stored_in_their_canonical_form():
    assert _ip("113.161.4.20") == "113.161.4.20"  # the fast path: already canonical
    assert _ip("2001:DB8:0:0::1") == "2001:db8::1"
    for bad in ("10.0.0.256", "010.0.0.1", "10.0.0", "1.2.3.4 ", "fe80::1%eth0", "localhost"):
        with pytest.raises(ValueError):
            _ip(bad)

"""The pure parts of the same-guarantees baseline: decoding, health windows on epoch seconds, arrays."""
from datetime import datetime, timedelta, timezone

import orjson

from agents.indicators.health import aggregate
from bench.baseline_consumer import HIST_BUCKETS, bucket, decode, health_windows, upsert_arrays
from streams.core import sketch
from streams.core.contracts.health import RequestLog, ServiceProbe

T0 = datetime(2026, 11, 27, 1, 0, 3, 250_000, tzinfo=timezone.utc)


def events():
    out = []
    for i in range(40):
        at = T0 + timedelta(seconds=3 * i)
        if i % 4 == 0:
            out.append({"id": f"p{i}", "type": "ServiceProbe", "system": "dvc", "endpoint": "/", "success": i % 8 == 0,
                        "latency_ms": 0.5 + i * 7.3, "dateObserved": at.isoformat().replace("+00:00", "Z")})
        else:
            out.append({"id": f"r{i}", "type": "RequestLog", "system": "dvc" if i % 3 else "hs", "endpoint": "/api",
                        "method": "GET", "status_code": 503 if i % 5 == 0 else 200, "latency_ms": 2.0 + i * 13.1,
                        "client_ip": "10.0.0.1", "dateObserved": at.isoformat()})
    return out


def test_decode_takes_objects_and_arrays_and_drops_what_has_no_id_or_time():
    evs = events()
    one = decode("health", orjson.dumps(evs[0]))
    many = decode("health", orjson.dumps([*evs[:3], {"type": "RequestLog"}, {"id": "x", "dateObserved": "soon"}]))
    assert [(i.family, i.id, i.time) for i in one] == [("health", "p0", T0)]
    assert [i.id for i in many] == ["p0", "r1", "r2"] and orjson.loads(many[1].body) == evs[1]


def test_buckets_match_the_project_sketch():
    for v in (0.0, 0.99, 1.0, 1.1, 5.0, 123.4, 9e4, 1e9):
        assert bucket(v) == sketch.bucket_of(v)
    assert HIST_BUCKETS == sketch.BUCKETS


def test_health_windows_agree_with_the_project_aggregate():
    evs = events()
    items = decode("health", orjson.dumps(evs))
    models = [ServiceProbe(**e) if e["type"] == "ServiceProbe" else RequestLog(**e) for e in evs]
    expected = {(i.system, i.endpoint, i.window_s, i.time): (i.probes, i.probes_ok, i.requests, i.errors,
                                                             i.latency_hist, i.last_event) for i in aggregate(models)}
    cols = upsert_arrays(health_windows(items))
    got = {(s, e, w, t): (p, pok, r, err, [int(x) for x in h.strip("{}").split(",")], last)
           for s, e, w, t, p, pok, r, err, h, last in zip(*cols)}
    assert got == expected
    keys = list(zip(*cols[:4]))
    assert keys == sorted(keys)

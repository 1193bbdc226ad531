from datetime import datetime, timedelta, timezone

import orjson

from bench.feed import Template, mix, package, simulate_pool, stamp
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.core.validation import Decoder

WHEN = datetime(2026, 11, 27, 3, 0, 0, 123000, tzinfo=timezone.utc)


def test_stamp_gives_fresh_ids_and_the_send_time():
    t = Template("health", b"dvc", ({"id": "x", "dateObserved": "2020-01-01T00:00:00Z", "a": 1},
                                    {"id": "y", "dateObserved": "2020-01-01T00:00:00Z", "a": 2}), True)
    doc = orjson.loads(stamp(t, 10, "p-", WHEN))
    assert [e["id"] for e in doc] == ["p-a", "p-b"]
    assert {e["dateObserved"] for e in doc} == {"2026-11-27T03:00:00.123Z"}
    assert [e["a"] for e in doc] == [1, 2]
    single = Template("health", b"dvc", t.events[:1], False)
    assert orjson.loads(stamp(single, 0, "p-", WHEN))["id"] == "p-0"


def test_package_batches_high_volume_feeds_by_key():
    pool = [("health", "dvc", {"n": i}) for i in range(450)] + [("dossier", "d1", {"n": 0})]
    single = package(pool, batched=False)
    assert len(single) == 451 and all(not t.batched for t in single)
    batched = package(pool, batched=True, max_batch=200)
    sizes = sorted(len(t.events) for t in batched)
    assert sizes == [1, 50, 200, 200]
    assert all(t.batched for t in batched if t.family == "health")
    assert not next(t for t in batched if t.family == "dossier").batched
    m = mix(batched)
    assert m.events == {"dossier": 1, "health": 450} and m.messages == {"dossier": 1, "health": 3}
    assert m.events_per_message["health"] == 150 and m.total_events == 451 and m.total_messages == 4


def test_stamped_templates_are_valid_events():
    province = load_province(Settings().province_file)
    pool = simulate_pool(province, 2000, seed=1, end=WHEN - timedelta(minutes=5))  # made before it is sent
    templates = package(pool, batched=True)
    assert {t.family for t in templates} >= {"health", "security", "camera"}
    decoders = {}
    for i, t in enumerate(templates):
        dec = decoders.setdefault(t.family, Decoder(t.family, clock=lambda: WHEN))
        out = dec.decode(stamp(t, i * 1000, "t-", WHEN))
        assert not out.rejected, out.rejected[0]
        assert len(out.events) == len(t.events)

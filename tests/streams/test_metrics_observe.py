import random

import pytest

from prometheus_client import CollectorRegistry, Histogram

from streams.core.metrics import LATENCY_BUCKETS, observe_all


def samples(registry):
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for metric in registry.collect() for s in metric.samples if not s.name.endswith("_created")}


def test_observing_all_at_once_gives_the_series_of_observing_each():
    rng = random.Random(5)
    values = [rng.choice([0.0, 0.005, 0.3, 1, 7.5, 300, 301, 1e6]) * rng.random() for _ in range(2000)]
    values += list(LATENCY_BUCKETS)  # on a bound: in that bucket, as observe puts it
    one, many = CollectorRegistry(), CollectorRegistry()
    each = Histogram("d_seconds", "d", ["topic"], registry=one, buckets=LATENCY_BUCKETS).labels("t")
    for v in values:
        each.observe(v)
    observe_all(Histogram("d_seconds", "d", ["topic"], registry=many, buckets=LATENCY_BUCKETS).labels("t"), values)
    got, expected = samples(many), samples(one)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == (pytest.approx(value) if key[0].endswith("_sum") else value), key


def test_a_child_without_buckets_is_observed_value_by_value():
    seen = []

    class Plain:
        def observe(self, value):
            seen.append(value)

    observe_all(Plain(), [1.0, 2.0])
    assert seen == [1.0, 2.0]

import math
import random

import pytest

from streams.core import sketch


def test_bucket_bounds_and_representative_within_five_percent():
    for v in [1.0, 1.05, 3.3, 10, 99.9, 250, 1234.5, 59_000]:
        b = sketch.bucket_of(v)
        assert sketch.RATIO ** (b - 1) <= v < sketch.RATIO ** b
        assert abs(sketch.representative(b) - v) / v < 0.05 + 1e-9


def test_small_and_huge_values_go_to_the_edge_buckets():
    assert sketch.bucket_of(0) == 0
    assert sketch.bucket_of(0.99) == 0
    assert sketch.bucket_of(10**9) == sketch.BUCKETS - 1


def test_quantiles_track_the_exact_ones():
    rng = random.Random(7)
    values = [rng.lognormvariate(4, 1) for _ in range(20_000)]
    hist = sketch.from_values(values)
    ordered = sorted(values)
    for q in (0.5, 0.95, 0.99):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        assert sketch.quantile(hist, q) == pytest.approx(exact, rel=0.06)


def test_merge_equals_histogram_of_the_union():
    a, b = [1.5, 20, 300], [2, 2, 5000, 0.1]
    assert sketch.merge(sketch.from_values(a), sketch.from_values(b)) == sketch.from_values(a + b)
    assert sketch.merge(None, sketch.from_values(a)) == sketch.from_values(a)


def test_quantile_of_empty_is_none():
    assert sketch.quantile(sketch.empty(), 0.5) is None
    assert sketch.quantile(None, 0.5) is None

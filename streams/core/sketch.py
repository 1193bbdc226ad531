"""A mergeable latency histogram with fixed log-scale buckets.

Windows are written to TimescaleDB as increments (counts and histograms that add up), so a
1-minute window can be built from 10-second ones and two workers' partial results merge
exactly.  The same bucket scheme is implemented in SQL (``ioc_hist_quantile`` in migration
001); tests check that both give the same quantiles.

Bucket 0 holds values below 1 ms; bucket k (1 ≤ k < N) holds [R^(k-1), R^k) ms; the last
bucket also takes everything above.  With R = 1.1 a quantile is within 5 % of the true value.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

RATIO = 1.1
BUCKETS = 120  # R^119 ≈ 84 s
_LOG_R = math.log(RATIO)


def bucket_of(value_ms: float) -> int:
    if value_ms < 1.0:
        return 0
    return min(BUCKETS - 1, int(math.floor(math.log(value_ms) / _LOG_R)) + 1)


def representative(bucket: int) -> float:
    """The value reported for a bucket: its geometric middle (0.5 ms for bucket 0)."""
    if bucket <= 0:
        return 0.5
    return RATIO ** (bucket - 0.5)


def empty() -> list[int]:
    return [0] * BUCKETS


def add(hist: list[int], value_ms: float) -> None:
    hist[bucket_of(value_ms)] += 1


def merge(a: Sequence[int] | None, b: Sequence[int] | None) -> list[int]:
    if a is None:
        return list(b or empty())
    if b is None:
        return list(a)
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(n)]


def from_values(values: Iterable[float]) -> list[int]:
    hist = empty()
    for v in values:
        hist[bucket_of(v)] += 1
    return hist


def quantile(hist: Sequence[int] | None, q: float) -> float | None:
    """The q-quantile (0 < q ≤ 1) of the values counted in ``hist``; None when empty."""
    if not hist:
        return None
    total = sum(hist)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for k, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return representative(k)
    return representative(len(hist) - 1)  # pragma: no cover - unreachable

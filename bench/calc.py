"""Pure computations of the benchmarks: percentiles, rates, ratios, lag verdicts, sizes.

Samples are ``(t, value)`` pairs with ``t`` in seconds (any origin), sorted by ``t``.
Nothing here does I/O, so ``tests/bench`` checks every figure's arithmetic.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Sample = tuple[float, float]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between ranks (numpy's default)."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def histogram_quantile(buckets: Sequence[tuple[float, float]], q: float) -> float | None:
    """Quantile q (0–1) of a cumulative histogram ``[(upper_bound, count ≤ bound), …]``.

    As Prometheus does: linear interpolation inside the bucket that holds the rank, the first
    bucket starting at 0; a rank in the +Inf bucket returns the largest finite bound.
    """
    if not 0 <= q <= 1:
        raise ValueError(f"quantile must be between 0 and 1, got {q}")
    bs = sorted(buckets, key=lambda b: b[0])
    if not bs or bs[-1][1] <= 0:
        return None
    total = bs[-1][1]
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound, count in bs:
        if count >= rank and count > prev_count:
            if math.isinf(bound):
                return prev_bound
            return prev_bound + (bound - prev_bound) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = (bound if not math.isinf(bound) else prev_bound), count
    return prev_bound


def histogram_delta(after: Mapping[float, float], before: Mapping[float, float]) -> list[tuple[float, float]]:
    """Cumulative buckets observed between two scrapes of the same histogram."""
    return sorted((le, after[le] - before.get(le, 0.0)) for le in after)


def crossing_time(samples: Sequence[Sample], target: float) -> float | None:
    """When a non-decreasing series first reached ``target``, interpolated between samples."""
    prev: Sample | None = None
    for t, v in samples:
        if v >= target:
            if prev is None or v == prev[1]:
                return t
            t0, v0 = prev
            return t0 + (t - t0) * (target - v0) / (v - v0)
        prev = (t, v)
    return None


@dataclass(frozen=True, slots=True)
class Drain:
    """A backlog drained by the worker: the rate between ``skip`` of it and all of it."""

    events: float
    seconds: float
    started_at: float  # when the first ``skip`` share was done (after start-up and warm-up)
    finished_at: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


def drain_rate(done: Sequence[Sample], total: float, *, skip: float = 0.05) -> Drain | None:
    """Sustained rate of draining ``total`` events from a counter of events done.

    The first ``skip`` share is left out so the worker's start-up, partition assignment and
    first batches do not count; None when the backlog was not drained.
    """
    if total <= 0 or not 0 <= skip < 1:
        raise ValueError("total must be positive and skip in [0, 1)")
    start = crossing_time(done, total * skip)
    end = crossing_time(done, total)
    if start is None or end is None or end <= start:
        return None
    return Drain(total * (1 - skip), end - start, start, end)


def slope(samples: Sequence[Sample]) -> float:
    """Least-squares slope (value per second) of a series; 0 for fewer than two points."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mv = sum(v for _, v in samples) / n
    den = sum((t - mt) ** 2 for t, _ in samples)
    if den == 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in samples) / den


def tail(samples: Sequence[Sample], fraction: float) -> list[Sample]:
    """The samples in the last ``fraction`` of the series' time span."""
    if not samples:
        return []
    t0, t1 = samples[0][0], samples[-1][0]
    cut = t1 - (t1 - t0) * fraction
    return [s for s in samples if s[0] >= cut]


@dataclass(frozen=True, slots=True)
class LagVerdict:
    bounded: bool
    slope_per_s: float  # trend of the lag over the run, messages per second
    max_lag: float  # largest lag seen in the second half, messages
    final_lag: float
    max_lag_s: float  # the largest lag as seconds of input
    rule: str


def lag_verdict(lag: Sequence[Sample], input_rate: float, *, max_growth_s: float = 1.0,
                max_lag_s: float = 3.0) -> LagVerdict:
    """Does the consumer keep up with an input of ``input_rate`` messages per second?

    Bounded when the lag's trend (least-squares slope over the whole run, times its length)
    adds less than ``max_growth_s`` seconds of input, and the lag over the second half never
    exceeds ``max_lag_s`` seconds of input.  Offsets are committed about once a second, so a lag
    of a second or two of input is normal; the
    trend test is what tells a worker that falls behind, however slowly, over a long run.
    """
    if input_rate <= 0:
        raise ValueError("input_rate must be positive")
    s = slope(lag)
    span = lag[-1][0] - lag[0][0] if len(lag) > 1 else 0.0
    half = tail(lag, 0.5)
    top = max((v for _, v in half), default=0.0)
    final = lag[-1][1] if lag else 0.0
    bounded = s * span <= max_growth_s * input_rate and top <= max_lag_s * input_rate
    rule = (f"the lag's trend adds less than {max_growth_s:g} s of input over the run, and the lag stays "
            f"under {max_lag_s:g} s of input over its second half")
    return LagVerdict(bounded, s, top, final, top / input_rate, rule)


def growth_per_hour(samples: Sequence[Sample], *, warmup: float = 0.2) -> float:
    """Growth of a series (e.g. RSS in MiB) per hour, fitted after the first ``warmup`` share."""
    if not samples:
        return 0.0
    return slope(tail(samples, 1 - warmup)) * 3600


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def backlog_size(rate: float, seconds: float, *, minimum: int, maximum: int) -> int:
    """Events to pre-produce so that draining at ``rate`` takes about ``seconds``."""
    return int(min(maximum, max(minimum, rate * seconds)))


def due(rate: float, elapsed: float) -> int:
    """Events a paced producer should have sent after ``elapsed`` seconds at ``rate``."""
    return int(rate * max(0.0, elapsed))


Trial = tuple[float, bool]  # (paced rate, lag stayed bounded)


def next_rate(trials: Sequence[Trial], capacity: float, *, first: Sequence[float] = (0.9, 0.5),
              max_trials: int = 4, resolution: float = 0.1) -> float | None:
    """The next paced rate to try, or None when the search is done.

    The first trials are the given shares of the drain capacity (90 % and 50 %: the latency
    points); then bisection between the highest bounded rate and the lowest unbounded one,
    until they are within ``resolution`` of the capacity or ``max_trials`` were run.  When
    every rate tried was bounded there is nothing to search.
    """
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    n = len(trials)
    if n >= max_trials:
        return None
    if n < len(first):
        return first[n] * capacity
    bounded = [r for r, ok in trials if ok]
    unbounded = [r for r, ok in trials if not ok]
    if not unbounded:
        return None
    lo = max(bounded, default=0.0)
    hi = min(unbounded)
    if lo >= hi:  # a noisy machine: a lower rate failed where a higher one passed
        return None
    if hi - lo <= resolution * capacity:
        return None
    return (lo + hi) / 2


def sustained(trials: Sequence[Trial]) -> float | None:
    """The highest paced rate whose lag stayed bounded."""
    return max((r for r, ok in trials if ok), default=None)

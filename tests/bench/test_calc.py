import math

import pytest

from bench import calc


def test_percentile_interpolates_between_ranks():
    assert calc.percentile([], 50) is None
    assert calc.percentile([3.0], 99) == 3.0
    xs = [5, 1, 4, 2, 3]
    assert calc.percentile(xs, 0) == 1 and calc.percentile(xs, 100) == 5
    assert calc.percentile(xs, 50) == 3
    assert calc.percentile([1, 2, 3, 4], 50) == 2.5
    assert calc.percentile(list(range(101)), 95) == pytest.approx(95)
    with pytest.raises(ValueError):
        calc.percentile(xs, 101)


def test_histogram_quantile_as_prometheus():
    # 10 events ≤ 0.1 s, 30 more ≤ 0.5 s, 60 more ≤ 1 s, none above
    b = [(0.1, 10), (0.5, 40), (1.0, 100), (math.inf, 100)]
    assert calc.histogram_quantile(b, 0.05) == pytest.approx(0.05)  # half of the first bucket, from 0
    assert calc.histogram_quantile(b, 0.25) == pytest.approx(0.1 + 0.4 * 15 / 30)
    assert calc.histogram_quantile(b, 0.7) == pytest.approx(0.5 + 0.5 * 30 / 60)
    assert calc.histogram_quantile(b, 1.0) == pytest.approx(1.0)
    # a rank in the +Inf bucket is reported as the largest finite bound
    assert calc.histogram_quantile([(1.0, 1), (math.inf, 10)], 0.99) == 1.0
    assert calc.histogram_quantile([(1.0, 0), (math.inf, 0)], 0.5) is None
    assert calc.histogram_quantile([], 0.5) is None


def test_histogram_delta_subtracts_a_scrape():
    after = {0.1: 15.0, 1.0: 40.0, math.inf: 41.0}
    before = {0.1: 5.0, 1.0: 10.0, math.inf: 10.0}
    assert calc.histogram_delta(after, before) == [(0.1, 10.0), (1.0, 30.0), (math.inf, 31.0)]


def test_crossing_time_interpolates():
    s = [(0.0, 0.0), (1.0, 100.0), (2.0, 300.0)]
    assert calc.crossing_time(s, 200) == pytest.approx(1.5)
    assert calc.crossing_time(s, 0) == 0.0
    assert calc.crossing_time(s, 301) is None


def test_drain_rate_leaves_out_start_up():
    # nothing for 5 s (start-up), then 1,000 events/s until 10,000 are done
    samples = [(t * 0.5, max(0.0, (t * 0.5 - 5) * 1000)) for t in range(0, 32)]
    d = calc.drain_rate(samples, 10_000, skip=0.05)
    assert d.rate == pytest.approx(1000)
    assert d.started_at == pytest.approx(5.5) and d.finished_at == pytest.approx(15.0)
    assert calc.drain_rate(samples[:20], 10_000) is None  # never finished
    with pytest.raises(ValueError):
        calc.drain_rate(samples, 0)


def test_slope_and_growth_per_hour():
    assert calc.slope([(0, 1.0)]) == 0.0
    assert calc.slope([(0, 1.0), (10, 21.0)]) == pytest.approx(2.0)
    # 100 MiB flat during warm-up, then +1 MiB per minute
    rss = [(t, 100.0 if t < 120 else 100.0 + (t - 120) / 60) for t in range(0, 600, 5)]
    assert calc.growth_per_hour(rss, warmup=0.2) == pytest.approx(60, rel=0.01)
    assert calc.growth_per_hour([]) == 0.0


def test_lag_verdict():
    steady = [(t, 800.0 + (100 if t % 2 else 0)) for t in range(30)]  # jitters with commits, does not grow
    v = calc.lag_verdict(steady, input_rate=1000)
    assert v.bounded and v.max_lag == 900 and v.max_lag_s == pytest.approx(0.9)
    growing = [(t, 500.0 * t) for t in range(30)]  # falls behind by half the input
    v = calc.lag_verdict(growing, input_rate=1000)
    assert not v.bounded and v.slope_per_s == pytest.approx(500)
    creeping = [(t, 100.0 + 50 * t) for t in range(60)]  # 5 % behind: under 3 s of input, but 3 s gained
    assert not calc.lag_verdict(creeping, input_rate=1000).bounded
    large = [(t, 4000.0) for t in range(30)]  # flat but 4 s behind
    assert not calc.lag_verdict(large, input_rate=1000).bounded
    with pytest.raises(ValueError):
        calc.lag_verdict(steady, 0)


def test_ratio_backlog_due():
    assert calc.ratio(1, 4) == 0.25 and calc.ratio(1, 0) is None and calc.ratio(None, 2) is None
    assert calc.backlog_size(3000, 60, minimum=5000, maximum=100_000) == 100_000
    assert calc.backlog_size(30, 60, minimum=5000, maximum=100_000) == 5000
    assert calc.backlog_size(1000, 60, minimum=5000, maximum=100_000) == 60_000
    assert calc.due(1000, 1.5) == 1500 and calc.due(1000, -1) == 0


def test_next_rate_searches_the_highest_bounded_rate():
    cap = 1000.0
    assert calc.next_rate([], cap) == 900
    assert calc.next_rate([(900, False)], cap) == 500
    assert calc.next_rate([(900, False), (500, True)], cap) == 700  # bisect between them
    assert calc.next_rate([(900, False), (500, False)], cap) == 250  # nothing bounded yet: halve
    assert calc.next_rate([(900, True), (500, True)], cap) is None  # 90 % holds: nothing to search
    assert calc.next_rate([(900, False), (500, True), (700, True), (800, False)], cap) is None  # max trials
    assert calc.next_rate([(900, False), (500, True), (700, True)], cap, max_trials=6) == 800
    assert calc.next_rate([(900, False), (500, True), (700, True), (800, True)], cap, max_trials=6) is None
    assert calc.next_rate([(900, False), (500, True), (550, False)], cap, max_trials=6) is None  # within 10 %
    assert calc.next_rate([(900, True), (500, False)], cap) is None  # noisy: lower failed, higher passed
    assert calc.sustained([(900, False), (500, True), (700, True)]) == 700
    assert calc.sustained([(900, False)]) is None

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from bench.scrape import parse


def test_totals_and_buckets_over_labels():
    reg = CollectorRegistry()
    fresh = Counter("ioc_events_fresh", "fresh", ["topic"], registry=reg)
    fresh.labels("a").inc(3)
    fresh.labels("b").inc(4)
    delay = Histogram("ioc_event_delay_seconds", "delay", ["topic"], buckets=(0.1, 1.0), registry=reg)
    delay.labels("a").observe(0.05)
    delay.labels("b").observe(0.5)
    delay.labels("b").observe(5)
    m = parse(generate_latest(reg).decode())
    assert m.total("ioc_events_fresh_total") == 7
    assert m.total("ioc_events_fresh_total", topic="b") == 4
    assert m.total("ioc_missing_total") == 0
    assert m.buckets("ioc_event_delay_seconds") == {0.1: 1, 1.0: 2, float("inf"): 3}
    assert m.buckets("ioc_event_delay_seconds", topic="a") == {0.1: 1, 1.0: 1, float("inf"): 1}
    assert m.total("ioc_event_delay_seconds_count") == 3

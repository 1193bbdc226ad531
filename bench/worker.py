"""``ioc worker`` with finer latency buckets, for the benchmarks (``python -m bench.worker``).

The same worker as ``ioc worker``; only the bounds of its latency histograms are finer (29
instead of 15, from 5 ms to 300 s), so percentiles read from ``ioc_event_delay_seconds`` are
interpolated within narrower buckets.
"""
from __future__ import annotations

import sys

from streams.core import metrics

BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0,
           1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0, 30.0, 60.0, 300.0)


def main() -> int:
    metrics.LATENCY_BUCKETS = BUCKETS
    from streams.cli.main import main as ioc

    return ioc(["worker"])


if __name__ == "__main__":
    sys.exit(main())

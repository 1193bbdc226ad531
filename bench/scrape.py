"""Reading a process's Prometheus ``/metrics``: totals over labels and histogram buckets.

``parse`` and the accessors are pure (text in, numbers out); ``fetch`` is the only I/O.
"""
from __future__ import annotations

import math
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True, slots=True)
class Metrics:
    """Every sample of one scrape: (sample name, labels) -> value."""

    samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float]

    def total(self, name: str, **labels: str) -> float:
        """Sum of the samples called ``name`` whose labels include ``labels``."""
        want = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and want <= ls)

    def buckets(self, histogram: str, **labels: str) -> dict[float, float]:
        """Cumulative buckets ``{upper bound: count}`` of a histogram, summed over other labels."""
        want = set(labels.items())
        out: dict[float, float] = {}
        for (n, ls), v in self.samples.items():
            if n == f"{histogram}_bucket" and want <= ls:
                le = float(dict(ls)["le"])
                out[le] = out.get(le, 0.0) + v
        return out


def parse(text: str) -> Metrics:
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if isinstance(s.value, float) and math.isnan(s.value):
                continue
            key = (s.name, frozenset(s.labels.items()))
            samples[key] = samples.get(key, 0.0) + s.value
    return Metrics(samples)


def fetch(port: int, host: str = "127.0.0.1", timeout: float = 5.0) -> Metrics:
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=timeout) as resp:
        return parse(resp.read().decode())

"""The families' increments on their own: CPU µs per event of each ``FeedSpec.increments``.

    python -m bench.increments [--events 40000] [--repeat 5]

A pool of events is simulated (every family, the province's mix, over ten simulated seconds),
decoded, and each family's fresh events handed to its increments function in event-time order,
with no stored state, ``--repeat`` times; the best run is printed per family (µs of process CPU
time per event), then the total over all events.  No service is needed.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import orjson

from bench.feed import simulate_pool
from streams.core.families import FAMILIES
from streams.core.geography import load_province
from streams.core.settings import DEFAULT_PROVINCE_FILE
from streams.core.validation import Decoder


def decoded_events(n_events: int) -> dict[str, list[Any]]:
    """About ``n_events`` decoded events per family, in event-time order."""
    pool = simulate_pool(load_province(DEFAULT_PROVINCE_FILE), n_events)
    decoders: dict[str, Decoder] = {}
    out: dict[str, list[Any]] = {}
    for family, _, event in pool:
        decoder = decoders.get(family) or decoders.setdefault(family, Decoder(family))
        out.setdefault(family, []).extend(decoder.decode(orjson.dumps(event)).events)
    for events in out.values():
        events.sort(key=lambda e: e.event_time)
    return out


def cpu_us_per_event(increments: Any, events: Sequence[Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        increments(events, {})
        best = min(best, time.process_time() - t0)
    return best / len(events) * 1e6 if events else 0.0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=40_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    by_family = decoded_events(args.events)
    specs = {f.name: f.load("feed") for f in FAMILIES}
    total_s = 0.0
    total_n = 0
    for family, events in sorted(by_family.items()):
        us = cpu_us_per_event(specs[family].increments, events, args.repeat)
        total_s += us * len(events)
        total_n += len(events)
        print(f"{family:10s} {len(events):7d} events  {us:6.2f} µs/event")
    print(f"{'all':10s} {total_n:7d} events  {total_s / max(total_n, 1):6.2f} µs/event")


if __name__ == "__main__":
    main()

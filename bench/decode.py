"""CPU time per event of ``Decoder.decode``: pydantic alone (the reference) and msgspec first, in one run.

    python -m bench.decode [--array 500] [--rounds 5]

Events come from the simulators (``bench.feed.simulate_pool``), health, security and camera each, decoded
as the worker decodes them (the province's bounds and units through time): sent one per message, and as JSON arrays of ``--array`` events.  Each case is decoded ``--rounds`` times by
both decoders, alternating; the figure is the median of the rounds, in µs of CPU
(``time.process_time``) per event.
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import orjson

from bench.feed import simulate_pool
from streams.core.clock import utcnow
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.core.validation import Decoder

FAMILIES = ("health", "security", "camera")


def messages(family: str, events: list[dict], array: int) -> dict[str, list[bytes]]:
    """The events of one family as single-event messages, and as arrays of ``array`` events."""
    arrays = [orjson.dumps(events[i:i + array]) for i in range(0, len(events) - array + 1, array)]
    return {f"{family}, one event a message": [orjson.dumps(e) for e in events],
            f"{family}, arrays of {array}": arrays}


def cpu_per_event(decode: Callable[[bytes], object], batch: list[bytes], n_events: int) -> float:
    start = time.process_time()
    for raw in batch:
        decode(raw)
    return (time.process_time() - start) / n_events * 1e6


def measure(array: int = 500, rounds: int = 5, n_events: int = 6000) -> list[dict]:
    """Per case: µs of CPU per event of the reference decoder and of the fast one."""
    province = load_province(Settings().province_file)
    bounds, units = province.bounds, province.divisions
    pool = simulate_pool(province, n_events * 4, end=utcnow() - timedelta(minutes=1))
    rows = []
    for family in FAMILIES:
        events = [ev for fam, _, ev in pool if fam == family]
        events = (events * (n_events // max(1, len(events)) + 1))[:n_events]
        decoders = {"pydantic": Decoder(family, bounds=bounds, units=units, fast=False),
                    "msgspec": Decoder(family, bounds=bounds, units=units)}
        for case, batch in messages(family, events, array).items():
            count = sum(len(d.events) for d in map(decoders["msgspec"].decode, batch))
            assert count == sum(len(d.events) for d in map(decoders["pydantic"].decode, batch)) > 0, case
            times: dict[str, list[float]] = {name: [] for name in decoders}
            for _ in range(rounds):
                for name, decoder in decoders.items():
                    times[name].append(cpu_per_event(decoder.decode, batch, count))
            old, new = (statistics.median(times[name]) for name in ("pydantic", "msgspec"))
            rows.append({"case": case, "events": count, "pydantic_us": round(old, 2), "msgspec_us": round(new, 2),
                         "speedup": round(old / new, 1)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__.splitlines()[0])
    p.add_argument("--array", type=int, default=500, help="events per array message [500]")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds per decoder [5]")
    args = p.parse_args(argv)
    print(f"{'case':<36} {'events':>7} {'pydantic µs':>12} {'msgspec µs':>11} {'×':>5}")
    for row in measure(args.array, args.rounds):
        print(f"{row['case']:<36} {row['events']:>7} {row['pydantic_us']:>12} {row['msgspec_us']:>11} "
              f"{row['speedup']:>5}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

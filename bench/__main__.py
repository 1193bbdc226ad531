"""``python -m bench [--quick]``: run the benchmarks, print progress, write JSON and Markdown.

The full run takes 25–30 minutes (a minute more for the history queries) (10 of them the memory soak, up to 3 more waiting for other
processes to leave the cores alone); ``--quick`` about 5, for development.  The stack is started
(reused when running); the run's database and topics are dropped at the end, whatever happens.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path

from bench import batch_memory, history
from bench.phases import FULL, QUICK, Bench
from bench.report import kept_sections, render_markdown

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", default=os.environ.get("IOC_BENCH_QUICK") == "1",
                   help="short phases and a 60 s soak (about 5 minutes) [env IOC_BENCH_QUICK=1]")
    p.add_argument("--json", default=os.environ.get("IOC_BENCH_JSON"),
                   help="results file [env IOC_BENCH_JSON, default bench/results/latest.json, "
                        "or bench/results/quick.json with --quick]")
    p.add_argument("--markdown", default=os.environ.get("IOC_BENCH_MARKDOWN"),
                   help="report [env IOC_BENCH_MARKDOWN, default docs/benchmarks.md; with --quick: none]")
    args = p.parse_args(argv)
    json_path = Path(args.json or ROOT / "bench" / "results" / ("quick.json" if args.quick else "latest.json"))
    md_path = Path(args.markdown) if args.markdown else (None if args.quick else ROOT / "docs" / "benchmarks.md")

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # retries while new topics elect leaders
    logging.getLogger("kafka").setLevel(logging.ERROR)  # kafka-python (topic admin) timing warnings
    bench = Bench(QUICK if args.quick else FULL, log=lambda line: print(line, flush=True))
    try:
        results = asyncio.run(bench.run())
        print("bench: the memory bound of a batch (arrays only, per IOC_BATCH_MAX_BYTES)", flush=True)
        caps = [(10_000, 2 << 20), (10_000, 0)] * 2  # the default byte cap, and none, alternating
        results["batch_memory"] = batch_memory.run(100_000 if args.quick else 300_000, caps, 400,
                                                   log=lambda line: print(line, flush=True))
        print("bench: history queries over a year of rollups (p50/p95 at 24 h, 30 d, 1 year)", flush=True)
        results["history"] = history.run(30 if args.quick else 365, 10 if args.quick else 30,
                                         log=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, then the cleanup below
        print(f"bench: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        bench.close()
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    print(f"bench: results written to {json_path}", flush=True)
    if md_path:
        kept = kept_sections(md_path.read_text()) if md_path.exists() else ""
        md_path.write_text(render_markdown(results, kept))
        print(f"bench: report written to {md_path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The feed tools of the ``ioc`` command: ``simulate``, ``record``, ``replay`` and ``drill``.

The jobs themselves are in ``simulators/jobs/``; what is here declares their options.
"""
from __future__ import annotations

import argparse

from streams.cli.common import command, option
from streams.core.settings import Settings
from streams.core.topics import FEEDS


def cmd_simulate(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.jobs.simulate import run_simulate

    return run_simulate(settings, out=args.out, duration=args.duration, count=args.count)


def cmd_record(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.jobs.record import run_record

    return run_record(settings, out=args.out, duration=args.duration, count=args.count,
                      from_beginning=args.from_beginning)


def cmd_replay(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.jobs.replay import run_replay

    return run_replay(settings, args.file, shift_to_now=args.shift_to_now, skip_bad=args.skip_bad)


def cmd_drill(args: argparse.Namespace, settings: Settings) -> int:
    from simulators.jobs.drill import list_drills, run_drill

    return list_drills() if args.list else run_drill(settings, args.name, out=args.out)


def register(sub: argparse._SubParsersAction) -> None:
    fams = ", ".join(FEEDS)
    s = command(sub, "simulate", cmd_simulate, "produce simulated feeds to Kafka", kafka=True)
    option(s, "--rate", "sim_rate", "events per second, 1 to 50000", type=float, metavar="RATE")
    option(s, "--seed", "sim_seed", "random seed: the same seed gives the same feed", type=int, metavar="SEED")
    s.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: run until Ctrl-C)")
    s.add_argument("--count", type=int, default=None, help="stop after this many events")
    option(s, "--families", "sim_families", f"comma-separated feed families ({fams})", metavar="FAMILIES")
    option(s, "--batch-above", "sim_batch_above", "above this rate events go as JSON arrays", type=float,
           metavar="BATCH_ABOVE")
    option(s, "--metrics-port", "sim_metrics_port", "Prometheus /metrics port, 0 = off", type=int,
           metavar="METRICS_PORT")
    option(s, "--province-file", "province_file", "province description")
    s.add_argument("--out", default=None, help="write a recording file (.gz to compress) instead of producing to Kafka")

    r = command(sub, "record", cmd_record, "record the feed topics to a JSON-lines file (.gz to compress)", kafka=True)
    r.add_argument("--out", required=True, help="file to write; gzip when it ends in .gz")
    option(r, "--families", "record_families", f"comma-separated families ({fams})", metavar="FAMILIES")
    r.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    r.add_argument("--count", type=int, default=None, help="stop after this many messages")
    r.add_argument("--from-beginning", action="store_true", help="start at the oldest kept message, not the newest")

    p = command(sub, "replay", cmd_replay, "replay a recording to Kafka with its original spacing scaled", kafka=True)
    p.add_argument("file", help="a recording (ioc record or ioc simulate --out)")
    option(p, "--speed", "replay_speed", "spacing divided by this factor, or 'max' for no waiting", metavar="SPEED")
    p.add_argument("--shift-to-now", action="store_true",
                   help="move every timestamp by (now - the first event's time), keeping their order")
    option(p, "--families", "replay_families", "replay only these comma-separated families", metavar="FAMILIES")
    p.add_argument("--skip-bad", action="store_true", help="skip and count bad lines instead of stopping")

    d = command(sub, "drill", cmd_drill, "play a drill scenario over the background feed", kafka=True, db=True)
    d.add_argument("name", nargs="*", help="scenario name (see --list); several play at once over one background")
    d.add_argument("--list", action="store_true", help="list the scenarios, in Vietnamese and English")
    option(d, "--speed", "drill_speed", "play the timeline this many times faster", type=float, metavar="SPEED")
    option(d, "--rate", "sim_rate", "background events/s (drill rates scale up above 200)", type=float, metavar="RATE")
    option(d, "--seed", "sim_seed", "random seed", type=int, metavar="SEED")
    option(d, "--families", "sim_families", "background families (default: all)", metavar="FAMILIES")
    d.add_argument("--out", default=None, help="write to this recording file instead of Kafka (no run is recorded)")
    option(d, "--by", "drill_by", "who runs the drill, recorded with the run (default: the login name)", metavar="BY")
    option(d, "--province-file", "province_file", "province description")

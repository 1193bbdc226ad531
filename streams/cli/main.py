"""The ``ioc`` command.  Every option falls back to an ``IOC_*`` environment variable.

Errors of the project print one line ``Type: message`` and exit 1.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence


from streams.core.errors import IOCError
from streams.core.settings import describe_settings
from streams.cli.common import option, settings_from, setup_logging, with_settings

log = logging.getLogger("ioc")


# --- subcommands ------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from streams.db.migrate import migrate

    settings = settings_from(args)
    applied = migrate(settings.dsn)
    print(f"migrate: {len(applied)} applied, schema up to date")
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from streams.kafka.admin import create_topics

    settings = settings_from(args)
    topics = create_topics(settings)
    print(f"topics: {len(topics)} present ({', '.join(sorted(topics))})")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import faust

    from agents.worker.workers import build_worker
    from streams.core.metrics import serve

    settings = settings_from(args)
    setup_logging(settings)
    worker = build_worker(settings)
    serve(worker.registry, settings.metrics_port, settings.metrics_host)
    log.info("worker %s: metrics on http://%s:%s/metrics", worker.name, settings.metrics_host, settings.metrics_port)
    faust.Worker(worker.app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False).execute_from_commandline()
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from simulators.base import Runner
    from simulators.catalog import build_simulators
    from streams.core.geography import load_province
    from streams.cli.feeds import open_sender
    from streams.core.metrics import SimulatorMetrics, serve

    settings = settings_from(args)
    setup_logging(settings)
    province = load_province(settings.province_file)
    rng = random.Random(args.seed)
    sims = build_simulators(province, rng, families=args.families.split(",") if args.families else None)
    if not args.out:  # a drill playing on the same topics overrides the entities it forces
        from simulators.drills.shared import ForceFollower, Following, forces_file

        follower = ForceFollower(forces_file(settings.run_dir, settings.topic_prefix), sims)
        sims = [Following(s, follower) for s in sims]
    registry = CollectorRegistry()
    metrics = SimulatorMetrics(registry)
    if args.metrics_port:
        serve(registry, args.metrics_port, settings.metrics_host)
    sender = open_sender(settings, args.out, "simulate", metrics)

    def progress(stats) -> None:
        print(f"simulate: {stats.events} events in {stats.messages} messages, {stats.rate:.0f} events/s", flush=True)

    runner = Runner(sims, sender, rate=args.rate, batch_above=args.batch_above, on_progress=progress)
    try:
        stats = runner.run(args.duration, max_events=args.count)
    except KeyboardInterrupt:
        stats = runner.stats
    finally:
        sender.close()
    for sim in sims:
        metrics.events_sent.labels(sim.family)
    print(f"simulate: done, {stats.events} events, {stats.messages} messages, {stats.rate:.0f} events/s, "
          f"{sender.errors} send errors")
    return 1 if sender.errors else 0


def cmd_dash(args: argparse.Namespace) -> int:
    from ioc_dash.app import create_app

    settings = settings_from(args)
    setup_logging(settings)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per wall refresh
    app = create_app(settings)
    log.info("dashboard on http://%s:%s/", settings.dash_host, settings.dash_port)
    app.run(host=settings.dash_host, port=settings.dash_port, debug=False)
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    for env, default, desc in describe_settings():
        print(f"{env:28} {default:42} {desc}")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from pathlib import Path

    from streams.core.schemas import write_schemas

    paths = write_schemas(Path(args.out))
    print(f"schemas: {len(paths)} written to {args.out} ({', '.join(p.name for p in paths)})")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run simulator, worker, alert engine, notifier, a local receiver and the wall until Ctrl-C."""
    settings = settings_from(args)
    from streams.kafka.admin import create_topics
    from streams.db.migrate import migrate

    migrate(settings.dsn)
    create_topics(settings)
    exe = [sys.executable, "-m", "streams.cli.main"]
    procs = {
        "worker": subprocess.Popen([*exe, "worker"]),
        "simulate": subprocess.Popen([*exe, "simulate", "--rate", str(args.rate), "--metrics-port", "9465"]),
        "dash": subprocess.Popen([*exe, "dash"]),
        "alerts": subprocess.Popen([*exe, "alerts", "run"]),
        "notify": subprocess.Popen([*exe, "notify", "run"]),
        # the on-call file's demo webhook and Alertmanager's receiver: prints what operators would get
        "receiver": subprocess.Popen([sys.executable, "-m", "agents.alerting.notify.testing", "--port", "9194"]),
    }
    from streams.cli.users import demo_wall_url

    print(f"demo: wall on {demo_wall_url(settings)}  (read-only; Ctrl-C stops everything)\n"
          "demo: for the console, first: ioc users create-admin --name NAME", flush=True)
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            for name, p in procs.items():
                if p.poll() is not None:
                    print(f"demo: {name} exited with {p.returncode}; stopping the others", flush=True)
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for p in procs.values():
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
    print("demo: stopped", flush=True)
    return 0


# --- parser -----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="Kiên Giang IOC streaming monitor")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Callable, help_: str, kafka: bool = False, db: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(fn=fn)
        if kafka:
            option(p, "--bootstrap", "kafka_bootstrap", "Kafka bootstrap servers")
            option(p, "--topic-prefix", "topic_prefix", "topic name prefix")
        if db:
            option(p, "--database-url", "database_url", "TimescaleDB URL")
        option(p, "--log-level", "log_level", "log level")
        return p

    db = sub.add_parser("db", help="database schema")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    m = dbsub.add_parser("migrate", help="apply pending migrations (idempotent)")
    m.set_defaults(fn=cmd_migrate)
    option(m, "--database-url", "database_url", "TimescaleDB URL")

    t = sub.add_parser("topics", help="Kafka topics")
    tsub = t.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    tc = tsub.add_parser("create", help="create the project's topics with their partitions (idempotent)")
    tc.set_defaults(fn=cmd_topics)
    option(tc, "--bootstrap", "kafka_bootstrap", "Kafka bootstrap servers")
    option(tc, "--topic-prefix", "topic_prefix", "topic name prefix")
    option(tc, "--partitions", "topic_partitions", "partitions per feed topic", type=int)

    w = add("worker", cmd_worker, "run the stream worker (Faust agents -> TimescaleDB)", kafka=True, db=True)
    option(w, "--metrics-port", "metrics_port", "Prometheus /metrics port", type=int)
    option(w, "--app-id", "app_id", "consumer group id")

    s = add("simulate", cmd_simulate, "produce simulated feeds to Kafka", kafka=True)
    s.add_argument("--rate", type=float, default=float(os.environ.get("IOC_SIM_RATE", 200)),
                   help="events per second, 1 to 50000 [env IOC_SIM_RATE, default 200]")
    s.add_argument("--seed", type=int, default=int(os.environ.get("IOC_SIM_SEED", 2023)),
                   help="random seed: the same seed gives the same feed [env IOC_SIM_SEED, default 2023]")
    s.add_argument("--duration", type=float, default=None, help="stop after this many seconds (default: run until Ctrl-C)")
    s.add_argument("--count", type=int, default=None, help="stop after this many events")
    s.add_argument("--families", default=os.environ.get("IOC_SIM_FAMILIES"),
                   help="comma-separated feed families (default: all) [env IOC_SIM_FAMILIES]")
    s.add_argument("--batch-above", type=float, default=float(os.environ.get("IOC_SIM_BATCH_ABOVE", 200)),
                   help="above this rate events go as JSON arrays [env IOC_SIM_BATCH_ABOVE, default 200]")
    s.add_argument("--metrics-port", type=int, default=int(os.environ.get("IOC_SIM_METRICS_PORT", 0)),
                   help="Prometheus /metrics port, 0 = off [env IOC_SIM_METRICS_PORT, default 0]")
    option(s, "--province-file", "province_file", "province description")
    s.add_argument("--out", default=None, help="write a recording file (.gz to compress) instead of producing to Kafka")

    d = add("dash", cmd_dash, "run the wall display and operator console", db=True)
    option(d, "--host", "dash_host", "bind address")
    option(d, "--port", "dash_port", "port", type=int)

    from streams.cli import notify as cli_notify

    cli_notify.add_parser(sub, option)

    demo = add("demo", cmd_demo, "run simulator, worker and dashboard together (Ctrl-C stops)", kafka=True, db=True)
    demo.add_argument("--rate", type=float, default=float(os.environ.get("IOC_SIM_RATE", 200)),
                      help="simulated events per second [env IOC_SIM_RATE, default 200]")

    add("settings", cmd_settings, "list every IOC_* setting with its default")

    from streams.cli import alerts as cli_alerts

    cli_alerts.add_parser(sub, option, with_settings)

    from streams.cli import users as cli_users

    cli_users.add_parser(sub, option, with_settings)

    sc = sub.add_parser("schemas", help="write the JSON Schema of every feed family",
                        description="write <family>.schema.json for every feed family (one event or an array)")
    sc.set_defaults(fn=cmd_schemas)
    sc.add_argument("--out", default=os.environ.get("IOC_SCHEMAS_OUT", "docs/schemas"),
                    help="output folder [env IOC_SCHEMAS_OUT, default docs/schemas]")

    from streams.cli.feeds import add_commands

    add_commands(add)  # record, replay, drill
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C and the console's "stop" interrupt a command, which then releases what it holds (a drill
    # its forced conditions): also when its parent started it with SIGINT ignored, as a shell does
    # for a background job (nohup, &) and as every child of such a process inherits
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.fn(args) or 0
    except IOCError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

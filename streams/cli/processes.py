"""The long-running parts: ``ioc worker``, ``ioc dash`` and ``ioc demo`` (all of them together).

The worker is ``agents/worker/workers.py`` (``run_worker``), the wall ``ioc_dash/app.py``; the alert
engine (``ioc alerts run``) and the notifier (``ioc notify run``) are in their own command groups.
"""
from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time

from streams.cli.common import command, option
from streams.core.settings import Settings

log = logging.getLogger("ioc")


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from agents.worker.workers import run_worker

    return run_worker(settings)


def cmd_dash(args: argparse.Namespace, settings: Settings) -> int:
    from ioc_dash.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per wall refresh
    app = create_app(settings)
    log.info("dashboard on http://%s:%s/", settings.dash_host, settings.dash_port)
    app.run(host=settings.dash_host, port=settings.dash_port, debug=False)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run simulator, worker, alert engine, notifier, a local receiver and the wall until Ctrl-C."""
    from streams.kafka.admin import create_topics
    from streams.db.migrate import migrate

    migrate(settings.dsn)
    create_topics(settings)
    from streams.cli.register import seed_sample

    if seeded := seed_sample(settings):
        print(f"demo: security register: {seeded} sample entries (ioc register list; /console/register)", flush=True)
    exe = [sys.executable, "-m", "streams.cli.main"]
    procs = {
        "worker": subprocess.Popen([*exe, "worker"]),
        "simulate": subprocess.Popen([*exe, "simulate", "--rate", str(settings.sim_rate), "--metrics-port",
                                      str(settings.demo_sim_metrics_port)]),
        "dash": subprocess.Popen([*exe, "dash"]),
        "alerts": subprocess.Popen([*exe, "alerts", "run"]),
        "notify": subprocess.Popen([*exe, "notify", "run"]),
        # the on-call file's demo webhook and Alertmanager's receiver: prints what operators would get
        "receiver": subprocess.Popen([sys.executable, "-m", "agents.alerting.notify.testing",
                                      "--port", str(settings.demo_receiver_port)]),
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


def register(sub: argparse._SubParsersAction) -> None:
    w = command(sub, "worker", cmd_worker, "run the stream worker (Faust agents -> TimescaleDB)", kafka=True, db=True)
    option(w, "--metrics-port", "metrics_port", "Prometheus /metrics port", type=int)
    option(w, "--app-id", "app_id", "consumer group id")

    d = command(sub, "dash", cmd_dash, "run the wall display and operator console", db=True)
    option(d, "--host", "dash_host", "bind address")
    option(d, "--port", "dash_port", "port", type=int)

    demo = command(sub, "demo", cmd_demo, "run simulator, worker and dashboard together (Ctrl-C stops)", kafka=True,
                   db=True)
    option(demo, "--rate", "sim_rate", "simulated events per second", type=float, metavar="RATE")

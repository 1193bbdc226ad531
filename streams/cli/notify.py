"""``ioc notify``: deliver notifications and forward security findings upstream.

    ioc notify run      dispatch notification_outbox (and the SOC link when IOC_SOC_MODE is set)
    ioc notify check    validate the on-call file and show who is called at each level
"""
from __future__ import annotations

import argparse
import logging
import signal
import threading
from streams.cli.common import settings_from, setup_logging

log = logging.getLogger("ioc.notify")


def cmd_run(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry

    from streams.core.metrics import NotifyMetrics, serve
    from agents.alerting.notify.dispatcher import Dispatcher
    from agents.alerting.notify.soc import SocForwarder

    settings = settings_from(args)
    setup_logging(settings)
    registry = CollectorRegistry()
    metrics = NotifyMetrics(registry)
    dispatcher = Dispatcher.from_settings(settings, metrics=metrics)
    forwarder = SocForwarder.from_settings(settings, metrics=metrics)
    serve(registry, settings.notify_metrics_port, settings.metrics_host)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=dispatcher.run, args=(stop,), kwargs={"poll_s": settings.notify_poll_s},
                                name="dispatcher", daemon=True)]
    if forwarder:
        threads.append(threading.Thread(target=forwarder.run, args=(stop,), kwargs={"poll_s": settings.notify_poll_s},
                                        name="soc-forwarder", daemon=True))
    log.info("notify: receivers from %s; SOC link %s", settings.oncall_file,
             forwarder.sink.target if forwarder else "off")
    for t in threads:
        t.start()
    rc = 0
    try:
        while not stop.wait(1):
            dead = [t.name for t in threads if not t.is_alive()]
            if dead:  # its traceback is already logged; do not keep running half of the service
                log.error("notify: %s stopped unexpectedly; exiting", ", ".join(dead))
                stop.set()
                rc = 1
    except KeyboardInterrupt:
        stop.set()
    for t in threads:
        t.join(timeout=settings.notify_timeout_s + 5)
    if forwarder:
        forwarder.sink.close()
    return rc


def cmd_check(args: argparse.Namespace) -> int:
    from agents.alerting.notify.oncall import load_oncall

    settings = settings_from(args)
    oncall = load_oncall(settings.oncall_file, alertmanager_url=settings.alertmanager_url)
    print(f"{settings.oncall_file}: {len(oncall.receivers)} receivers, {len(oncall.levels)} levels")
    for i, level in enumerate(oncall.levels):
        who = ", ".join(f"{r} ({oncall.receivers[r].channel})" for r in level.receivers)
        print(f"  level {i} after {level.after}: {who}")
    drill = oncall.drill
    who = ", ".join(f"{r} ({oncall.receivers[r].channel})" for r in drill.receivers) or "nobody"
    also = "; the levels' receivers too (drill.notify_oncall)" if drill.notify_oncall else \
        "; never the levels' receivers"
    print(f"  drill alerts: {who}{also}")
    return 0


def add_parser(sub, opt) -> None:
    n = sub.add_parser("notify", help="deliver notifications (e-mail, Telegram, webhook, Alertmanager) and the SOC link")
    nsub = n.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    r = nsub.add_parser("run", help="send notification_outbox rows with retries; forward findings to the SOC")
    r.set_defaults(fn=cmd_run)
    opt(r, "--database-url", "database_url", "TimescaleDB URL")
    opt(r, "--oncall-file", "oncall_file", "on-call receivers and levels")
    opt(r, "--metrics-port", "notify_metrics_port", "Prometheus /metrics port", type=int)
    opt(r, "--log-level", "log_level", "log level")
    c = nsub.add_parser("check", help="validate the on-call file and list who is called at each level")
    c.set_defaults(fn=cmd_check)
    opt(c, "--oncall-file", "oncall_file", "on-call receivers and levels")

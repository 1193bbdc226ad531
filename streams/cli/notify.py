"""``ioc notify``: deliver notifications and forward security findings upstream.

    ioc notify run      dispatch notification_outbox (and the SOC link when IOC_SOC_MODE is set)
    ioc notify check    validate the on-call file and show who is called at each level

The notifier as a process is ``agents/alerting/notify/runner.py``.
"""
from __future__ import annotations

import argparse

from streams.cli.common import command, group, option, stop_on_sigterm
from streams.core.settings import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from agents.alerting.notify.runner import run_notifier

    return run_notifier(settings, stop_on_sigterm())


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from agents.alerting.notify.oncall import oncall_of

    oncall = oncall_of(settings)
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


def register(sub: argparse._SubParsersAction) -> None:
    notify = group(sub, "notify", "deliver notifications (e-mail, Telegram, webhook, Alertmanager) and the SOC link")
    r = command(notify, "run", cmd_run, "send notification_outbox rows with retries; forward findings to the SOC",
                db=True)
    option(r, "--oncall-file", "oncall_file", "on-call receivers and levels")
    option(r, "--metrics-port", "notify_metrics_port", "Prometheus /metrics port", type=int)
    c = command(notify, "check", cmd_check, "validate the on-call file and list who is called at each level",
                log_level=False)
    option(c, "--oncall-file", "oncall_file", "on-call receivers and levels")

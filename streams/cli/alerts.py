"""``ioc alerts``: the alert engine (evaluate rules, persist, escalate) and operator actions; ``ioc
maintenance``: maintenance windows.  The engine as a process is ``agents/alerting/runner.py``.

    ioc alerts run                      evaluate every IOC_ALERT_INTERVAL_S until stopped
    ioc alerts list                     open alerts
    ioc alerts ack ID --by NAME [--comment TEXT]
    ioc alerts history ID
    ioc alerts backtest RECORDING [--rules FILE…] [--csv OUT] [--tail 30m]
    ioc alerts silence add [--rule R] [--entity E] [--label k=v] (--for 2h | --end T) --comment C --by NAME
    ioc alerts silence list [--all] | end ID --by NAME
"""
from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from streams.cli.common import command, group, stop_on_sigterm
from streams.core.clock import LOCAL_TZ
from streams.core.errors import ConfigError


def cmd_run(args: argparse.Namespace, settings) -> int:
    from agents.alerting.runner import run_engine

    return run_engine(settings, stop_on_sigterm())


def cmd_list(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    for a in AlertStore(settings.dsn).alerts(states=("pending", "firing")):
        ack = f" ack by {a['acknowledged_by']}" if a["acknowledged_by"] else ""
        print(f"{a['id']:>6} {a['state']:8} {a['severity']:9} {a['rule']:28} {a['entity']:24}{ack}  {a['summary_vi']}")
    return 0


def cmd_ack(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    a = AlertStore(settings.dsn).acknowledge(args.id, args.by, args.comment or "")
    print(f"alert {a['id']} acknowledged by {a['acknowledged_by']}")
    return 0


def cmd_history(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    for e in AlertStore(settings.dsn).history(args.id):
        print(f"{e['at'].isoformat()} {e['kind']:22} {e['actor']:16} {dict(e['detail'])}")
    return 0


def cmd_backtest(args: argparse.Namespace, settings) -> int:
    from agents.alerting.rules import parse_duration
    from simulators.jobs.backtest import run_backtest

    try:
        tail = parse_duration(args.tail) if args.tail else None
    except ValueError as exc:
        raise ConfigError(f"--tail: {exc}") from None
    rules = [Path(p) for p in args.rules] if args.rules else None
    return run_backtest(settings, args.recording, rule_files=rules, csv_out=args.csv, tail=tail)


def cmd_silence_add(args: argparse.Namespace, settings) -> int:
    from agents.alerting.rules import parse_duration
    from agents.alerting.store import AlertStore
    from streams.core.clock import utcnow

    start = _when(args.start) if args.start else utcnow()
    if bool(args.end) == bool(args.for_):
        raise ConfigError("give either --for (2h, 30m) or --end (a time)")
    try:
        end = _when(args.end) if args.end else start + parse_duration(args.for_)
    except ValueError as exc:
        raise ConfigError(f"--for: {exc}") from None
    labels = {}
    for item in args.label or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--label {item!r}: write key=value")
        labels[key] = value
    sid = AlertStore(settings.dsn).add_silence(rule=args.rule, entity=args.entity, labels=labels, starts_at=start,
                                               ends_at=end, comment=args.comment, actor=args.by)
    print(f"silence {sid}: rule {args.rule}, entity {args.entity}"
          + (f", labels {labels}" if labels else "") + f", until {end.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}")
    return 0


def cmd_silence_list(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    for s in AlertStore(settings.dsn).silences(include_past=args.all):
        state = f"ended by {s['ended_by']}" if s["ended_at"] else ""
        print(f"{s['id']:>5} {s['rule']:28} {s['entity']:20} {_labels(s['labels']):16} "
              f"{s['starts_at'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} → {s['ends_at'].astimezone(LOCAL_TZ):%Y-%m-%d %H:%M} "
              f"{s['created_by']}: {s['comment']} {state}".rstrip())
    return 0


def _labels(labels) -> str:
    return ",".join(f"{k}={v}" for k, v in (labels or {}).items())


def cmd_silence_end(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    if not AlertStore(settings.dsn).end_silence(args.id, args.by):
        raise ConfigError(f"no silence {args.id} in force or to come")
    print(f"silence {args.id} ended")
    return 0


def _when(text: str) -> datetime:
    """An ISO time; without an offset it is local time (Asia/Ho_Chi_Minh)."""
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a time: {text!r} (use 2026-11-28T22:00 or 2026-11-28T22:00+07:00)") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=LOCAL_TZ)


def cmd_maint_add(args: argparse.Namespace, settings) -> int:
    from agents.indicators.maintenance import WeeklyRule
    from agents.alerting.store import AlertStore

    if args.weekly:
        rule = WeeklyRule.parse({"days": args.weekly.split(","), "start": args.at, "minutes": args.minutes})
        wid = AlertStore(settings.dsn).add_maintenance(system=args.system, reason=args.reason, actor=args.by,
                                                       recurrence=rule.to_doc())
    else:
        if not (args.start and args.end):
            raise ConfigError("give --start and --end, or --weekly DAYS --at HH:MM --minutes N")
        start, end = _when(args.start), _when(args.end)
        if end <= start:
            raise ConfigError("--end must be after --start")
        wid = AlertStore(settings.dsn).add_maintenance(system=args.system, reason=args.reason, actor=args.by,
                                                       starts_at=start, ends_at=end)
    print(f"maintenance window {wid} added for {args.system or 'every system'}")
    return 0


def cmd_maint_list(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    for w in AlertStore(settings.dsn).maintenance_windows():
        when = (f"weekly {w['recurrence']}" if w["recurrence"]
                else f"{w['starts_at'].isoformat()} .. {w['ends_at'].isoformat()}")
        print(f"{w['id']:>5} {w['system'] or '*':14} {when}  next {w['next_start'] or '-'}  {w['reason']}")
    return 0


def cmd_maint_delete(args: argparse.Namespace, settings) -> int:
    from agents.alerting.store import AlertStore

    if not AlertStore(settings.dsn).delete_maintenance(args.id):
        raise ConfigError(f"no maintenance window {args.id}")
    print(f"maintenance window {args.id} deleted")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    def action(actions: argparse._SubParsersAction, name: str, fn, help_: str, *,
               logs: bool = False) -> argparse.ArgumentParser:
        """An action on the database; ``logs``: it logs, and takes --log-level."""
        return command(actions, name, fn, help_, db=True, log_level=logs)

    maintenance = group(sub, "maintenance", "maintenance windows: alerts stay quiet, uptime leaves them out")
    ma = action(maintenance, "add", cmd_maint_add,
                "a one-off (--start/--end) or weekly (--weekly/--at/--minutes) window")
    ma.add_argument("--system", default=None, help="system or other entity (default: every system)")
    ma.add_argument("--start", help="start, ISO time (local time when no offset)")
    ma.add_argument("--end", help="end, ISO time")
    ma.add_argument("--weekly", help="days, e.g. sun or mon,thu")
    ma.add_argument("--at", default="01:00", help="weekly start, local HH:MM")
    ma.add_argument("--minutes", type=int, default=120, help="weekly duration in minutes")
    ma.add_argument("--reason", required=True)
    ma.add_argument("--by", required=True, help="who declares it")
    action(maintenance, "list", cmd_maint_list, "every window with its next occurrence")
    md = action(maintenance, "delete", cmd_maint_delete, "delete a window and its occurrences")
    md.add_argument("id", type=int)

    alerts = group(sub, "alerts", "alert engine and alert actions")
    action(alerts, "run", cmd_run, "evaluate the alert rules continuously (one active engine at a time)", logs=True)
    action(alerts, "list", cmd_list, "open alerts")
    ack = action(alerts, "ack", cmd_ack, "acknowledge an alert: it stops escalating")
    ack.add_argument("id", type=int)
    ack.add_argument("--by", required=True, help="who acknowledges")
    ack.add_argument("--comment", default="")
    h = action(alerts, "history", cmd_history, "every transition and action of an alert")
    h.add_argument("id", type=int)
    b = action(alerts, "backtest", cmd_backtest, "replay a recording through the rules offline: when each alert "
               "would have fired and resolved (nothing is notified)", logs=True)
    b.add_argument("recording", help="a recording (ioc record, ioc simulate --out, ioc drill --out)")
    b.add_argument("--rules", nargs="+", metavar="FILE", help="rule files to try (default: IOC_ALERT_RULES)")
    b.add_argument("--csv", metavar="OUT", help="also write the alerts to this CSV file")
    b.add_argument("--tail", metavar="DURATION", help="simulate at most this long after the recording for open "
                   "alerts to resolve (default: the rules' longest keep_firing_for + 15m)")
    silence = group(alerts, "silence", "silences by rule, entity and labels, for alerts fired or not yet")
    sa = action(silence, "add", cmd_silence_add, "silence matching alerts for a while")
    sa.add_argument("--rule", default="*", help="rule name or pattern (default *)")
    sa.add_argument("--entity", default="*", help="entity or pattern, e.g. 'cam-hatien-*' (default *)")
    sa.add_argument("--label", action="append", help="key=value the alert's labels must have (repeatable)")
    sa.add_argument("--start", help="start, ISO time (default now; local time when no offset)")
    sa.add_argument("--for", dest="for_", help="how long: 30m, 2h, 1d")
    sa.add_argument("--end", help="end, ISO time")
    sa.add_argument("--comment", required=True, help="why, and who to ask")
    sa.add_argument("--by", required=True, help="who silences")
    sl = action(silence, "list", cmd_silence_list, "silences in force or to come")
    sl.add_argument("--all", action="store_true", help="ended and past ones too")
    se = action(silence, "end", cmd_silence_end, "end a silence now")
    se.add_argument("id", type=int)
    se.add_argument("--by", required=True, help="who ends it")

"""``ioc alerts``: the alert engine (evaluate rules, persist, escalate) and operator actions.

    ioc alerts run                      evaluate every IOC_ALERT_INTERVAL_S until stopped
    ioc alerts list                     open alerts
    ioc alerts ack ID --by NAME [--comment TEXT]
    ioc alerts history ID
"""
from __future__ import annotations

import argparse
import logging
import signal
import time
from datetime import datetime, timezone

from streams.core.errors import ConfigError, IOCError, SinkUnavailable

log = logging.getLogger("ioc.alerts")
_ENGINE_LOCK = 7_402_180_002


def _engine(settings):
    from agents.alerting import derived
    from agents.alerting.engine import AlertEngine, RuleSet
    from agents.alerting.evaluate import Topology
    from agents.indicators.health import load_status_rules
    from agents.indicators.sensor_kpi import load_sensor_rules
    from streams.core.geography import load_province
    from agents.alerting.store import AlertStore
    from agents.indicators.queries import camera, citizen, dossier, sensor

    province = load_province(settings.province_file)
    store = AlertStore(settings.dsn, names=province.names())
    sensor_rules = load_sensor_rules()
    readers = [
        derived.health_reader(store, [s.code for s in province.systems], load_status_rules()),
        lambda now: derived.camera_values(store.fetch(camera.CAMERA_STATES), province, now),
        lambda now: derived.intrusion_values(store.fetch(camera.INTRUSION_ROWS, (now, now)), province),
        lambda now: derived.sensor_values(store.fetch(sensor.SENSOR_LATEST), province, now, sensor_rules),
        lambda now: derived.dossier_values(store.fetch(dossier.DOSSIER_RECENT_DAYS),
                                           store.fetch(dossier.DOSSIERS_IN_PROGRESS), now),
        lambda now: derived.citizen_values(store.fetch(citizen.REPORTS_NOT_CLOSED), now),
    ]
    from agents.alerting.notify.oncall import load_oncall

    oncall = load_oncall(settings.oncall_file, alertmanager_url=settings.alertmanager_url)
    return AlertEngine(store, RuleSet(settings.alert_rule_files()),
                       topology=Topology(derived.topology_parents(province)), derived=readers,
                       receivers_for=oncall.receivers_for, levels=oncall.level_delays)


def cmd_run(args: argparse.Namespace, settings) -> int:
    from prometheus_client import CollectorRegistry, Counter, Gauge

    from streams.core.metrics import serve

    registry = CollectorRegistry()
    rounds = Counter("ioc_alert_rounds", "evaluation rounds", ["outcome"], registry=registry)
    firing = Gauge("ioc_alerts_firing", "alerts firing after the last round", registry=registry)
    rules_ok = Gauge("ioc_alert_rules_valid", "1 when the rule files loaded without error", registry=registry)
    serve(registry, settings.alerts_metrics_port, settings.metrics_host)
    from agents.alerting.notify.dispatcher import Dispatcher

    engine = _engine(settings)
    resender = Dispatcher.from_settings(settings)
    next_resend = 0.0
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    from streams.db.connect import connect

    lock = connect(settings.dsn, what="alert engine lock", role="alerts", autocommit=True)
    log.info("alert engine waiting for its lock (another engine may be active)")
    while not stop and not lock.execute("SELECT pg_try_advisory_lock(%s)", (_ENGINE_LOCK,)).fetchone()[0]:
        time.sleep(settings.alert_interval_s)
    log.info("alert engine active: rules from %s", ", ".join(str(p) for p in engine.ruleset.paths))
    try:
        while not stop:
            started = time.monotonic()
            try:
                result = engine.run_once(datetime.now(timezone.utc))
                rounds.labels("ok").inc()
                firing.set(result.firing)
                if result.transitions or result.escalated:
                    log.info("round: %s transitions, %s notifications, %s escalated, %s firing",
                             result.transitions, result.queued, result.escalated, result.firing)
            except SinkUnavailable as exc:
                rounds.labels("db_unavailable").inc()
                log.warning("round skipped: %s", exc)
            rules_ok.set(0 if engine.ruleset.error else 1)
            if time.monotonic() >= next_resend:  # Alertmanager keeps no history: re-send what is open
                next_resend = time.monotonic() + settings.alertmanager_resend_s
                try:
                    resender.resend_alertmanager()
                except IOCError as exc:
                    log.warning("re-send to Alertmanager skipped: %s", exc)
            time.sleep(max(0.0, settings.alert_interval_s - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        lock.close()
    return 0


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


def _when(text: str) -> datetime:
    """An ISO time; without an offset it is local time (Asia/Ho_Chi_Minh)."""
    from zoneinfo import ZoneInfo

    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"not a time: {text!r} (use 2026-11-28T22:00 or 2026-11-28T22:00+07:00)") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


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


def add_parser(sub, opt, run_with_settings) -> None:
    m = sub.add_parser("maintenance", help="maintenance windows: alerts stay quiet, uptime leaves them out")
    msub = m.add_subparsers(dest="maintenance_command", required=True, metavar="ACTION")
    ma = msub.add_parser("add", help="a one-off (--start/--end) or weekly (--weekly/--at/--minutes) window")
    ma.add_argument("--system", default=None, help="system or other entity (default: every system)")
    ma.add_argument("--start", help="start, ISO time (local time when no offset)")
    ma.add_argument("--end", help="end, ISO time")
    ma.add_argument("--weekly", help="days, e.g. sun or mon,thu")
    ma.add_argument("--at", default="01:00", help="weekly start, local HH:MM")
    ma.add_argument("--minutes", type=int, default=120, help="weekly duration in minutes")
    ma.add_argument("--reason", required=True)
    ma.add_argument("--by", required=True, help="who declares it")
    opt(ma, "--database-url", "database_url", "TimescaleDB URL")
    ma.set_defaults(fn=run_with_settings(cmd_maint_add))
    ml = msub.add_parser("list", help="every window with its next occurrence")
    opt(ml, "--database-url", "database_url", "TimescaleDB URL")
    ml.set_defaults(fn=run_with_settings(cmd_maint_list))
    md = msub.add_parser("delete", help="delete a window and its occurrences")
    md.add_argument("id", type=int)
    opt(md, "--database-url", "database_url", "TimescaleDB URL")
    md.set_defaults(fn=run_with_settings(cmd_maint_delete))

    al = sub.add_parser("alerts", help="alert engine and alert actions")
    asub = al.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    r = asub.add_parser("run", help="evaluate the alert rules continuously (one active engine at a time)")
    opt(r, "--database-url", "database_url", "TimescaleDB URL")
    opt(r, "--log-level", "log_level", "log level")
    r.set_defaults(fn=run_with_settings(cmd_run, logs=True))
    ls = asub.add_parser("list", help="open alerts")
    opt(ls, "--database-url", "database_url", "TimescaleDB URL")
    ls.set_defaults(fn=run_with_settings(cmd_list))
    ack = asub.add_parser("ack", help="acknowledge an alert: it stops escalating")
    ack.add_argument("id", type=int)
    ack.add_argument("--by", required=True, help="who acknowledges")
    ack.add_argument("--comment", default="")
    opt(ack, "--database-url", "database_url", "TimescaleDB URL")
    ack.set_defaults(fn=run_with_settings(cmd_ack))
    h = asub.add_parser("history", help="every transition and action of an alert")
    h.add_argument("id", type=int)
    opt(h, "--database-url", "database_url", "TimescaleDB URL")
    h.set_defaults(fn=run_with_settings(cmd_history))

"""The alert engine as a process (``ioc alerts run``): the engine with its readers, its metrics,
the Alertmanager re-send, and the advisory lock that keeps one engine active at a time (a second
one waits as a hot standby).

Each round evaluates the rules at ``IOC_ALERT_INTERVAL_S``; a round the database cannot serve is
skipped and counted (``ioc_alert_rounds{outcome="db_unavailable"}``).
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timedelta, timezone

from prometheus_client import CollectorRegistry

from agents.alerting import derived
from agents.alerting.engine import AlertEngine, Derived, RuleSet
from agents.alerting.evaluate import Topology
from agents.alerting.incidents import Policy as IncidentPolicy
from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.oncall import oncall_of
from agents.alerting.store import AlertStore
from agents.indicators.health import load_status_rules
from agents.indicators.producers import load_source_rules
from agents.indicators.register import load_policy
from agents.indicators.queries import camera, citizen, dossier, sensor
from agents.indicators.sensor_kpi import load_sensor_rules
from streams.core.errors import IOCError, SinkUnavailable
from streams.core.geography import Province, load_province
from streams.core.metrics import AlertMetrics, serve
from streams.core.settings import Settings
from streams.db.connect import connect

log = logging.getLogger("ioc.alerts")
ENGINE_LOCK = 7_402_180_002


def build_engine(settings: Settings) -> AlertEngine:
    """The engine: rules from ``IOC_ALERT_RULES``, the derived indicators' readers, the province's
    topology, the on-call file's receivers and escalation levels."""
    province = load_province(settings.province_file)
    store = AlertStore(settings.dsn, names=province.names(),
                       incidents=IncidentPolicy(window=timedelta(seconds=settings.incident_window_s)))
    oncall = oncall_of(settings)
    return AlertEngine(store, RuleSet(settings.alert_rule_files()),
                       topology=Topology(derived.topology_parents(province)), derived=derived_readers(store, province),
                       receivers_for=oncall.receivers_for, levels=oncall.level_delays)


def derived_readers(store: AlertStore, province: Province) -> list[Derived]:
    """The readers of the indicators computed in Python (``agents.alerting.derived``), each ``now -> values``,
    reading through ``store``."""
    sensor_rules = load_sensor_rules()
    return [
        derived.health_reader(store, [s.code for s in province.systems], load_status_rules()),
        lambda now: derived.camera_values(store.fetch(camera.CAMERA_STATES), province, now),
        lambda now: derived.intrusion_values(store.fetch(camera.INTRUSION_ROWS, (now, now)), province),
        lambda now: derived.sensor_values(store.fetch(sensor.SENSOR_LATEST), province, now, sensor_rules),
        lambda now: derived.dossier_values(store.fetch(dossier.DOSSIER_RECENT_DAYS),
                                           store.fetch(dossier.DOSSIERS_IN_PROGRESS), now),
        lambda now: derived.citizen_values(store.fetch(citizen.REPORTS_NOT_CLOSED), now),
        lambda now: derived.register_values(store.fetch, now),
        derived.critical_finding_reader(store.fetch, load_policy()),
        derived.source_quiet_reader(store.fetch, load_source_rules()),
    ]


def run_engine(settings: Settings, stop: threading.Event, *, registry: CollectorRegistry | None = None) -> int:
    """Evaluate every ``alert_interval_s`` until ``stop`` is set (or Ctrl-C), once this process holds
    the engine's lock; metrics on ``IOC_ALERTS_METRICS_PORT``."""
    registry = registry or CollectorRegistry()
    metrics = AlertMetrics(registry)
    serve(registry, settings.alerts_metrics_port, settings.metrics_host)
    engine = build_engine(settings)
    resender = Dispatcher.from_settings(settings)
    next_resend = 0.0
    lock = connect(settings.dsn, what="alert engine lock", role="alerts", autocommit=True)
    log.info("alert engine waiting for its lock (another engine may be active)")
    while not stop.is_set() and not lock.execute("SELECT pg_try_advisory_lock(%s)", (ENGINE_LOCK,)).fetchone()[0]:
        stop.wait(settings.alert_interval_s)
    log.info("alert engine active: rules from %s", ", ".join(str(p) for p in engine.ruleset.paths))
    try:
        while not stop.is_set():
            started = time.monotonic()
            try:
                result = engine.run_once(datetime.now(timezone.utc))
                metrics.rounds.labels("ok").inc()
                metrics.firing.set(result.firing)
                if result.transitions or result.escalated:
                    log.info("round: %s transitions, %s notifications, %s escalated, %s firing",
                             result.transitions, result.queued, result.escalated, result.firing)
            except SinkUnavailable as exc:
                metrics.rounds.labels("db_unavailable").inc()
                log.warning("round skipped: %s", exc)
            metrics.rules_valid.set(0 if engine.ruleset.error else 1)
            if time.monotonic() >= next_resend:  # Alertmanager keeps no history: re-send what is open
                next_resend = time.monotonic() + settings.alertmanager_resend_s
                try:
                    resender.resend_alertmanager()
                except IOCError as exc:
                    log.warning("re-send to Alertmanager skipped: %s", exc)
            stop.wait(max(0.0, settings.alert_interval_s - (time.monotonic() - started)))
    except KeyboardInterrupt:
        pass
    finally:
        lock.close()
    return 0

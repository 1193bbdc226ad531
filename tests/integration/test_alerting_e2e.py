"""A system goes down: probes -> Kafka -> worker -> indicators -> alert engine -> outbox ->
dispatcher -> the real Alertmanager and a webhook receiver.  Then an operator acknowledges it."""
from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timedelta, timezone

import orjson

from agents.alerting.derived import health_reader
from agents.alerting.engine import AlertEngine, RuleSet
from agents.indicators.health import load_status_rules
from agents.alerting.notify.channels import build_channels
from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.oncall import load_oncall
from agents.alerting.notify.testing import LocalReceiver
from agents.alerting.store import AlertStore
from tests.support import wait_for

SYSTEM = "e2e-portal"

RULES = """rules:
  - name: e2e_system_unavailable
    indicator: health.availability
    condition: below
    fire: 0.9
    clear: 0.97
    for: 0s
    severity: critical
    labels: {team: noc}
    summary: {vi: "{entity}: sẵn sàng {value:.0%}", en: "{entity}: availability {value:.0%}"}
    runbook: docs/runbooks.md#system-unavailable
"""


def test_a_system_going_down_reaches_alertmanager_and_the_webhook(worker, producer, test_settings, db, tmp_path):
    now = datetime.now(timezone.utc)
    probes = [{"id": f"e2e-{i}", "type": "ServiceProbe", "system": SYSTEM, "endpoint": "/",
               "dateObserved": (now - timedelta(seconds=100 - 5 * i)).isoformat(), "success": i % 10 == 0,
               "latency_ms": 5000.0, "status_code": 503} for i in range(20)]
    producer("health", SYSTEM, orjson.dumps(probes))
    producer.flush()
    wait_for(lambda: db.execute("SELECT sum(probes) FROM health_window WHERE system = %s AND window_s = 60 "
                                "AND endpoint = '*'", (SYSTEM,)).fetchone()[0] == 20, timeout=60,
             what="probes stored")

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    with LocalReceiver() as rx:
        oncall_file = tmp_path / "oncall.yaml"
        oncall_file.write_text(
            "receivers:\n"
            "  am: {channel: alertmanager}\n"
            f"  ops: {{channel: webhook, url: '{rx.url('/ioc')}'}}\n"
            "levels:\n  - {after: 0s, receivers: [am, ops]}\n")
        oncall = load_oncall(oncall_file, alertmanager_url=test_settings.alertmanager_url)
        store = AlertStore(test_settings.dsn)
        engine = AlertEngine(store, RuleSet([rules]), receivers_for=oncall.receivers_for, levels=oncall.level_delays,
                             derived=[health_reader(store, [], load_status_rules())])
        result = engine.run_once(datetime.now(timezone.utc))
        assert result.firing >= 1 and result.queued >= 2

        dispatcher = Dispatcher(test_settings.dsn, oncall, build_channels(test_settings))
        sent = dispatcher.run_once()
        assert sent.sent >= 2, sent
        (request,) = [r for r in rx.wait_for(1) if SYSTEM.encode() in r.body]
        assert request.json()["event"] == "firing" and request.json()["alert"]["severity"] == "critical"

    with urllib.request.urlopen(f"{test_settings.alertmanager_url}/api/v2/alerts?filter=entity%3D%22{SYSTEM}%22",
                                timeout=10) as resp:
        in_am = json.load(resp)
    assert [a["labels"]["alertname"] for a in in_am] == ["e2e_system_unavailable"]
    assert in_am[0]["annotations"]["summary"].startswith(f"{SYSTEM}: sẵn sàng")

    alert = next(a for a in store.alerts() if a["entity"] == SYSTEM)
    store.acknowledge(alert["id"], "truc-ban", "đã gọi nhà cung cấp")
    assert [e["kind"] for e in store.history(alert["id"])] == ["pending", "fired", "acknowledged"]

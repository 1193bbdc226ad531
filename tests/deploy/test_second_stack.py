"""A second local stack beside the first, as README.md's "Running a second stack" starts it: its
own run folder and ports, and the IOC settings of its processes on other ports too.  Its
Alertmanager and Prometheus (what ``deploy/stack.sh`` renders from the settings) talk only to its
own processes: notifications reach its own receiver, Prometheus scrapes only its own ports, and
the first stack's Alertmanager never hears of them.  Kafka and PostgreSQL are the same script on
other ports and are left out to keep the test short."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from agents.alerting.notify.channels import AlertmanagerChannel
from agents.alerting.notify.oncall import Receiver, oncall_of
from agents.alerting.notify.testing import LocalReceiver
from agents.alerting.payload import build_payload
from streams.core.clock import utcnow
from streams.core.settings import Settings
from tests.conftest import ROOT
from tests.notify.conftest import alert_row
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration
STACK = str(ROOT / "deploy" / "stack.sh")
#: the first stack (started by the `stack` fixture on its ports), only read here
FIRST_AM = f"http://127.0.0.1:{os.environ.get('IOC_ALERTMANAGER_PORT', '9193')}"
FIRST_PROMETHEUS = f"http://127.0.0.1:{os.environ.get('IOC_PROMETHEUS_PORT', '9190')}"
PROCESS_PORTS = ("IOC_METRICS_PORT", "IOC_DEMO_SIM_METRICS_PORT", "IOC_ALERTS_METRICS_PORT", "IOC_NOTIFY_METRICS_PORT",
                 "IOC_DASH_PORT")


def _json(url: str):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([STACK, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def second_stack(tmp_path):
    """The environment of the second stack: ours without any IOC_*, then its run folder and ports;
    its Alertmanager and Prometheus stopped at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env.update({"IOC_RUN_DIR": str(tmp_path / "run2"), "VENV": str(Path(sys.executable).parent.parent),
                **{name: str(free_port()) for name in (
                    "IOC_KAFKA_PORT", "IOC_KAFKA_CONTROLLER_PORT", "IOC_PG_PORT", "IOC_ALERTMANAGER_PORT",
                    "IOC_PROMETHEUS_PORT", "IOC_DEMO_RECEIVER_PORT", *PROCESS_PORTS)}})
    yield env
    for service in ("prometheus", "alertmanager"):
        stopped = _run(env, "stop", service)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _run(env, "status", "alertmanager").returncode == 3
    assert _run(env, "status", "prometheus").returncode == 3


def test_a_second_stack_talks_only_to_its_own_processes(stack, second_stack):
    env = second_stack
    # `deploy/stack.sh env` gives the settings of its processes: together with the ports, what `ioc demo` reads
    shown = _run(env, "env")
    assert shown.returncode == 0, shown.stderr
    exported = dict(line.removeprefix("export ").split("=", 1) for line in shown.stdout.splitlines()
                    if line.startswith("export "))
    assert exported == {"IOC_RUN_DIR": env["IOC_RUN_DIR"],
                        "IOC_KAFKA_BOOTSTRAP": f"127.0.0.1:{env['IOC_KAFKA_PORT']}",
                        "IOC_DATABASE_URL": f"postgresql://ioc@127.0.0.1:{env['IOC_PG_PORT']}/ioc",
                        "IOC_ALERTMANAGER_URL": f"http://127.0.0.1:{env['IOC_ALERTMANAGER_PORT']}"}
    settings = Settings(**{k[4:].lower(): v for k, v in {**env, **exported}.items()
                           if k.startswith("IOC_") and k[4:].lower() in Settings.model_fields})
    am = settings.alertmanager_url
    prom = f"http://127.0.0.1:{env['IOC_PROMETHEUS_PORT']}"
    webhooks = {r.address for r in oncall_of(settings).by_channel("webhook")}
    assert webhooks == {f"http://127.0.0.1:{env['IOC_DEMO_RECEIVER_PORT']}/ioc",
                        f"http://127.0.0.1:{env['IOC_DEMO_RECEIVER_PORT']}/ioc-drill"}

    worker_metrics = CollectorRegistry()
    Gauge("ioc_sink_up", "the second stack's worker", registry=worker_metrics).set(1)
    server, _ = start_http_server(settings.metrics_port, addr="127.0.0.1", registry=worker_metrics)
    with LocalReceiver(settings.demo_receiver_port) as receiver:
        try:
            for service in ("alertmanager", "prometheus"):
                started = _run(env, "start", service)
                assert started.returncode == 0, started.stdout + started.stderr

            # Prometheus scrapes exactly the ports of the second stack's settings, and alerts its Alertmanager
            targets = wait_for(lambda: (t := _json(f"{prom}/api/v1/targets")["data"]["activeTargets"]) and t,
                               timeout=30, interval=0.3, what="the second Prometheus to list its targets")
            scraped = {t["labels"]["job"]: urllib.parse.urlsplit(t["scrapeUrl"]).port for t in targets}
            assert scraped == {"ioc-worker": settings.metrics_port, "ioc-simulator": settings.demo_sim_metrics_port,
                               "ioc-alerts": settings.alerts_metrics_port, "ioc-notify": settings.notify_metrics_port,
                               "ioc-dash": settings.dash_port, "alertmanager": int(env["IOC_ALERTMANAGER_PORT"]),
                               "prometheus": int(env["IOC_PROMETHEUS_PORT"])}
            managers = _json(f"{prom}/api/v1/alertmanagers")["data"]["activeAlertmanagers"]
            assert [urllib.parse.urlsplit(m["url"]).port for m in managers] == [int(env["IOC_ALERTMANAGER_PORT"])]
            wait_for(lambda: _json(f"{prom}/api/v1/query?query=ioc_sink_up")["data"]["result"], timeout=60,
                     interval=0.5, what="the second Prometheus to scrape the second stack's worker")

            # its Alertmanager notifies its own receiver, and the first stack's Alertmanager hears nothing
            rule = f"second_stack_{uuid.uuid4().hex[:8]}"
            channel = AlertmanagerChannel(settings)
            channel.post_alerts(Receiver("alertmanager", "alertmanager", am), [
                channel.convert(build_payload({**alert_row(1, rule=rule, entity="eoffice"), "fired_at": utcnow()},
                                              "firing"))])
            ours = wait_for(lambda: [r for r in receiver.received()
                                     if r.json()["groupLabels"].get("alertname") == rule],
                            timeout=60, interval=0.2, what="the second receiver to hear of the alert")  # group_wait 10 s
            assert len(ours) == 1 and all(r.path == "/alertmanager" for r in receiver.received())
            first = _json(f"{FIRST_AM}/api/v2/alerts?" + urllib.parse.urlencode({"filter": f'alertname="{rule}"'}))
            assert first == []
            # and the first stack's Prometheus scrapes none of the second stack's ports
            first_targets = _json(f"{FIRST_PROMETHEUS}/api/v1/targets")["data"]["activeTargets"]
            assert not {urllib.parse.urlsplit(t["scrapeUrl"]).port for t in first_targets} & set(scraped.values())
        finally:
            server.shutdown()
            server.server_close()

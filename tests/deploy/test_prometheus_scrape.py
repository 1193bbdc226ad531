"""A real Prometheus scrapes a real worker and evaluates the pipeline's meta-alert rules.

The rules are deploy/prometheus/rules/pipeline.yml as shipped, except that IocWorkerDown waits
2 s instead of 2 min; scrape and evaluation run every second.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from datetime import datetime, timezone

import orjson
import pytest
import yaml

from simulators.kafka import KafkaSender
from tests.conftest import ROOT
from tests.deploy.support import Proc, env_of
from tests.support import free_port, wait_for

pytestmark = pytest.mark.integration
RULES = ROOT / "deploy" / "prometheus" / "rules" / "pipeline.yml"


def _api(base: str, path: str, **params: str):
    url = f"{base}/api/v1/{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=5) as resp:
        body = json.load(resp)
    assert body["status"] == "success", body
    return body["data"]


@pytest.fixture
def prometheus(tmp_path):
    """``start(targets)`` -> base URL of a Prometheus scraping ``ioc-worker`` at those ports."""
    if not shutil.which("prometheus"):
        pytest.fail("prometheus is not installed: run deploy/stack.sh start prometheus")
    procs: list[subprocess.Popen] = []

    def start(ports: list[int]) -> str:
        rules = yaml.safe_load(RULES.read_text())
        for group in rules["groups"]:
            for rule in group["rules"]:
                if rule.get("alert") == "IocWorkerDown":
                    rule["for"] = "2s"
        (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "900ms", "evaluation_interval": "1s"},
            "rule_files": [str(tmp_path / "rules.yml")],
            "scrape_configs": [{"job_name": "ioc-worker",
                                "static_configs": [{"targets": [f"127.0.0.1:{p}" for p in ports]}]}],
        }
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = open(tmp_path / "prometheus.log", "ab")
        procs.append(subprocess.Popen(
            ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT))
        base = f"http://127.0.0.1:{port}"

        def ready():
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as resp:
                    return resp.status == 200
            except OSError:
                return False

        wait_for(ready, timeout=30, interval=0.3, what="prometheus to be ready")
        return base

    yield start
    for p in procs:
        p.terminate()
        p.wait(timeout=20)


def test_prometheus_scrapes_the_worker_and_fires_worker_down(isolated, prometheus, tmp_path):
    settings = isolated()
    port = free_port()
    worker = Proc(["worker"], env_of(settings, IOC_METRICS_PORT=str(port)), tmp_path / "worker")
    try:
        base = prometheus([port])
        now = datetime.now(timezone.utc).isoformat()
        sender = KafkaSender(settings)
        for i in range(20):
            sender("health", "gis", orjson.dumps({"id": f"prom-{i}", "type": "ServiceProbe", "system": "gis",
                                                   "endpoint": "/", "dateObserved": now, "success": True,
                                                   "latency_ms": 12.5}))
        sender.close()

        def target_up():
            targets = _api(base, "targets")["activeTargets"]
            return [t for t in targets if t["labels"]["job"] == "ioc-worker" and t["health"] == "up"]

        wait_for(target_up, timeout=30, what="the worker target to be up")

        def events_scraped():
            result = _api(base, "query", query='sum(ioc_events_in_total{job="ioc-worker"})')["result"]
            return result and float(result[0]["value"][1]) >= 20 and result

        try:
            wait_for(events_scraped, timeout=45, what="ioc_events_in_total samples in Prometheus")
        except AssertionError:
            raise AssertionError(f"worker log:\n{worker.tail()}") from None
        # the recording rule the lag alert is built on evaluates over the real metric
        lag = wait_for(lambda: _api(base, "query", query="ioc:consumer_lag:by_topic")["result"], timeout=10,
                       what="ioc:consumer_lag:by_topic")
        assert {r["metric"]["topic"] for r in lag} == {f"{settings.topic_prefix}health"}
        assert _api(base, "alerts")["alerts"] == [] or all(
            a["labels"]["alertname"] != "IocWorkerDown" for a in _api(base, "alerts")["alerts"])
    finally:
        worker.stop()

    def worker_down_firing():
        alerts = [a for a in _api(base, "alerts")["alerts"] if a["labels"]["alertname"] == "IocWorkerDown"]
        return [a for a in alerts if a["state"] == "firing"]

    (alert,) = wait_for(worker_down_firing, timeout=30, what="IocWorkerDown to fire")
    assert alert["labels"]["instance"] == f"127.0.0.1:{port}"
    assert alert["labels"]["severity"] == "high"
    assert alert["annotations"]["runbook_url"] == "docs/operations.md#iocworkerdown"
    up = _api(base, "query", query='up{job="ioc-worker"}')["result"]
    assert up[0]["value"][1] == "0"

"""A real Prometheus scrapes a real worker and evaluates the pipeline's meta-alert rules.

The rules are deploy/prometheus/rules/pipeline.yml as shipped, except that IocWorkerDown waits
2 s instead of 2 min; scrape and evaluation run every second.
"""
from __future__ import annotations

import shutil
from datetime import datetime, timezone

import orjson
import pytest

from simulators.kafka import KafkaSender
from tests.conftest import ROOT
from tests.deploy.support import Proc, env_of
from tests.support import PrometheusProcess, free_port, wait_for

pytestmark = pytest.mark.integration
RULES = ROOT / "deploy" / "prometheus" / "rules" / "pipeline.yml"


@pytest.fixture
def prometheus(tmp_path):
    """``start(ports)`` -> a Prometheus scraping ``ioc-worker`` at those ports, IocWorkerDown waiting 2 s."""
    if not shutil.which("prometheus"):
        pytest.fail("prometheus is not installed: run deploy/stack.sh start prometheus")
    procs: list[PrometheusProcess] = []

    def start(ports: list[int]) -> PrometheusProcess:
        procs.append(PrometheusProcess(tmp_path / "prometheus", ports, rules=[RULES],
                                       rule_for={"IocWorkerDown": "2s"}))
        return procs[-1]

    yield start
    for p in procs:
        p.stop()


def test_prometheus_scrapes_the_worker_and_fires_worker_down(isolated, prometheus, tmp_path):
    settings = isolated()
    port = free_port()
    worker = Proc(["worker"], env_of(settings, IOC_METRICS_PORT=str(port)), tmp_path / "worker")
    try:
        prom = prometheus([port])
        now = datetime.now(timezone.utc).isoformat()
        sender = KafkaSender(settings)
        for i in range(20):
            sender("health", "gis", orjson.dumps({"id": f"prom-{i}", "type": "ServiceProbe", "system": "gis",
                                                   "endpoint": "/", "dateObserved": now, "success": True,
                                                   "latency_ms": 12.5}))
        sender.close()

        def target_up():
            targets = prom.api("targets")["activeTargets"]
            return [t for t in targets if t["labels"]["job"] == "ioc-worker" and t["health"] == "up"]

        wait_for(target_up, timeout=30, what="the worker target to be up")

        def events_scraped():
            result = prom.api("query", query='sum(ioc_events_in_total{job="ioc-worker"})')["result"]
            return result and float(result[0]["value"][1]) >= 20 and result

        try:
            wait_for(events_scraped, timeout=45, what="ioc_events_in_total samples in Prometheus")
        except AssertionError:
            raise AssertionError(f"worker log:\n{worker.tail()}") from None
        # the recording rule the lag alert is built on evaluates over the real metric
        lag = wait_for(lambda: prom.api("query", query="ioc:consumer_lag:by_topic")["result"], timeout=10,
                       what="ioc:consumer_lag:by_topic")
        assert {r["metric"]["topic"] for r in lag} == {f"{settings.topic_prefix}health"}
        assert prom.api("alerts")["alerts"] == [] or all(
            a["labels"]["alertname"] != "IocWorkerDown" for a in prom.api("alerts")["alerts"])
    finally:
        worker.stop()

    def worker_down_firing():
        alerts = [a for a in prom.api("alerts")["alerts"] if a["labels"]["alertname"] == "IocWorkerDown"]
        return [a for a in alerts if a["state"] == "firing"]

    (alert,) = wait_for(worker_down_firing, timeout=30, what="IocWorkerDown to fire")
    assert alert["labels"]["instance"] == f"127.0.0.1:{port}"
    assert alert["labels"]["severity"] == "high"
    assert alert["annotations"]["runbook_url"] == "docs/operations.md#iocworkerdown"
    up = prom.api("query", query='up{job="ioc-worker"}')["result"]
    assert up[0]["value"][1] == "0"

"""Prometheus and Alertmanager configuration: promtool and amtool checks, rule unit tests, runbooks."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.conftest import ROOT

PROM = ROOT / "deploy" / "prometheus"
OPERATIONS = ROOT / "docs" / "operations.md"
SEVERITIES = {"critical", "high", "medium", "low", "informational"}
#: the meta-alerts the issue asks for, by what they watch
REQUIRED = {"IocConsumerLagGrowing", "IocWorkerDown", "IocNoWorkerUp", "IocDeadLetterRate", "IocSinkErrors",
            "IocSinkDown", "IocDataStale", "IocNotifyBacklog", "IocSocLinkDown", "IocAlertEngineNotEvaluating",
            "IocWorkerAgentCrashing", "IocWallDown"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} is not installed: run deploy/stack.sh install")
    return path


def _run(*args, cwd=None) -> str:
    out = subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=60)
    assert out.returncode == 0, f"{' '.join(map(str, args))} failed:\n{out.stdout}\n{out.stderr}"
    return out.stdout + out.stderr


def _alerts() -> list[dict]:
    doc = yaml.safe_load((PROM / "rules" / "pipeline.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"] if "alert" in r]


def test_promtool_accepts_the_production_config_and_its_rules():
    out = _run(_tool("promtool"), "check", "config", "prometheus.yml", cwd=PROM)
    assert "rules/pipeline.yml" in out and "SUCCESS" in out


def test_promtool_accepts_the_local_stack_config(tmp_path):
    text = (PROM / "local.yml.in").read_text()
    ports = {"AM_PORT": "9193", "PROM_PORT": "9190", "WORKER_PORT": "9464", "SIM_PORT": "9465", "ALERTS_PORT": "9466",
             "NOTIFY_PORT": "9467", "DASH_PORT": "8050"}
    for key, value in {"RULES_DIR": str(PROM / "rules"), **ports}.items():
        text = text.replace(f"@{key}@", value)
    assert "@" not in text
    (tmp_path / "prometheus.yml").write_text(text)
    _run(_tool("promtool"), "check", "config", str(tmp_path / "prometheus.yml"))


def test_promtool_rules_check_and_unit_tests():
    promtool = _tool("promtool")
    _run(promtool, "check", "rules", str(PROM / "rules" / "pipeline.yml"))
    out = _run(promtool, "test", "rules", "tests/pipeline_test.yml", cwd=PROM)
    assert "SUCCESS" in out
    tested = set(re.findall(r"alertname: (\w+)", (PROM / "tests" / "pipeline_test.yml").read_text()))
    assert REQUIRED - {"IocSinkErrors"} <= tested  # every main alert has a unit test


def test_amtool_accepts_both_alertmanager_configs():
    amtool = _tool("amtool")
    for path in (ROOT / "deploy" / "alertmanager" / "alertmanager.yml", ROOT / "deploy" / "production" / "alertmanager.yml"):
        _run(amtool, "check-config", str(path))


def test_every_meta_alert_is_labelled_and_has_a_runbook_section():
    alerts = _alerts()
    names = {a["alert"] for a in alerts}
    assert REQUIRED <= names, REQUIRED - names
    text = OPERATIONS.read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", text, flags=re.M)}
    for a in alerts:
        assert a["labels"]["severity"] in SEVERITIES, a["alert"]
        assert a["labels"]["component"] == "pipeline", a["alert"]
        assert a["annotations"]["summary"], a["alert"]
        path, _, anchor = a["annotations"]["runbook_url"].partition("#")
        assert path == "docs/operations.md" and anchor in anchors, (a["alert"], anchor)


def test_meta_alerts_use_metrics_the_processes_expose():
    """A renamed metric must not leave a rule that silently never fires."""
    source = "".join(p.read_text() for p in [ROOT / "streams" / "core" / "metrics.py", ROOT / "streams" / "cli" / "alerts.py",
                                             ROOT / "ioc_dash" / "metrics.py"])
    exposed = set(re.findall(r'(?:Counter|Gauge|Histogram|GaugeMetricFamily)\(\s*"(ioc_\w+)"', source))
    doc = yaml.safe_load((PROM / "rules" / "pipeline.yml").read_text())
    used = {m for g in doc["groups"] for r in g["rules"] for m in re.findall(r"\b(ioc_[a-z_]+)", r["expr"])}
    for metric in used:
        base = re.sub(r"_(total|bucket|sum|count)$", "", metric)
        assert base in exposed, f"{metric} is not exposed by any IOC process"

import subprocess
import sys
import urllib.request

import pytest
import yaml

from streams.cli.main import main
from agents.alerting.notify.testing import LocalReceiver
from streams.core.settings import Settings
from tests.notify.conftest import insert_alert, queue
from tests.support import ROOT, free_port, settings_env, wait_for
from tests.notify.test_soc import finding


def test_check_lists_levels(capsys):
    assert main(["notify", "check"]) == 0
    out = capsys.readouterr().out
    assert "7 receivers, 3 levels" in out and "level 0 after 0:00:00: alertmanager (alertmanager)" in out
    assert "drill alerts: dien-tap-webhook (webhook); never the levels' receivers" in out


def test_check_refuses_a_drill_section_naming_an_unknown_receiver(tmp_path, capsys):
    bad = tmp_path / "oncall.yaml"
    bad.write_text("receivers: {x: {channel: webhook, url: 'http://127.0.0.1:1/x'}}\nlevels: [{receivers: [x]}]\n"
                   "drill: {receivers: [dien-tap]}\n")
    assert main(["notify", "check", "--oncall-file", str(bad)]) == 1
    assert "drill.receivers: unknown receivers ['dien-tap']; defined: x" in capsys.readouterr().err


def test_check_reports_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "oncall.yaml"
    bad.write_text("receivers: {x: {channel: pager}}\nlevels: [{receivers: [x]}]\n")
    assert main(["notify", "check", "--oncall-file", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"ConfigError: {bad}: receivers.x: 'channel' must be one of alertmanager, webhook, email, " \
                  "telegram, zalo, zalo-oa, got 'pager'"


@pytest.mark.integration
def test_notify_run_delivers_and_exposes_metrics(notify_dsn, ndb, tmp_path):
    """``ioc notify run`` as a process: outbox rows to a webhook, a finding to the SOC, /metrics."""
    with LocalReceiver() as hook, LocalReceiver() as soc:
        oncall = tmp_path / "oncall.yaml"
        oncall.write_text(yaml.safe_dump({"receivers": {"hook": {"channel": "webhook", "url": hook.url("/ioc")}},
                                          "levels": [{"receivers": ["hook"]}]}))
        port = free_port()
        settings = Settings(database_url=notify_dsn, oncall_file=oncall, notify_metrics_port=port, metrics_port=0,
                            soc_mode="webhook", soc_url=soc.url("/soc"), notify_poll_s=0.1)
        queue(ndb, insert_alert(ndb), "webhook", "hook", n=3)
        finding(ndb, "10.2.2.2")
        proc = subprocess.Popen([sys.executable, "-m", "streams.cli.main", "notify", "run"], env=settings_env(settings),
                                cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            hook.wait_for(3)
            soc.wait_for(1)

            def scrape():
                try:
                    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read().decode()
                except OSError:
                    return None
                return text if "ioc_soc_link_up 1.0" in text else None

            text = wait_for(scrape, timeout=15, what="notify metrics")
            assert 'ioc_notify_sent_total{channel="webhook"} 3.0' in text
            assert "ioc_soc_forwarded_total 1.0" in text
        finally:
            proc.terminate()
            out = proc.communicate(timeout=30)[0].decode()
        assert proc.returncode == 0, out

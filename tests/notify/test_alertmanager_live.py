"""Against the real Alertmanager: the one ``deploy/stack.sh start`` runs, and a private one the
stack script starts in a temporary run folder to prove the route reaches the webhook."""
from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agents.alerting.payload import build_payload
from agents.alerting.notify.channels import AlertmanagerChannel
from streams.core.clock import utcnow
from agents.alerting.notify.dispatcher import Dispatcher
from agents.alerting.notify.oncall import Receiver, parse_oncall
from agents.alerting.notify.testing import LocalReceiver
from streams.core.settings import Settings
from tests.notify.conftest import alert_row, insert_alert, queue
from tests.support import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
AM_URL = f"http://127.0.0.1:{os.environ.get('IOC_ALERTMANAGER_PORT', '9193')}"


def am_alerts(base: str, rule: str) -> list[dict]:
    query = urllib.parse.urlencode({"filter": f'alertname="{rule}"'})
    with urllib.request.urlopen(f"{base}/api/v2/alerts?{query}", timeout=5) as resp:
        return json.load(resp)


def end_alerts(base: str, alerts: list[dict]) -> None:
    """Resolve what a test left in the shared Alertmanager."""
    now = datetime.now(timezone.utc).isoformat()
    AlertmanagerChannel(Settings()).post_alerts(Receiver("am", "alertmanager", base),
                                                [{**a, "endsAt": now} for a in alerts])


def test_config_passes_amtool_check(stack):
    out = subprocess.run(["amtool", "check-config", str(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout
    assert subprocess.run(["promtool", "--version"], capture_output=True).returncode == 0


def test_dispatcher_posts_and_alertmanager_holds_the_alert(stack, notify_dsn, ndb):
    rule = f"test_am_{uuid.uuid4().hex[:8]}"
    settings = Settings(alert_page_url="http://127.0.0.1:8050/alerts/{id}", alertmanager_end_margin_s=240)
    oncall = parse_oncall({"receivers": {"am": {"channel": "alertmanager"}}, "levels": [{"receivers": ["am"]}]},
                          alertmanager_url=AM_URL)
    d = Dispatcher(notify_dsn, oncall, {"alertmanager": AlertmanagerChannel(settings)})
    fired = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=2)
    a1 = insert_alert(ndb, rule=rule, entity="eoffice", fired_at=fired)
    a2 = insert_alert(ndb, rule=rule, entity="dvc", fired_at=fired)
    queue(ndb, a1, "alertmanager", "am")
    queue(ndb, a2, "alertmanager", "am")
    started = time.monotonic()
    assert d.run_once().sent == 2
    posted = time.monotonic() - started
    try:
        got = {a["labels"]["entity"]: a for a in am_alerts(AM_URL, rule)}
        assert set(got) == {"eoffice", "dvc"}
        a = got["eoffice"]
        assert a["labels"] == {"alertname": rule, "entity": "eoffice", "severity": "critical", "team": "noc",
                               "unit_code": "91"}
        assert a["annotations"]["summary"] == "eoffice: mức sẵn sàng 82% (ngưỡng 90%)"
        assert a["annotations"]["alert_id"] == str(a1["id"])
        assert a["generatorURL"] == f"http://127.0.0.1:8050/alerts/{a1['id']}"
        assert datetime.fromisoformat(a["startsAt"].replace("Z", "+00:00")) == fired
        ends = datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00"))
        assert timedelta(minutes=3) < ends - datetime.now(timezone.utc) <= timedelta(minutes=4)
        assert a["status"]["state"] == "active"
        assert posted < 2

        # resolved: Alertmanager takes the end time and drops the alert from the active list
        resolved = ndb.execute("UPDATE alert SET state = 'resolved', resolved_at = now() WHERE id = %s RETURNING *",
                               (a1["id"],)).fetchone()
        queue(ndb, resolved, "alertmanager", "am", event="resolved")
        assert d.run_once().sent == 1
        assert {a["labels"]["entity"] for a in am_alerts(AM_URL, rule)} == {"dvc"}

        # the periodic re-send carries what is firing and what resolved lately
        assert d.resend_alertmanager() == 2
        assert {a["labels"]["entity"] for a in am_alerts(AM_URL, rule)} == {"dvc"}
    finally:
        end_alerts(AM_URL, [AlertmanagerChannel(settings).convert(build_payload(r, "firing")) for r in (a1, a2)])


def test_bad_alert_is_rejected_not_retried(stack):
    ch = AlertmanagerChannel(Settings())
    bad = ch.convert(build_payload(alert_row(rule="x"), "firing"))
    bad["labels"] = {}
    from streams.core.errors import NotifyError

    with pytest.raises(NotifyError) as err:
        ch.post_alerts(Receiver("am", "alertmanager", AM_URL), [bad])
    assert err.value.retryable is False and "HTTP 400" in str(err.value)


def run_stack(cmd: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / "deploy" / "stack.sh"), cmd, "alertmanager"], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_stack_alertmanager_routes_grouped_alerts_to_the_webhook(stack, tmp_path):
    """A private Alertmanager (own run folder, port, webhook URL) started and stopped by stack.sh."""
    with LocalReceiver() as hook:
        env = {"IOC_RUN_DIR": str(tmp_path / "run"), "IOC_ALERTMANAGER_PORT": str(free_port()),
               "IOC_ALERTMANAGER_WEBHOOK_URL": hook.url("/alertmanager?x=1&y=2")}
        base = f"http://127.0.0.1:{env['IOC_ALERTMANAGER_PORT']}"
        started = run_stack("start", env)
        try:
            assert started.returncode == 0, started.stdout + started.stderr
            again = run_stack("start", env)
            assert again.returncode == 0 and "already running" in again.stdout
            assert run_stack("status", env).returncode == 0
            rendered = (tmp_path / "run" / "alertmanager" / "alertmanager.yml").read_text()
            assert f"'{hook.url('/alertmanager?x=1&y=2')}'" in rendered
            ch = AlertmanagerChannel(Settings())
            rows = [alert_row(1, rule="r_one", entity="eoffice"), alert_row(2, rule="r_one", entity="dvc"),
                    alert_row(3, rule="r_two", entity="eoffice", severity="high")]
            ch.post_alerts(Receiver("am", "alertmanager", base),
                           [ch.convert(build_payload({**r, "fired_at": utcnow()}, "firing")) for r in rows])
            got = hook.wait_for(3, timeout=30)  # group_wait 10 s
            groups = sorted((r.json()["groupLabels"]["alertname"], r.json()["groupLabels"]["entity"]) for r in got)
            assert groups == [("r_one", "dvc"), ("r_one", "eoffice"), ("r_two", "eoffice")]
            assert all(r.path == "/alertmanager?x=1&y=2" and r.json()["status"] == "firing" for r in got)
        finally:
            stopped = run_stack("stop", env)
        assert stopped.returncode == 0 and "alertmanager stopped" in stopped.stdout
        assert run_stack("status", env).returncode == 3

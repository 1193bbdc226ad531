"""``/metrics`` of the wall: requests, callback latency, snapshot age and sessions, in one process
(``ioc dash``) and added up over gunicorn's worker processes."""
from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from ioc_dash import metrics
from ioc_dash.app import create_app
from ioc_dash.metrics import request_kind
from ioc_dash.repository import Snapshot
from streams.core.errors import ConfigError, SinkUnavailable
from streams.core.settings import Settings
from tests.ioc_dash.conftest import dash_call, wall_client
from tests.support import ROOT, free_port, settings_env, wait_for


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_requests_are_counted_by_a_few_kinds():
    assert [request_kind(p) for p in ("/", "/console/alerts", "/_dash-update-component", "/_dash-layout",
                                      "/assets/wall.css", "/_dash-component-suites/dash/x.js", "/login", "/metrics")] \
        == ["page", "page", "callback", "layout", "asset", "asset", "login", "metrics"]


def test_a_scrape_answers_without_sessions_when_the_database_is_down():
    def unavailable() -> dict[str, int]:
        raise SinkUnavailable("user store unavailable: connection refused")

    server = Flask(__name__)
    found = metrics.DashMetrics()
    metrics.install(server, Settings(), found, sessions=unavailable)
    read = metrics.timed(lambda: "snapshot", found)
    assert read() == "snapshot"
    client = server.test_client()
    text = client.get("/metrics").get_data(as_text=True)
    assert "ioc_dash_sessions" not in text
    assert 0 <= value(samples(text), "ioc_dash_snapshot_age_seconds") < 60
    assert client.get("/nowhere").status_code == 404
    assert value(samples(client.get("/metrics").get_data(as_text=True)), "ioc_dash_requests_total",
                 kind="page", code="404") == 1


def test_a_multiprocess_folder_without_gunicorn_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="IOC_DASH_MULTIPROC_DIR"):
        metrics.install(Flask(__name__), Settings(dash_multiproc_dir=tmp_path), metrics.DashMetrics())


@pytest.mark.integration
def test_metrics_need_no_sign_in_and_count_requests_callbacks_snapshots_and_sessions(test_settings):
    app = create_app(test_settings, read_snapshot=lambda: Snapshot(datetime.now(timezone.utc)))
    anonymous = app.server.test_client()
    assert anonymous.get("/").status_code == 302  # pages still need a session
    first = anonymous.get("/metrics")
    assert first.status_code == 200 and first.content_type.startswith("text/plain")
    found = samples(first.get_data(as_text=True))
    assert value(found, "ioc_dash_requests_total", kind="page", code="302") == 1
    assert ("ioc_dash_snapshot_age_seconds", ()) not in found  # nothing read yet

    screen = wall_client(app, test_settings)
    reply = dash_call(screen, app, "..banner.children...clock.children..", {"lang.data": "vi"})
    assert reply.status_code == 200
    found = samples(anonymous.get("/metrics").get_data(as_text=True))
    assert value(found, "ioc_dash_requests_total", kind="callback", code="200") == 1
    assert value(found, "ioc_dash_callback_seconds_count") == 1
    assert value(found, "ioc_dash_callback_seconds_sum") > 0
    assert 0 <= value(found, "ioc_dash_snapshot_age_seconds") < 60
    assert value(found, "ioc_dash_snapshot_timestamp_seconds") <= time.time()
    assert value(found, "ioc_dash_sessions", kind="wall") >= 1  # this screen, seen just now
    assert value(found, "ioc_dash_sessions", kind="console") >= 0
    assert value(found, "ioc_dash_requests_total", kind="metrics", code="200") == 1


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except HTTPError as exc:
        return exc.code, ""
    except URLError:  # not listening yet
        return 0, ""


@pytest.mark.integration
def test_gunicorn_workers_add_up_their_metrics(test_settings, tmp_path):
    port = free_port()
    env = settings_env(test_settings, IOC_DASH_SESSION_KEY=uuid.uuid4().hex * 2,
                       IOC_DASH_MULTIPROC_DIR=str(tmp_path / "metrics"))
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "python:ioc_dash.gunicorn_conf",
                                 "--bind", f"127.0.0.1:{port}", "--workers", "3", "ioc_dash.wsgi:server"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: proc.poll() is not None or _get(f"{base}/login")[0] == 200, timeout=90, interval=0.3,
                 what="gunicorn to serve /login")
        assert proc.poll() is None, log.read_text()
        for _ in range(29):
            assert _get(f"{base}/login")[0] == 200
        # every scrape, whichever process answers, counts the requests of all of them
        for _ in range(6):
            text = _get(f"{base}/metrics")[1]
            assert value(samples(text), "ioc_dash_requests_total", kind="login", code="200") == 30, text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert "Traceback" not in log.read_text()

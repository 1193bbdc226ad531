"""The production web server's access log keeps no wall token and no acknowledge link: gunicorn with
the shipped config (ioc_dash/gunicorn_conf.py, used by the compose file and the systemd unit) serving
the real app."""
from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import HTTPRedirectHandler, Request, build_opener

import pytest

from agents.alerting.notify.acklinks import make_token
from ioc_dash.auth.store import UserStore
from tests.support import ROOT, free_port, settings_env, wait_for

pytestmark = pytest.mark.integration


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url: str, referer: str | None = None) -> int:
    request = Request(url, headers={"Referer": referer} if referer else {})
    try:
        return build_opener(_NoRedirect).open(request, timeout=10).status
    except HTTPError as exc:
        return exc.code
    except URLError:  # not listening yet
        return 0


def test_the_access_log_names_paths_without_tokens(test_settings, tmp_path):
    for where in ("deploy/production/compose.yaml", "deploy/systemd/ioc-dash.service"):
        assert "python:ioc_dash.gunicorn_conf" in (ROOT / where).read_text(), where
    token = UserStore(test_settings.dsn).create_wall_token(f"wall-{uuid.uuid4().hex[:8]}", actor="tests")
    ack_token = make_token(b"x" * 40, 1, "truc-ca", "a@kiengiang.gov.vn", now=datetime.now(timezone.utc), ttl_s=600)
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = settings_env(test_settings, IOC_DASH_SESSION_KEY=uuid.uuid4().hex * 2)
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", "python:ioc_dash.gunicorn_conf",
                                 "--bind", f"127.0.0.1:{port}", "--workers", "1", "ioc_dash.wsgi:server"],
                                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: proc.poll() is not None or _get(f"{base}/login") == 200, timeout=60, interval=0.3,
                 what="gunicorn to serve /login")
        assert proc.poll() is None, log.read_text()
        assert _get(f"{base}/wall?token={token}", referer=f"{base}/wall?token={token}") == 302  # signed in
        assert _get(f"{base}/login?token={token}&next=/") == 200
        assert _get(f"{base}/ack/{ack_token}") == 400  # not signed with this stack's key, but a token all the same
        text = wait_for(lambda: (t := log.read_text()).count('"GET /') >= 4 and t, timeout=10, what="access log lines")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [line for line in text.splitlines() if '"GET /' in line]
    assert any('"GET /wall HTTP/1.1" 302' in line for line in lines), lines
    assert token not in log.read_text()
    assert "token=" not in log.read_text()
    assert any('"GET /ack/… HTTP/1.1" 400' in line for line in lines), lines
    assert ack_token not in log.read_text()

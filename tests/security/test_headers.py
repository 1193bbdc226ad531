"""Security headers on every response of the dashboard: the login page, a wall page, a Dash callback,
a static asset and a refusal."""
from __future__ import annotations

import pytest
from pydantic import SecretStr

from ioc_dash import headers
from ioc_dash.app import create_app
from tests.ioc_dash.wall_support import call, wall_client

pytestmark = pytest.mark.integration


def test_the_policy_is_strict():
    p = dict(d.split(" ", 1) for d in headers.policy(["'sha256-abc='"]).split("; "))
    assert p["default-src"] == "'none'" and p["script-src"] == "'self' 'sha256-abc='"
    assert "unsafe-inline" not in p["script-src"] and "unsafe-eval" not in p["script-src"]
    assert p["object-src"] == "'none'" and p["base-uri"] == "'none'" and p["frame-ancestors"] == "'none'"
    assert p["connect-src"] == "'self'" and p["form-action"] == "'self'"


@pytest.fixture(scope="module")
def app(test_settings, tmp_path_factory):
    settings = test_settings.model_copy(update={"dash_session_key": SecretStr("c" * 40),
                                                "run_dir": tmp_path_factory.mktemp("headers")})
    return create_app(settings), settings


def _check(resp, app_) -> None:
    csp = resp.headers.get("Content-Security-Policy", "")
    assert csp == headers.policy(app_.csp_hashes()), csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "same-origin"


def test_every_kind_of_response_has_them(app):
    app_, settings = app
    client = app_.server.test_client()
    _check(client.get("/login"), app_)
    _check(client.get("/systems"), app_)  # not signed in: the redirect to /login
    _check(client.post("/_dash-update-component", json={}), app_)  # 401
    _check(client.get("/assets/wall.css"), app_)
    signed = wall_client(app_, settings)
    page = signed.get("/systems?lang=vi")
    assert page.status_code == 200
    _check(page, app_)
    # the inline scripts of the page are exactly the ones the policy allows by hash
    html = page.get_data(as_text=True)
    assert "window.dash_clientside" in html and "new DashRenderer" in html
    resp = signed.post("/_dash-update-component", json={
        "output": "..banner.children...clock.children..",
        "outputs": [{"id": "banner", "property": "children"}, {"id": "clock", "property": "children"}],
        "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
        "state": [{"id": "lang", "property": "data", "value": "vi"}], "changedPropIds": ["tick.n_intervals"]})
    assert resp.status_code == 200 and resp.is_json
    _check(resp, app_)
    assert call(signed, app_, "banner.children") is not None

"""The read API through a real ``ioc dash`` and a real HTTP client: tokens, figures, errors, the rate
limit, the OpenAPI description."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import psycopg
import pytest
from openapi_spec_validator import validate

from ioc_dash.auth.store import UserStore
from streams.cli.main import main
from streams.core.geography import load_province
from tests.ioc_dash.browser import running_dash

RATE = 8


def get(base: str, path: str, token: str | None = None) -> tuple[int, dict, dict]:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read())


@pytest.fixture(scope="module")
def server(test_settings, tmp_path_factory):
    with running_dash(test_settings, tmp_path_factory, IOC_DASH_SESSION_KEY="a" * 40,
                      IOC_API_RATE_PER_MIN=str(RATE)) as dash:
        yield dash


@pytest.fixture()
def token(test_settings):
    name = f"ndxp-{uuid.uuid4().hex[:6]}"
    store = UserStore(test_settings.dsn)
    yield name, store.create_api_token(name, actor="tests")
    store.close()


def test_the_description_is_valid_openapi_and_needs_no_token(server):
    status, headers, doc = get(server.base, "/api/v1/openapi.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    validate(doc)
    assert set(doc["paths"]) == {"/indicators", "/sla", "/reports/{kind}/{period}", "/openapi.json"}


def test_figures_with_a_token(server, token, test_settings):
    _, secret = token
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO security_day (day, entity, type, severity, layer, events, blocked) VALUES "
                     "('2019-03-05', 'api-test', 'WafBlock', 'high', 2, 77, 70)")
    status, _, body = get(server.base, "/api/v1/reports/day/2019-03-05", secret)
    assert status == 200, body
    assert body["period"] == {"kind": "day", "label": "2019-03-05", "first_day": "2019-03-05",
                              "last_day": "2019-03-05", "timezone": "Asia/Ho_Chi_Minh"}
    assert body["security"]["events"] == 77
    assert body["security"]["by_layer"] == [{"layer": 2, "events": 77, "blocked": 70}]
    systems = [s.code for s in load_province(test_settings.province_file).systems]
    assert [s["system"] for s in body["services"]] == systems
    assert all(s["verdict"] == "no_data" and s["minutes_no_data"] == 1440 for s in body["services"])

    status, _, body = get(server.base, "/api/v1/sla?month=2019-03", secret)
    assert status == 200 and body["month"] == "2019-03" and len(body["systems"]) == len(systems)
    assert body["systems"][0]["minutes"] == 31 * 1440

    status, _, body = get(server.base, "/api/v1/indicators?prefix=health.", secret)
    assert status == 200 and body["indicators"] and all(k.startswith("health.") for k in body["indicators"])
    assert set(systems) <= set(body["indicators"]["health.down"])  # every system of the province, at least


def test_refused_without_a_good_token_and_bad_input_is_400(server, token, test_settings, capsys):
    name, secret = token
    for sent in (None, "not-a-token"):
        status, headers, body = get(server.base, "/api/v1/indicators", sent)
        assert status == 401 and "WWW-Authenticate" in headers and body["error"]
    status, _, body = get(server.base, "/api/v1/sla?month=2026-13", secret)
    assert status == 400 and body == {"error": "month: '2026-13' is not a month (YYYY-MM)"}
    status, _, body = get(server.base, "/api/v1/reports/year/2026", secret)
    assert status == 400 and body == {"error": "report kind 'year': one of day, week, month"}
    assert main(["users", "api-token", "revoke", "--name", name, "--database-url", test_settings.dsn]) == 0
    status, _, body = get(server.base, "/api/v1/sla", secret)
    assert status == 401 and body == {"error": "unknown or revoked token"}
    assert main(["users", "api-token", "list", "--database-url", test_settings.dsn]) == 0
    assert f"{name}" in capsys.readouterr().out


def test_a_token_is_rate_limited_others_are_not(server, test_settings):
    store = UserStore(test_settings.dsn)
    busy, calm = (store.create_api_token(f"rate-{uuid.uuid4().hex[:6]}", actor="tests") for _ in range(2))
    store.close()
    statuses = [get(server.base, "/api/v1/openapi.json")[0]] + \
        [get(server.base, "/api/v1/sla?month=2019-01", busy)[0] for _ in range(RATE + 2)]
    assert statuses == [200] * (RATE + 1) + [429, 429]
    status, headers, body = get(server.base, "/api/v1/sla?month=2019-01", busy)
    assert status == 429 and 1 <= int(headers["Retry-After"]) <= 60 and f"more than {RATE} requests" in body["error"]
    assert get(server.base, "/api/v1/sla?month=2019-01", calm)[0] == 200

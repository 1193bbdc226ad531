"""The wall and the console in headless Chromium, against a real ``ioc dash`` and a real worker.

Screenshots of every page visited go to ``.run/screenshots/``.  The rate-limit test comes last:
it leaves 127.0.0.1 locked out of sign-in for the rest of the window.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import orjson
import psycopg
import pytest
from pydantic import SecretStr
from selenium.common.exceptions import WebDriverException

from ioc_dash.auth.store import UserStore
from streams.db.scratch import scratch_database
from agents.alerting.store import AlertStore
from tests.conftest import ADMIN_DSN
from tests.ioc_dash.browser import Browser, DashServer, running_dash
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD

pytestmark = pytest.mark.integration
DASH_ENV = {"IOC_DASH_SESSION_KEY": "b" * 40, "IOC_DASH_REFRESH_S": "1", "IOC_DASH_LOGIN_MAX_FAILURES": "3"}


@pytest.fixture(scope="module")
def people(test_settings):
    store = UserStore(test_settings.dsn, FAST_PASSWORDS)
    names = {role: f"{role}-{uuid.uuid4().hex[:6]}" for role in ("viewer", "operator", "admin")}
    for role, name in names.items():
        store.add_user(name, role, PASSWORD, actor="tests")
    yield names
    store.close()


@pytest.fixture(scope="module")
def server(test_settings, worker, tmp_path_factory):
    with running_dash(test_settings, tmp_path_factory, **DASH_ENV) as dash:
        yield dash


@pytest.fixture(scope="module")
def browser():
    b = Browser("browser")
    yield b
    b.close()


def _probe(system: str) -> bytes:
    now = datetime.now(timezone.utc)
    return orjson.dumps({"id": f"browser-{uuid.uuid4().hex}", "type": "ServiceProbe", "system": system,
                         "endpoint": "/", "dateObserved": now.isoformat(), "success": True, "latency_ms": 42.0,
                         "status_code": 200})


def test_sign_in_then_live_values_appear(server, browser, people, producer):
    browser.get(f"{server.base}/systems?lang=vi")
    browser.wait(lambda: "/login?next=/systems" in browser.driver.current_url, what="the sign-in page")
    browser.shot("login")
    browser.login(server.base, people["operator"], PASSWORD)
    browser.wait(lambda: browser.driver.current_url.rstrip("/") == server.base, what="the overview after sign-in")
    browser.get(f"{server.base}/systems")
    row = "//tr[contains(@id, '\"system\":\"gis\"') and contains(@id, 'system-row')]"
    browser.wait(lambda: browser.xpath_text(row), what="the systems table")

    def fresh() -> bool:  # probes sent now show as data from a few seconds ago
        producer("health", "gis", _probe("gis"))
        producer.flush()
        return browser.xpath_text(row + "/td[last()]") in {f"{n} giây trước" for n in range(6)}

    browser.wait(fresh, timeout=40, what="gis probes to reach the wall")
    browser.shot("systems-live")
    assert "Không có dữ liệu" not in browser.xpath_text(row)


def test_acknowledge_then_see_it_in_the_list_and_the_history(server, browser, people, firing):
    entity = f"it-browser-{uuid.uuid4().hex[:6]}"
    alert_id = firing(entity)
    browser.get(f"{server.base}/console/alerts")
    browser.wait_text(entity, "#console-alerts")
    assert "ngừng <b>hoạt động</b>" in browser.text(f"#alert-row-{alert_id}")  # event text shown as text
    browser.shot("alerts")
    browser.find(f"#alert-link-{alert_id}").click()
    browser.wait(lambda: browser.all("#console-ack"), what="the acknowledge button")
    browser.find("#console-comment").send_keys("đang xử lý")
    browser.find("#console-ack").click()
    browser.wait_text("Đã ghi", "#console-action-result")
    history = browser.wait_text("Tiếp nhận", "#alert-history")
    assert people["operator"] in history and "ghi chú: đang xử lý" in history
    browser.shot("alert-acknowledged")
    browser.get(f"{server.base}/console/alerts")
    browser.wait_text(people["operator"], f"#alert-row-{alert_id} .ack-cell")
    browser.shot("alerts-acknowledged")


def test_switch_language(server, browser):
    browser.get(f"{server.base}/console/alerts")
    browser.wait_text("Đăng nhập:", "#console-user")
    browser.find("#lang-en").click()
    browser.wait_text("Signed in:", "#console-user")
    assert browser.text(".console h1") == "Alerts" and "lang=en" in browser.driver.current_url
    browser.shot("alerts-en")
    browser.get(f"{server.base}/console/alerts")  # the choice is kept in a cookie
    browser.wait_text("Signed in:", "#console-user")
    browser.find("#lang-vi").click()
    browser.wait_text("Đăng nhập:", "#console-user")


def test_a_viewer_has_no_button_and_the_server_refuses_the_callback(server, browser, people, test_settings,
                                                                    firing):
    alert_id = firing(f"it-viewer-{uuid.uuid4().hex[:6]}")
    browser.login(server.base, people["viewer"], PASSWORD)
    browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
    browser.get(f"{server.base}/console/alert?id={alert_id}")
    browser.wait(lambda: browser.all("#console-read-only") and browser.all("#alert-card"), what="the alert")
    assert not browser.all("#console-ack")
    browser.shot("viewer-alert")
    body = {"output": "..console-action-result.children...console-alert-version.data..",
            "outputs": [{"id": "console-action-result", "property": "children"},
                        {"id": "console-alert-version", "property": "data"}],
            "inputs": [{"id": "console-ack", "property": "n_clicks", "value": 1}],
            "state": [{"id": "console-alert-loc", "property": "search", "value": f"?id={alert_id}"}],
            "changedPropIds": ["console-ack.n_clicks"]}
    status = browser.driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch('/_dash-update-component', {method: 'POST', headers: {'Content-Type': 'application/json'},"
        " body: JSON.stringify(arguments[0])}).then(r => done(r.status), e => done(String(e)));", body)
    assert status == 403
    alert = AlertStore(test_settings.dsn).fetch("SELECT acknowledged_by FROM alert WHERE id = %s", (alert_id,))[0]
    assert alert["acknowledged_by"] is None


def test_admin_pages(server, browser, people, tmp_path):
    browser.login(server.base, people["admin"], PASSWORD)
    browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
    browser.get(f"{server.base}/console/drills")
    browser.wait(lambda: browser.all("#console-start-drill"), timeout=30, what="the drill page")
    browser.find("#console-drill").click()
    browser.wait_text("dvc-ddos (5 min) — DDoS on the public-service portal")  # the open list
    browser.shot("drills")
    browser.get(f"{server.base}/console/users")
    browser.wait_text(people["operator"], "#console-users-table")
    browser.shot("users")
    # the audit trails: the days already filled in (the last 30), one click downloads the file
    browser.driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    browser.driver.execute_script("document.querySelector('#console-exports').scrollIntoView()")
    browser.shot("users-exports")
    browser.find("#export-signins").click()
    files = browser.wait(lambda: [f for f in tmp_path.glob("sign-ins-*.csv")], timeout=30, what="the download")
    text = browser.wait(lambda: files[0].read_bytes().decode("utf-8-sig"), what="the file written")
    assert text.startswith("id,at,username,address,outcome,user_agent\r\n") and f",{people['admin']},127.0.0.1,ok," in text


def test_a_wall_token_views_without_signing_in(server, browser, test_settings):
    token = UserStore(test_settings.dsn).create_wall_token(f"wall-{uuid.uuid4().hex[:6]}", actor="tests")
    browser.clean_slate()
    browser.get(f"{server.base}/wall?token={token}&lang=vi")
    browser.wait(lambda: browser.all("#page > *"), what="the wall")
    assert "token=" not in browser.driver.current_url and "/login" not in browser.driver.current_url
    browser.shot("wall")
    assert token not in server.log_path.read_text(errors="replace")  # nor in the access log
    browser.get(f"{server.base}/systems")  # the cookie keeps the screen signed in
    browser.wait(lambda: browser.all("#status-table"), what="the systems page")
    assert not browser.all("#console-logout")


@pytest.fixture
def stale_db(test_settings):
    """A second database that only a fake worker writes to: its heartbeat stops when we say."""
    name = f"{test_settings.dsn.rsplit('/', 1)[1]}_stale"
    with scratch_database(ADMIN_DSN, name) as dsn:
        yield test_settings.model_copy(update={"database_url": SecretStr(dsn)})


def _beat(dsn: str, stop: threading.Event) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.is_set():
            conn.execute("INSERT INTO worker_heartbeat (worker, started_at, last_seen) VALUES ('w1', now(), now()) "
                         "ON CONFLICT (worker) DO UPDATE SET last_seen = now()")
            conn.execute("INSERT INTO source_window (time, source, received, accepted, last_event, last_arrival) "
                         "VALUES (date_trunc('minute', now()), 'health', 1, 1, now(), now()) "
                         "ON CONFLICT (source, time) DO UPDATE SET last_arrival = now(), last_event = now()")
            stop.wait(0.5)


def test_the_stale_banner_when_the_worker_stops(browser, stale_db, tmp_path):
    stop = threading.Event()
    beating = threading.Thread(target=_beat, args=(stale_db.dsn, stop), daemon=True)
    beating.start()
    token = UserStore(stale_db.dsn).create_wall_token("wall-stale", actor="tests")
    dash = DashServer(stale_db, tmp_path / "dash.log", IOC_RUN_DIR=str(tmp_path), IOC_STALE_AFTER_S="4",
                      **DASH_ENV)
    try:
        browser.clean_slate()
        browser.get(f"{dash.base}/?token={token}&lang=vi")
        browser.wait(lambda: browser.all(".clock-time"), what="the wall with its clock")
        assert "Dữ liệu cũ" not in browser.text("#banner")
        browser.shot("fresh")
        stop.set()  # the worker stops
        browser.wait_text("bộ xử lý luồng đã dừng", "#banner", timeout=20)
        assert "Dữ liệu cũ từ" in browser.text("#banner")
        browser.shot("stale")
    finally:
        stop.set()
        dash.stop()


def test_a_drill_started_from_the_console_shows_on_the_wall_and_is_scored(server, browser, people, test_settings):
    """On a fresh install (no recording): start a drill from the console, see the run and the
    DIỄN TẬP banner on a wall page, an alert of its target tagged, stop it, read its after-action page."""
    from tests.ioc_dash.conftest import alert_maker

    store = AlertStore(test_settings.dsn)
    admin = people["admin"]
    browser.login(server.base, admin, PASSWORD)
    browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
    browser.get(f"{server.base}/console/drills")
    browser.wait(lambda: browser.all("#console-no-recordings"), timeout=30, what="the drill page without recordings")

    def open_list():  # the router may render the page twice (path, then query): click what is there now
        try:
            browser.find("#console-drill").click()
        except WebDriverException:
            return False
        return True
    browser.wait(open_list, timeout=30, what="the list of drills")
    browser.wait_text("lgsp-ndxp-outage (6 min)")
    browser.driver.execute_script(  # the innermost element that says it: the dropdown's option
        "const all = [...document.querySelectorAll('#console-drill *, [role=option], [role=listbox] *')]"
        ".filter(e => (e.innerText || '').includes(arguments[0])); all[all.length - 1].click();",
        "lgsp-ndxp-outage (6 min)")
    browser.find("#console-start-drill").click()
    browser.wait_text("drill lgsp-ndxp-outage · đang chạy", "#console-job-msg", timeout=30)

    def the_run():
        rows = store.fetch("SELECT * FROM drill_run WHERE started_by = %s", (admin,))
        return rows[0] if rows else None
    run = browser.wait(the_run, timeout=60, what="the drill run registered")
    assert run["scenario"] == "lgsp-ndxp-outage" and run["status"] == "running" and run["targets"] == ["ndxp", "lgsp"]
    # the test alert's first round is a second in the past: after the drill's start
    browser.wait(lambda: datetime.now(timezone.utc) - run["started_at"] > timedelta(seconds=2), what="the drill")
    with alert_maker(test_settings) as make:
        alert_id = make("ndxp")  # raised for a target while the drill runs: the drill's
        assert store.fetch("SELECT drill FROM alert WHERE id = %s", (alert_id,))[0]["drill"] == "lgsp-ndxp-outage"
        store.acknowledge(alert_id, admin, "diễn tập")
        browser.get(f"{server.base}/?lang=vi")
        banner = browser.wait_text("DIỄN TẬP", "#drill-banner", timeout=30)
        assert "lgsp-ndxp-outage" in banner and "còn " in banner
        browser.wait_text("diễn tập lgsp-ndxp-outage", "#alert-list", timeout=30)
        browser.shot("drill-banner")
        browser.get(f"{server.base}/systems?lang=en")  # every wall page
        assert "lgsp-ndxp-outage" in browser.wait_text("DRILL", "#drill-banner", timeout=30)

        browser.get(f"{server.base}/console/drills?lang=vi")
        browser.wait(lambda: browser.all("#console-stop"), timeout=30, what="the drill page")
        browser.find("#console-stop").click()
        browser.wait(lambda: store.fetch("SELECT status FROM drill_run WHERE id = %s", (run["id"],))[0]["status"]
                     == "stopped", timeout=60, what="the run closed as stopped")
        browser.get(f"{server.base}/console/drills/runs?lang=vi")
        browser.wait(lambda: browser.all(f"#drill-run-link-{run['id']}"), timeout=30, what="the run in the list")
        browser.find(f"#drill-run-link-{run['id']}").click()
        score = browser.wait_text("Phát hiện 0/1", "#drill-score", timeout=30)
        assert "bỏ lỡ" in score and "ngoài cam kết" in score  # the promises missed, the test alert unexpected
        timeline = browser.text("#drill-timeline")
        assert f"#{alert_id} console_test ndxp · {admin}" in timeline and "acknowledged" in timeline
        browser.shot("drill-after-action")
        csv_text = browser.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.text()).then(done, e => done(String(e)));",
            f"/console/drills/run.csv?id={run['id']}")
        assert csv_text.lstrip("\ufeff").startswith(f"drill_run,{run['id']},lgsp-ndxp-outage")
        assert "system_unavailable,ndxp,yes,,,,,,,missed" in csv_text


def test_a_screen_whose_session_ends_goes_to_the_sign_in_page(server, browser, people, test_settings):
    browser.login(server.base, people["operator"], PASSWORD)
    browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
    browser.get(f"{server.base}/console/alerts?lang=en")
    browser.wait(lambda: browser.all("#console-alerts"), what="the alert list")
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:  # revoked (or expired) on the server
        conn.execute("DELETE FROM user_session WHERE user_id = (SELECT id FROM users WHERE name = %s)",
                     (people["operator"],))
    # within the session cache (5 s) and the next refresh: not a page that silently stops updating
    browser.wait(lambda: "/login" in browser.driver.current_url, timeout=30, what="the sign-in page")
    assert "Your session ended" in browser.wait_text("session", "#login-message")
    browser.shot("session-ended")
    browser.find("#login-name").send_keys(people["operator"])
    browser.find("#login-password").send_keys(PASSWORD)
    browser.find("#login-submit").click()
    browser.wait(lambda: "/console/alerts" in browser.driver.current_url, what="back where the screen was")
    browser.wait(lambda: browser.all("#console-alerts"), what="the alert list again")


def test_sign_in_is_rate_limited(server, browser, people, test_settings):
    browser.clean_slate()
    for _ in range(3):  # IOC_DASH_LOGIN_MAX_FAILURES=3 for this server
        browser.login(server.base, people["viewer"], "not the password")
        browser.wait_text("Sai tên người dùng hoặc mật khẩu", "#login-message")
    browser.login(server.base, people["viewer"], PASSWORD)  # even the right password waits now
    browser.wait_text("Quá nhiều lần đăng nhập sai", "#login-message")
    browser.shot("rate-limited")
    outcomes = [a["outcome"] for a in UserStore(test_settings.dsn).attempts(10) if a["username"] == people["viewer"]]
    assert outcomes[0] == "rate_limited"
    log = server.log_path.read_text(errors="replace")
    assert "sign-in refused by the rate limit" in log
    assert PASSWORD not in log and "not the password" not in log and DASH_ENV["IOC_DASH_SESSION_KEY"] not in log

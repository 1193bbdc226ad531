"""Markup in event text is shown as text on every wall page and in the console, never run.

One data load: the rows the worker and the alert engine would write (security findings, failed
sign-ins per source, citizen reports, the layer-4 link, worker heartbeats, alerts with their
entity, summary, comments and assignee, sign-in attempts, a recording's file name) whose free
text is markup.  One headless Chromium opens every wall page and every console page (signed in as
an admin) and checks that ``window.__pwned`` stays undefined, that no injected element exists,
and that the text is on the page as the characters it is.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.types.json import Jsonb
from pydantic import SecretStr

from ioc_dash.app import create_app
from ioc_dash.auth.store import UserStore
from ioc_dash.pages import WALL_PAGES
from agents.alerting.store import AlertStore
from tests.ioc_dash import screens
from tests.ioc_dash.browser import Browser
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD, delete_fired, fire_alert

pytestmark = pytest.mark.integration

IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = "<script>window.__pwned=1</script>"
SVG = '"><svg onload=window.__pwned=1>'
LINK = "javascript:window.__pwned=1"
VI = "Sở Thông tin và Truyền thông — Rạch Giá"
RUN = uuid.uuid4().hex[:6]


def hostile(tag: str) -> str:
    """One field's text: a tag to find it by, every kind of markup, and Vietnamese."""
    return f"{tag}-{RUN} {IMG} {SCRIPT} {SVG} <a href=\"{LINK}\">{VI}</a>"


#: nothing the page itself makes matches these; an injected element would
INJECTED = 'img[src="x"], svg[onload], [onerror], [onload], a[href^="javascript:" i], iframe, object, embed'
CHECK_JS = """
const found = Array.from(document.querySelectorAll(arguments[0]))
  .concat(Array.from(document.scripts).filter(s => s.textContent.includes('__pwned')));
return {pwned: typeof window.__pwned !== 'undefined', injected: found.map(e => e.outerHTML.slice(0, 120)),
        text: document.body.innerText};
"""


@pytest.fixture(scope="module")
def data(test_settings, tmp_path_factory):
    now = datetime.now(timezone.utc)
    minute = now.replace(second=0, microsecond=0)
    texts = {k: hostile(k) for k in ("entity", "comment", "assignee", "subject", "target", "detail", "src",
                                      "category", "agency", "report", "link", "linkerr", "worker", "attempt")}
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:
        conn.execute("""INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold,
                                                      detail, first_seen, last_seen)
                        VALUES (%s, 'brute_force', %s, %s, 'critical', 3, 99, 10, %s, %s, %s)""",
                     (minute, texts["subject"], texts["target"], texts["detail"], now, now))
        conn.execute("""INSERT INTO auth_failure_window (time, src_ip, target, failures, last_event)
                        VALUES (%s, %s, %s, 1000000, %s)""", (minute, texts["src"], texts["target"], now))
        conn.execute("""INSERT INTO citizen_report (report_id, category, unit_code, lon, lat, agency, deadline,
                                                    reported_at, status)
                        VALUES (%s, %s, '899', 105.1, 10.0, %s, %s, %s, 'new')""",
                     (texts["report"], texts["category"], texts["agency"], now - timedelta(days=1),
                      now - timedelta(days=2)))
        conn.execute("""INSERT INTO soc_link (link, target, up, failures, last_attempt_at, last_error)
                        VALUES (%s, %s, false, 3, %s, %s)""", (texts["link"], texts["link"], now, texts["linkerr"]))
        conn.execute("INSERT INTO worker_heartbeat (worker, started_at, last_seen, info) VALUES (%s, %s, %s, %s)",
                     (texts["worker"], now, now, Jsonb({"host": texts["worker"]})))
    alert_id = fire_alert(test_settings, texts["entity"])
    store = AlertStore(test_settings.dsn)
    store.comment(alert_id, "tests", texts["comment"])
    store.assign(alert_id, "tests", texts["assignee"])
    users = UserStore(test_settings.dsn, FAST_PASSWORDS)
    admin = f"admin-hostile-{RUN}"
    users.add_user(admin, "admin", PASSWORD, actor="tests")
    try:
        users.login(texts["attempt"], "not the password", address=texts["attempt"])
    except Exception:  # a wrong sign-in: recorded, and shown on /console/users
        pass
    replay_dir = tmp_path_factory.mktemp("hostile-recordings")
    (replay_dir / f"{IMG} {VI}.jsonl.gz").write_bytes(b"")
    yield {"texts": texts, "alert_id": alert_id, "admin": admin, "replay_dir": replay_dir}
    users.close()
    with psycopg.connect(test_settings.dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM security_finding WHERE subject = %s", (texts["subject"],))
        conn.execute("DELETE FROM auth_failure_window WHERE src_ip = %s", (texts["src"],))
        conn.execute("DELETE FROM citizen_report WHERE report_id = %s", (texts["report"],))
        conn.execute("DELETE FROM soc_link WHERE link = %s", (texts["link"],))
        conn.execute("DELETE FROM worker_heartbeat WHERE worker = %s", (texts["worker"],))
    delete_fired(test_settings.dsn, [texts["entity"]])


@pytest.fixture(scope="module")
def site(test_settings, data, tmp_path_factory):
    settings = test_settings.model_copy(update={"dash_session_key": SecretStr("h" * 40),
                                                "run_dir": tmp_path_factory.mktemp("hostile"),
                                                "replay_dir": data["replay_dir"]})
    app = create_app(settings)
    browser = Browser("hostile")
    with screens.serve(app) as base:
        browser.login(base, data["admin"], PASSWORD)
        browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
        yield base, browser
    browser.close()


def _look(browser) -> dict:
    return browser.driver.execute_script(CHECK_JS, INJECTED)


def _safe(browser, where: str) -> str:
    seen = _look(browser)
    assert not seen["pwned"], f"{where}: injected script ran"
    assert not seen["injected"], f"{where}: injected elements {seen['injected']}"
    return seen["text"]


def _shown(text: str, field: str) -> bool:
    """The field's whole text on the page, character for character."""
    return hostile(field) in text


#: what each wall page shows of the data (the rest of its text is numbers and figures)
WALL_FIELDS = {
    "overview": ("entity",),
    "security": ("subject", "target", "src"),
    "sources": ("worker",),
    "systems": (),
    "map": (),
    "border": (),
    "environment": (),
    "services": ("agency",),
}


@pytest.mark.parametrize("page", WALL_PAGES, ids=[p.KEY for p in WALL_PAGES])
def test_wall_pages(site, page):
    base, browser = site
    browser.get(f"{base}{page.PATH}?lang=vi")
    browser.wait(lambda: browser.driver.execute_script(screens.READY_JS), what=f"the {page.KEY} page")
    text = _safe(browser, page.PATH)
    missing = [f for f in WALL_FIELDS.get(page.KEY, ()) if not _shown(text, f)]
    assert not missing, f"{page.PATH} does not show {missing} as text"
    if page.KEY == "map":  # hover labels: in the figure's data as plain text (plotly draws them as SVG text)
        labels = browser.driver.execute_script(
            "const g = document.querySelector('#map-graph .js-plotly-plot'); return JSON.stringify(g ? g.data : []);")
        assert f"category-{RUN}" in labels, "the citizen report is not on the map"
    browser.shot(page.KEY)


def test_rotation(site):
    base, browser = site
    browser.get(f"{base}/wall?kiosk=1&playlist=security,overview&every=30&lang=vi")
    browser.wait(lambda: browser.driver.execute_script(screens.READY_JS), what="the rotation")
    _safe(browser, "/wall")


def test_console_alerts(site, data):
    base, browser = site
    browser.get(f"{base}/console/alerts")
    row = f"#alert-row-{data['alert_id']}"
    browser.wait(lambda: browser.all(row), what="the hostile alert's row")
    text = _safe(browser, "/console/alerts")
    for field in ("entity", "assignee"):
        assert _shown(browser.text(row), field), field
    # the summary, with the rule's own markup as text too
    assert f"{hostile('entity')} ngừng <b>hoạt động</b>" in text
    browser.find("#console-f-text input, input#console-f-text").send_keys(f"{SCRIPT}\n")  # a search of markup
    browser.wait(lambda: "console-alerts-empty" in browser.driver.page_source or browser.all(row),
                 what="the search")
    _safe(browser, "/console/alerts searched")


def test_console_alert_page(site, data):
    base, browser = site
    browser.get(f"{base}/console/alert?id={data['alert_id']}")
    browser.wait(lambda: browser.all("#alert-history") and browser.all("#alert-card"), what="the alert page")
    text = _safe(browser, "/console/alert")
    for field in ("entity", "assignee", "comment"):
        assert _shown(text, field), field
    browser.find("#console-comment").send_keys(hostile("typed"))  # typed by an operator, then shown
    browser.find("#console-comment-btn").click()
    browser.wait_text(f"typed-{RUN}", "#alert-history")
    assert _shown(_safe(browser, "/console/alert after a comment"), "typed")


def test_console_users_and_drills(site, data):
    base, browser = site
    browser.get(f"{base}/console/users")
    browser.wait(lambda: browser.all("#console-signins-table"), what="the users page")
    assert hostile("attempt").lower()[:64] in _safe(browser, "/console/users")  # the user name tried, as typed
    browser.get(f"{base}/console/drills")
    browser.wait(lambda: browser.all("#console-recording"), timeout=30, what="the drills page")
    browser.find("#console-recording").click()
    browser.wait_text(f"{VI}.jsonl.gz")
    assert f"{IMG} {VI}.jsonl.gz" in _safe(browser, "/console/drills")

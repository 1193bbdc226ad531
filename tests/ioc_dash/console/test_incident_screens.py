"""The incident page and the handover page in Chromium at 1920×1080, with a night's incident: the data
centre on battery, the LGSP and the public-service portal down under it.  The pictures go to
.run/screenshots/console/ (incident-1920x1080.png, handover-1920x1080.png); the test checks
that each page is drawn whole, fits the screen's width and has no browser error.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from agents.alerting.evaluate import Topology, evaluate
from agents.alerting.handoverstore import HandoverStore
from agents.alerting.incidentstore import IncidentStore
from agents.alerting.rules import parse_rule
from agents.alerting.store import AlertStore
from ioc_dash.app import create_app
from ioc_dash.auth.roles import Principal
from ioc_dash.auth.store import UserStore
from ioc_dash.auth.tokens import new_token, session_hash, session_key
from ioc_dash.auth.web import SESSION_COOKIE
from tests.ioc_dash import screens
from tests.ioc_dash.phone import OUT
from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD
from tests.ioc_dash.test_screenshots import png_size

RUN = uuid.uuid4().hex[:6]
POWER = parse_rule({"name": f"shot_power_{RUN}", "indicator": "health.availability", "condition": "below",
                    "fire": 0.5, "clear": 0.9, "severity": "critical",
                    "summary": {"vi": "{place}: mất điện lưới, đang chạy bằng UPS",
                                "en": "{place}: mains power lost, running on UPS"}}, "test")
DOWN = parse_rule({"name": f"shot_down_{RUN}", "indicator": "health.availability", "condition": "below",
                   "fire": 0.5, "clear": 0.9, "severity": "high",
                   "summary": {"vi": "{place} không truy cập được", "en": "{place} unreachable"}}, "test")
RULES = {r.name: r for r in (POWER, DOWN)}
DC, LGSP, DVC = f"datacenter-{RUN}", f"lgsp-{RUN}", f"dvc-{RUN}"
NAMES = {DC: "Trung tâm dữ liệu tỉnh", LGSP: "Nền tảng LGSP", DVC: "Cổng dịch vụ công tỉnh"}
#: what is cut: a panel or cell whose content is wider than it shows, or a page wider than the screen
CLIPPED_JS = """
const out = [];
for (const el of document.querySelectorAll('.console .panel')) {
  if (el.scrollWidth > el.clientWidth + 1) out.push(el.id || el.className);
}
if (document.documentElement.scrollWidth > window.innerWidth) out.push('page wider than the screen');
return out;
"""


@pytest.fixture
def night(test_settings, db):
    """The incident, notes and acknowledgements an operator leaves, and two handovers."""
    alerts = AlertStore(test_settings.dsn, names=NAMES)
    topology = Topology({LGSP: DC, DVC: DC})
    t0 = datetime.now(timezone.utc) - timedelta(minutes=95)
    for minutes, rule, entity in ((0, POWER, DC), (3, DOWN, LGSP), (4, DOWN, DVC)):
        at = t0 + timedelta(minutes=minutes)
        states, transitions = evaluate([rule], {"health.availability": {entity: 0.1}}, alerts.load_states(), at)
        alerts.apply_round(RULES, states, transitions, at, topology=topology)
    ids = {a["entity"]: a["id"] for a in alerts.alerts(limit=10_000) if a["rule"] in RULES}
    users = UserStore(test_settings.dsn, FAST_PASSWORDS)
    names = {k: f"{k}-{RUN}" for k in ("binh", "an")}
    user_ids = {k: users.add_user(name, "operator", PASSWORD, actor="tests")["id"] for k, name in names.items()}
    users.close()
    alerts.acknowledge(ids[DC], names["binh"], "Đã báo Điện lực Kiên Giang")
    incidents = IncidentStore(test_settings.dsn)
    incident = incidents.incident_of(ids[DC])["id"]
    incidents.take(incident, names["binh"])
    incidents.note(incident, names["binh"], "UPS còn khoảng 40 phút; đã yêu cầu chạy máy phát dự phòng.")
    incidents.note(incident, names["binh"], "LGSP và Cổng dịch vụ công ngừng theo Trung tâm dữ liệu; chưa cần "
                                            "báo nhà cung cấp.")
    handovers = HandoverStore(test_settings.dsn)
    earlier = handovers.write(names["an"], names["binh"], "Ca ngày yên ổn; camera Hà Tiên 02 đã thay nguồn.",
                              {"incidents": [], "alerts": []})
    handovers.acknowledge(earlier["id"], names["binh"])
    latest = handovers.write(names["binh"], names["an"],
                             "Sự cố mất điện Trung tâm dữ liệu đang xử lý: theo dõi máy phát, khi có điện lưới thì "
                             "kiểm tra LGSP và Cổng dịch vụ công.", incidents.shift_state())
    yield incident, names, Principal(names["an"], "operator", "user", user_ids["an"])
    db.execute("DELETE FROM shift_handover WHERE id = ANY(%s)", ([earlier["id"], latest["id"]],))
    db.execute("DELETE FROM incident WHERE id = %s", (incident,))
    db.execute("DELETE FROM alert WHERE rule = ANY(%s)", (list(RULES),))
    db.execute("DELETE FROM alert_rule_state WHERE rule = ANY(%s)", (list(RULES),))


def test_incident_and_handover_pages_at_1920x1080(test_settings, night, tmp_path):
    if screens.CHROMIUM is None or screens.CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are not installed: run deploy/browser.sh (make test does)")
    incident, names, an = night
    settings = test_settings.model_copy(update={"dash_session_key": SecretStr("s" * 40), "run_dir": tmp_path})
    # a session made in the database, not a password sign-in: those count against 127.0.0.1's sign-in
    # limit, which every browser test of the run shares
    token = new_token()
    store = UserStore(settings.dsn)
    store.start_session(an, session_hash(session_key(settings), token), idle_s=3600)
    store.close()
    app = create_app(settings)
    with screens.serve(app) as base, screens.Screens() as shots:
        d = shots.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        d.get(f"{base}/login?lang=vi")
        d.add_cookie({"name": SESSION_COOKIE, "value": token, "path": "/"})
        wait = WebDriverWait(d, 30, poll_frequency=0.2)

        def read(css):  # in one step by the page: Dash may replace the element between two WebDriver calls
            return d.execute_script("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                                    css)

        def shoot(path, ready_css, name):
            d.get(f"{base}{path}")
            wait.until(lambda _: d.find_elements(By.CSS_SELECTOR, ready_css)
                       and not d.find_elements(By.CSS_SELECTOR, '[data-dash-is-loading="true"]'))
            out = OUT / f"{name}-1920x1080.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            d.save_screenshot(str(out))
            assert png_size(out) == (1920, 1080)
            assert d.execute_script(CLIPPED_JS) == []
            assert not shots.errors()

        shoot(f"/console/incident?id={incident}", "#incident-timeline-table", "incident")
        body = read("#incident-card") + read("#incident-timeline-table")
        assert "Trung tâm dữ liệu tỉnh" in body and names["binh"] in body and "máy phát dự phòng" in body
        assert "Cổng dịch vụ công tỉnh" in read("#incident-alerts-table")
        d.find_element(By.ID, "incident-take").click()  # the buttons work in a real browser too
        wait.until(lambda _: "Đã ghi: Nhận phụ trách" in read("#incident-action-result"))
        wait.until(lambda _: names["an"] in read("#incident-card"))

        shoot("/console/handover", "#handover-items", "handover")
        log = read("#handover-items")
        assert "Chưa nhận ca" in log and f"{names['an']} đã nhận ca" not in log and "đã nhận ca lúc" in log
        assert f"Sự cố #{incident}" in d.find_element(By.ID, "handover-notes").get_attribute("value")
        d.find_element(By.CSS_SELECTOR, "button[id*='handover-ack']").click()  # an is the incoming operator
        wait.until(lambda _: f"{names['an']} đã nhận ca" in read("#handover-items"))
        assert not d.find_elements(By.CSS_SELECTOR, "button[id*='handover-ack']")

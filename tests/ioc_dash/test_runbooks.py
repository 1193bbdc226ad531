"""``/runbooks``: every alert's runbook in Vietnamese and English, served behind the sign-in and linked
from the console, the notifications and Alertmanager; readable on a phone."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.alerting.notify.alertmanager import RUNBOOK_DOC, runbook_url
from agents.alerting.notify.messages import email_message, telegram_text
from agents.alerting.payload import build_payload
from ioc_dash.app import create_app
from ioc_dash.runbooks import Runbooks
from tests.ioc_dash import screens
from tests.ioc_dash.conftest import PASSWORD, client_for, login
from tests.notify.conftest import alert_row

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / ".run" / "screenshots" / "wall"


def rule_anchors() -> dict[str, str]:
    out = {}
    for path in sorted((ROOT / "deploy" / "rules").glob("*.yaml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            assert rule["runbook"].startswith(RUNBOOK_DOC), rule["name"]
            out[rule["name"]] = rule["runbook"][len(RUNBOOK_DOC):]
    return out


def test_every_rule_has_its_section_in_both_languages():
    books = Runbooks(ROOT / "docs")
    vi_body, vi_ids = books.page("vi")
    en_body, en_ids = books.page("en")
    assert set(vi_ids) == set(en_ids) and len(vi_ids) == len(set(vi_ids))
    missing = {name: anchor for name, anchor in rule_anchors().items() if anchor not in en_ids}
    assert missing == {}
    assert 'id="register-onsite-gone"' in vi_body and "cảnh báo" in vi_body
    assert "<table>" in en_body


def test_links_lead_to_the_section_on_the_alerts_site():
    template = "https://ioc.kiengiang.gov.vn/ioc/alerts/{id}"
    assert runbook_url("docs/runbooks.md#system-unavailable", template) == \
        "https://ioc.kiengiang.gov.vn/ioc/runbooks?lang=vi#system-unavailable"
    assert runbook_url("docs/runbooks.md#x", "http://10.0.0.5:8050/a?id={id}", "en") == \
        "http://10.0.0.5:8050/runbooks?lang=en#x"
    assert runbook_url("https://wiki.example/ioc/x", template) == "https://wiki.example/ioc/x"
    payload = build_payload(alert_row(7, runbook="docs/runbooks.md#system-unavailable"), "firing")
    for text in (telegram_text(payload, template), email_message(payload, template)[1]):
        assert "Hướng dẫn xử lý: https://ioc.kiengiang.gov.vn/ioc/runbooks?lang=vi#system-unavailable" in text


def test_served_behind_the_sign_in_in_either_language(web_settings, users, uniq):
    app = create_app(web_settings)
    anonymous = client_for(app)
    assert anonymous.get("/runbooks").status_code == 302
    name = uniq("viewer")
    users.add_user(name, "viewer", PASSWORD, actor="tests")
    client = client_for(app)
    assert login(client, name).status_code == 302
    vi = client.get("/runbooks?lang=vi")
    assert vi.status_code == 200 and vi.mimetype == "text/html"
    page = vi.get_data(as_text=True)
    assert '<html lang="vi">' in page and 'id="system-unavailable"' in page and "width=device-width" in page
    en = client.get("/runbooks?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en and 'id="system-unavailable"' in en and "Alert runbooks" in en


def test_a_runbook_section_on_a_phone(web_settings, users, uniq):
    """Signed in with a token, as a screen (a password sign-in from 127.0.0.1 would count against the
    address's sign-in limit, shared by every browser test of the run)."""
    if screens.CHROMIUM is None or screens.CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are not installed: run deploy/browser.sh (make test does)")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    token = users.create_wall_token(uniq("phone"), actor="tests")
    app = create_app(web_settings)
    with screens.serve(app) as base, screens.Screens() as shots:
        d = shots.driver
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 412, "height": 915, "deviceScaleFactor": 1, "mobile": True})
        d.get(f"{base}/wall?token={token}")
        WebDriverWait(d, 20).until(lambda drv: "token=" not in drv.current_url)
        d.get(f"{base}/runbooks?lang=vi#register-inspection-overdue")
        WebDriverWait(d, 20).until(lambda drv: drv.find_elements(By.ID, "register-inspection-overdue"))
        section = d.find_element(By.ID, "register-inspection-overdue")
        assert d.execute_script("return arguments[0].getBoundingClientRect().top", section) < 200  # scrolled to it
        assert d.execute_script("return document.documentElement.scrollWidth") <= 412  # no sideways scrolling
        size = d.execute_script("return parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 16
        OUT.mkdir(parents=True, exist_ok=True)
        d.save_screenshot(str(OUT / "runbook-phone-412x915.png"))

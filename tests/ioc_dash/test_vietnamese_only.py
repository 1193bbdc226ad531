"""No English on a Vietnamese page: every word a wall or console page shows in Vietnamese mode comes
from the Vietnamese catalogue or is data (names, codes of the province file, numbers, times).

"English" is every word the English catalogue uses that the Vietnamese one never does (so "Camera",
"IOC" or "LGSP", which both use, are allowed), and every internal code written with underscores
(a rule name like ``camera_offline``).  The pages are drawn in Chromium with open alerts of the
shipped rules and the sample security register, and their visible text is read."""
from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from agents.alerting.evaluate import evaluate
from agents.alerting.rules import load_rules
from agents.alerting.store import AlertStore
from ioc_dash.app import create_app
from ioc_dash.auth.store import UserStore
from ioc_dash.pages import WALL_PAGES
from streams.core.geography import load_province
from tests.ioc_dash import screens
from tests.ioc_dash.conftest import delete_fired

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[A-Za-zÀ-ỹ][A-Za-zÀ-ỹ'’]+")
CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
#: words both languages write the same way, or that the catalogues use only in English by chance
SHARED = {"id", "ip", "url", "csv", "xlsx", "pdf", "api", "qr", "sms"}


def catalogue_words() -> tuple[set[str], set[str]]:
    vi, en = set(), set()
    for path in sorted((ROOT / "ioc_dash" / "locale").glob("*.yaml")):
        for entry in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).values():
            if isinstance(entry, dict):
                vi.update(w.lower() for w in WORD.findall(str(entry.get("vi", ""))))
                en.update(w.lower() for w in WORD.findall(str(entry.get("en", ""))))
    return vi, en


def english_words() -> set[str]:
    vi, en = catalogue_words()
    province = load_province(ROOT / "simulators" / "data" / "kien_giang.yaml")
    data = {w.lower() for name in province.names().values() for w in WORD.findall(name)}
    return {w for w in en - vi - data - SHARED if len(w) >= 2}


def leaks(text: str, english: set[str]) -> list[str]:
    words = {w for w in WORD.findall(text) if w.lower() in english}
    return sorted(words | set(CODE.findall(text)))


def test_every_shipped_rule_has_a_title_in_both_languages():
    from ioc_dash.i18n import STRINGS

    names = [r.name for r in load_rules(sorted((ROOT / "deploy" / "rules").glob("*.yaml")))]
    assert [n for n in names if not {"vi", "en"} <= set(STRINGS.get(f"rule_{n}", {}))] == []


def test_the_check_finds_english_and_codes():
    english = english_words()
    assert {"online", "acknowledged"} <= english and "camera" not in english
    assert leaks("Mất kết nối 0 · online · camera_offline", english) == ["camera_offline", "offline", "online"]
    assert leaks("Camera Đường biên Phú Mỹ – 2 mất kết nối", english) == []


@pytest.fixture(scope="module")
def vi_settings(test_settings):
    """A database of this module's own: the pages show what it seeds, not what other tests left."""
    from streams.db.scratch import scratch_database
    from tests.conftest import ADMIN_DSN

    with scratch_database(ADMIN_DSN, f"ioc_test_vi_{uuid.uuid4().hex[:8]}") as dsn:
        yield test_settings.model_copy(update={"database_url": SecretStr(dsn)})


@pytest.fixture(scope="module")
def alerts_open(vi_settings):
    """Open alerts of the shipped rules, made the way the engine makes them, and the sample register."""
    from streams.cli.register import seed_sample

    test_settings = vi_settings
    seed_sample(test_settings)
    rules = {r.name: r for r in load_rules(sorted((ROOT / "deploy" / "rules").glob("*.yaml")))}
    store = AlertStore(test_settings.dsn, names=load_province(test_settings.province_file).names())
    values = {"health.down": {"dvc": 1.0}, "camera.offline": {"cam-phumy-02": 1.0},
              "security.auth_failures": {"203.0.113.9": 45.0}, "register.test_real_data": {"gis": 1.0}}
    picked = [r for r in rules.values() if r.indicator in values]
    now = datetime.now(timezone.utc)
    for at in (now - timedelta(minutes=10), now):
        states, transitions = evaluate(picked, values, store.load_states(), at)
        store.apply_round({r.name: r for r in picked}, states, transitions, at)
    yield next(a["id"] for a in store.alerts() if a["entity"] == "dvc")
    delete_fired(test_settings.dsn, [e for v in values.values() for e in v])


@pytest.fixture(scope="module")
def browser(vi_settings, alerts_open):
    test_settings = vi_settings
    if screens.CHROMIUM is None or screens.CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are not installed: run deploy/browser.sh (make test does)")
    app = create_app(test_settings)
    store = UserStore(test_settings.dsn)
    token = store.create_wall_token(f"wall-vi-{uuid.uuid4().hex[:8]}", actor="test")
    store.close()
    with screens.serve(app) as base, screens.Screens() as shots:
        shots.open(f"{base}/?token={token}", (1920, 1080))
        yield base, shots, alerts_open


@pytest.mark.parametrize("page", WALL_PAGES, ids=[p.KEY for p in WALL_PAGES])
def test_a_vietnamese_wall_page_shows_no_english(browser, page):
    base, shots, _ = browser
    shots.open(f"{base}{page.PATH}?lang=vi", (1920, 1080))
    text = shots.driver.execute_script("return document.body.innerText")
    found = leaks(text, english_words())
    assert found == [], f"{page.PATH}: English or codes on the Vietnamese page: {found}"


@pytest.mark.parametrize("path", ["/console/alerts", "/console/alert?id={alert}", "/console/drills/runs",
                                  "/console/quiet", "/console/register", "/console/incidents",
                                  "/console/incident?id={incident}", "/console/handover"])
def test_a_vietnamese_console_page_shows_no_english(browser, vi_settings, path):
    from selenium.webdriver.support.ui import WebDriverWait

    from agents.alerting.incidentstore import IncidentStore

    base, shots, alert_id = browser
    if "{incident}" in path:  # the incident the critical alert of dvc opened
        path = path.format(incident=IncidentStore(vi_settings.dsn).incident_of(alert_id)["id"])
    path = path.format(alert=alert_id)
    shots.driver.get(f"{base}{path}{'&' if '?' in path else '?'}lang=vi")
    seen: list[str] = []

    def settled(d) -> bool:
        """The console is drawn, Dash is idle and the text is what it was at the last look (callbacks
        that fill a page after its layout have run)."""
        text = d.execute_script("return document.querySelector('.console') && "
                                "!document.querySelector('[data-dash-is-loading=\"true\"]') ? document.body.innerText : ''")
        seen.append(text)
        return bool(text) and len(seen) > 1 and seen[-2] == text

    WebDriverWait(shots.driver, 30, poll_frequency=0.5).until(settled)
    text = seen[-1]
    found = leaks(text, english_words())
    assert found == [], f"{path}: English or codes on the Vietnamese page: {found}"

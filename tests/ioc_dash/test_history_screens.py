"""History on the wall in Chromium at 1920×1080, over 40 days of rollups seeded in a database of its own
(``bench.history``'s seed): each page with a range bar, over 30 days and live; one system's history;
the console's link from an alert to its entity's history.  Screenshots in .run/screenshots/history/.

Checked: the page draws, nothing under 20 px, nothing cut or below the screen, no browser error, the
chosen range marked and kept in the URL, the chart saying its resolution.
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from agents.indicators.history import around
from bench.history import seed, seed_params
from ioc_dash.app import create_app
from ioc_dash.console.views import alert_card
from ioc_dash.i18n import t
from ioc_dash.pages.history import PAGES
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.geography import load_province
from streams.core.topics import FEEDS
from streams.db.scratch import scratch_database
from tests.conftest import ADMIN_DSN
from tests.ioc_dash import screens
from tests.support import ROOT

OUT = ROOT / ".run" / "screenshots" / "history"
#: the history view is drawn when its heading and its charts are there and Dash is idle
ENTITY_READY_JS = """return !!document.querySelector('#hist-entity') && !!document.querySelector('#hist-entity').textContent
  && document.querySelectorAll('#page-history .main-svg').length > 0
  && !document.querySelector('[data-dash-is-loading="true"]');"""


@pytest.fixture(scope="module")
def browser(test_settings):
    province = load_province(test_settings.province_file)
    now = utcnow()
    last = now.replace(minute=0, second=0, microsecond=0)
    with scratch_database(ADMIN_DSN, f"ioc_test_history_{uuid.uuid4().hex[:8]}") as dsn:
        seed(dsn, seed_params(province, list(FEEDS), last - timedelta(days=40), last), last - timedelta(hours=2),
             log=lambda *_: None)
        settings = test_settings.model_copy(update={"database_url": SecretStr(dsn)})
        app = create_app(settings)
        with screens.serve(app) as base, screens.Screens() as shots:
            if "ioc_auth" in app.server.extensions:
                from ioc_dash.auth.store import UserStore

                store = UserStore(dsn)
                token = store.create_wall_token(f"wall-history-{uuid.uuid4().hex[:8]}", actor="test")
                store.close()
                shots.open(f"{base}/?token={token}", (1920, 1080))
            yield base, shots, province, dsn


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_over_30_days(browser, path):
    base, shots, *_ = browser
    key = PAGES[path]
    shots.shoot(f"{base}{path}?range=30d&lang=vi", OUT / f"{key}-30d-1920x1080.png", (1920, 1080))
    assert shots.text("#range-30d.active") == t("range_30d", "vi")  # the range chosen, marked
    assert shots.text("#range-res") == t("hist_res_day", "vi")  # 30 days: one point a day
    assert t("hist_res_day", "vi") in shots.inner_text("#hist-title").lower()  # the chart says its resolution
    assert shots.driver.find_elements("css selector", "#hist-chart .main-svg")
    assert shots.small_texts(f"#page-{key}") == [] and shots.small_texts("#range-bar") == []
    assert shots.clipped(f"#page-{key}") == []
    assert shots.driver.execute_script("return document.documentElement.scrollWidth") <= 1920
    assert not shots.errors()


@pytest.mark.parametrize("path", list(PAGES))
def test_the_live_page_keeps_its_panels_below_the_range_bar(browser, path):
    base, shots, *_ = browser
    key = PAGES[path]
    shots.shoot(f"{base}{path}?lang=vi", OUT / f"{key}-live-1920x1080.png", (1920, 1080))
    assert shots.text("#range-live.active") == t("range_live", "vi")
    assert not shots.driver.find_elements("id", "hist-chart")
    assert shots.small_texts("#range-bar") == [] and shots.small_texts(f"#page-{key}") == []
    assert shots.clipped(f"#page-{key}") == []
    assert not shots.errors()


def test_a_range_link_puts_the_range_in_the_url(browser):
    base, shots, *_ = browser
    shots.open(f"{base}/systems?lang=vi", (1920, 1080))
    shots.driver.find_element("id", "range-7d").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(shots.driver, 20).until(lambda d: d.find_elements("css selector", "#hist-chart .main-svg"))
    assert shots.driver.current_url.endswith("/systems?lang=vi&range=7d")
    assert t("hist_res_hour", "vi") in shots.inner_text("#hist-title").lower()  # 7 days: hourly


def test_one_systems_history_over_30_days(browser):
    base, shots, province, _ = browser
    code = province.systems[0].code
    shots.shoot(f"{base}/history?kind=system&id={code}&range=30d&lang=vi", OUT / "system-30d-1920x1080.png",
                (1920, 1080), ready=ENTITY_READY_JS)
    assert code in shots.text("#hist-entity") and province.systems[0].name in shots.text("#hist-entity")
    assert len(shots.driver.find_elements("css selector", "#page-history .main-svg")) >= 2
    assert shots.driver.find_element("id", "hist-sla")  # the months' service levels
    assert shots.driver.find_element("id", "hist-alerts")
    assert shots.small_texts("#page-history") == [] and shots.small_texts("#range-bar") == []
    assert shots.clipped("#page-history") == []
    assert not shots.errors()


def test_the_systems_name_on_the_wall_leads_to_its_history(browser):
    base, shots, province, _ = browser
    shots.open(f"{base}/systems?lang=vi", (1920, 1080))
    code = province.systems[0].code
    link = shots.driver.find_element("css selector", f"a.sys-name[href*='id={code}']")
    assert "/history?kind=system" in link.get_attribute("href")


def test_the_console_alert_links_its_entity_to_the_days_around_it(browser):
    import psycopg

    base, shots, province, dsn = browser
    code = province.systems[1].code
    started = datetime.now(timezone.utc) - timedelta(days=5)
    with psycopg.connect(dsn, autocommit=True) as conn:
        alert_id = conn.execute("INSERT INTO alert (rule, entity, severity, state, started_at, resolved_at) VALUES "
                                "('system_unavailable', %s, 'critical', 'resolved', %s, %s) RETURNING id",
                                (f"{code}:/api", started, started + timedelta(hours=3))).fetchone()[0]
    card = alert_card({"id": alert_id, "rule": "system_unavailable", "entity": f"{code}:/api", "severity": "critical",
                       "state": "resolved", "started_at": started, "value": None}, "vi")
    href = next(c.href for c in walk(card) if getattr(c, "id", None) == "alert-entity-history")
    days = around(started, LOCAL_TZ)
    assert f"from={days['from']}" in href and f"to={days['to']}" in href
    shots.shoot(f"{base}{href}", OUT / "alert-entity-1920x1080.png", (1920, 1080), ready=ENTITY_READY_JS)
    assert province.systems[1].name in shots.text("#hist-entity")  # the alert's endpoint: its system
    assert shots.text("#range-res") == t("hist_res_hour", "vi")  # a week around the alert: hourly
    assert f"#{alert_id}" in shots.text("#hist-alerts")  # the alert itself, in the range
    assert shots.driver.execute_script("return document.querySelectorAll('#hist-fig-0 .shapelayer path').length") >= 1
    assert shots.small_texts("#page-history") == [] and shots.clipped("#page-history") == []


def walk(component):
    yield component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and hasattr(child, "to_plotly_json"):
            yield from walk(child)


def test_a_custom_range_typed_in_the_bar(browser):
    from selenium.webdriver.support.ui import WebDriverWait

    base, shots, *_ = browser
    today = utcnow().astimezone(LOCAL_TZ).date()
    first, last = today - timedelta(days=10), today - timedelta(days=3)
    shots.open(f"{base}/network?lang=vi", (1920, 1080))
    shots.driver.find_element("id", "range-from").send_keys(first.strftime("%d/%m/%Y"))
    shots.driver.find_element("id", "range-to").send_keys(last.strftime("%d/%m/%Y"))
    shots.driver.find_element("id", "range-go").click()
    WebDriverWait(shots.driver, 20).until(lambda d: d.find_elements("css selector", "#hist-chart .main-svg"))
    assert f"range=custom&from={first.isoformat()}&to={last.isoformat()}" in shots.driver.current_url
    assert shots.text("#range-res") == t("hist_res_hour", "vi")  # 8 days: hourly
    assert shots.driver.find_element("id", "range-from").get_attribute("value") == first.strftime("%d/%m/%Y")


def test_a_bad_range_says_so_in_vietnamese_and_the_page_stays_live(browser):
    base, shots, *_ = browser
    shots.open(f"{base}/systems?range=2w&lang=vi", (1920, 1080))
    assert shots.text("#range-error") == t("range_invalid", "vi")
    assert shots.driver.find_element("id", "page-systems") and not shots.driver.find_elements("id", "hist-chart")
    shots.open(f"{base}/history?kind=planet&id=x&lang=vi", (1920, 1080),
               ready="return !!document.querySelector('#hist-error')")
    assert shots.text("#hist-error") == t("hist_bad_entity", "vi")


def test_4k_shows_a_systems_history_twice_as_large(browser):
    base, shots, province, _ = browser
    out = shots.shoot(f"{base}/history?kind=system&id={province.systems[0].code}&range=90d&lang=en",
                      OUT / "system-90d-3840x2160.png", (3840, 2160), ready=ENTITY_READY_JS)
    assert out.exists()
    assert shots.driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)") == 38.4
    assert shots.small_texts("#page-history", 39.0) == []  # 20 px at 1920×1080, doubled
    assert shots.clipped("#page-history") == []
    assert not shots.errors()

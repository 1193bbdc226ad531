"""A screenshot of every wall page at 1920×1080 and at 3840×2160 in .run/screenshots/wall/, and of a
console page in .run/screenshots/console/.

Needs Chromium and chromedriver (`make test` installs them).  The pictures are for people to look at;
the sources page shows the producers of the whole province (``sources_support``); the test checks that
each page draws completely, at the wall's size, without browser errors, with no text under 20 px at
1920×1080 (the header, the banners and the rotation's steps included), nothing cut at the sides or
below the screen, the header's page links on one row, and one navigation on a page: the wall's on a
wall page, the console's on a console page.
"""
import uuid
import struct

import psycopg
import pytest

from ioc_dash.app import create_app
from ioc_dash.i18n import t
from streams.core.geography import load_province
from tests.ioc_dash.sources_support import seeded_producers
from ioc_dash.pages import WALL_PAGES
from tests.ioc_dash import screens
from tests.support import ROOT

if screens.CHROMIUM is None or screens.CHROMEDRIVER is None:  # make test installs them (deploy/browser.sh)
    raise RuntimeError("chromium and chromedriver are not installed: run deploy/browser.sh")
OUT = ROOT / ".run" / "screenshots" / "wall"
CONSOLE_OUT = ROOT / ".run" / "screenshots" / "console"
#: a console page is drawn when its navigation and its alert list are there and Dash is idle
CONSOLE_READY_JS = """return !!document.querySelector('.console-nav') && !!document.querySelector('#console-alerts').childElementCount
  && !document.querySelector('[data-dash-is-loading="true"]');"""


def png_size(path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.fixture(scope="module")
def browser(test_settings):
    app = create_app(test_settings)
    province = load_province(test_settings.province_file)
    with psycopg.connect(test_settings.dsn, autocommit=True) as db, seeded_producers(db, province), \
            screens.serve(app) as base, screens.Screens() as shots:
        if "ioc_auth" in app.server.extensions:
            from ioc_dash.auth.store import UserStore

            store = UserStore(test_settings.dsn)
            token = store.create_wall_token(f"wall-screenshots-{uuid.uuid4().hex[:8]}", actor="test")
            store.close()
            shots.open(f"{base}/?token={token}", (1920, 1080))
        yield base, shots


@pytest.mark.parametrize("page", WALL_PAGES, ids=[p.KEY for p in WALL_PAGES])
def test_each_page_at_1920x1080(browser, page):
    base, shots = browser
    out = shots.shoot(f"{base}{page.PATH}?lang=vi", OUT / f"{page.KEY}-1920x1080.png", (1920, 1080))
    assert png_size(out) == (1920, 1080)
    assert shots.driver.find_element("id", f"page-{page.KEY}")
    assert shots.driver.execute_script("return document.documentElement.scrollWidth") <= 1920  # nothing sticks out
    assert shots.small_texts(f"#page-{page.KEY}") == []  # 20 px or more, read across the room
    assert shots.clipped(f"#page-{page.KEY}") == []  # nothing cut at the sides, the page within the screen
    assert [cls for cls, _ in shots.navs()] == ["nav"]  # the wall's navigation only
    assert shots.text(".nav-link.active") == t(page.TITLE, "vi")  # the current page is marked
    assert not shots.errors()


@pytest.mark.parametrize("page", WALL_PAGES, ids=[p.KEY for p in WALL_PAGES])
def test_4k_shows_the_same_page_twice_as_large(browser, page):
    base, shots = browser
    out = shots.shoot(f"{base}{page.PATH}?lang=en", OUT / f"{page.KEY}-3840x2160.png", (3840, 2160))
    assert png_size(out) == (3840, 2160)
    assert shots.driver.execute_script("return parseFloat(getComputedStyle(document.documentElement).fontSize)") == 38.4
    assert not shots.errors()


def test_kiosk_has_no_controls(browser):
    base, shots = browser
    shots.shoot(f"{base}/wall?kiosk=1&playlist=overview,map&every=30&lang=vi", OUT / "wall-kiosk-1920x1080.png", (1920, 1080))
    assert shots.driver.find_elements("css selector", ".nav-link") == []
    assert "kiosk" in shots.driver.find_element("id", "wall").get_attribute("class")
    assert shots.text(".kiosk-step.current") == "Tổng quan"
    assert shots.small_texts("#kiosk-wall") == [] and shots.clipped("#kiosk-wall") == []
    assert shots.navs() == []


def test_a_console_page_shows_the_console_navigation_only(browser):
    base, shots = browser
    out = shots.shoot(f"{base}/console/alerts?lang=vi", CONSOLE_OUT / "alerts-1920x1080.png", (1920, 1080),
                      ready=CONSOLE_READY_JS)
    assert png_size(out) == (1920, 1080)
    navs = shots.navs()
    assert len(navs) == 1, navs
    cls, links = navs[0]
    assert cls == "console-nav" and links[0] == "← Màn hình tường" and "Cảnh báo" in links
    assert shots.driver.find_element("css selector", ".console-to-wall").get_attribute("href") == f"{base}/"
    assert shots.driver.find_elements("css selector", ".wall-header .nav-link") == []
    assert shots.small_texts(None) == [] and shots.clipped(None) == []  # the header: name, languages, clock
    assert not shots.errors()

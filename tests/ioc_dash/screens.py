"""Screenshots of wall pages: the app served from a thread, headless Chromium taking the picture.

Chromium's ``--window-size`` includes room for browser chrome even when headless (a 1920×1080
window has a 1920×937 page), so the viewport is set exactly through DevTools instead: the page
sees the wall's real size, and rem sizes come out as they will on the screen.  Used by
``test_screenshots.py`` (skipped without Chromium) and handy by hand::

    with serve(app) as base, Screens() as screens:
        screens.shoot(f"{base}/map?lang=en", Path("map.png"), (1920, 1080))
"""
from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars")
#: the page is drawn when every panel has content and every graph has its SVG, and Dash is idle
READY_JS = """
const page = document.querySelector('#page .page, #kiosk-page .page');
if (!page || document.querySelector('[data-dash-is-loading="true"]')) return false;
for (const panel of page.querySelectorAll('.panel')) {
  const body = panel.children[1];
  if (!body || (body.classList.contains('dash-graph') ? !body.querySelector('.main-svg') : !body.childElementCount))
    return false;
}
return true;
"""
#: every text of a page drawn smaller than arguments[1] px (HTML and SVG), with where it is
SMALL_TEXT_JS = """
const page = document.querySelector(arguments[0]);
const small = [];
for (const el of page.querySelectorAll('*')) {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own) continue;
  const size = parseFloat(getComputedStyle(el).fontSize);
  if (size < arguments[1]) small.push(`${el.tagName}.${el.getAttribute('class')}: ${el.textContent.trim().slice(0, 30)} ${size}px`);
}
return small;
"""
#: panels of a page whose content is wider than the panel shows, and a page that ends below the screen;
#: in the header, a text cut or beyond the screen's edge, and page links on more than one row
CLIPPED_JS = """
const out = [];
if (arguments[0]) {
  for (const el of document.querySelectorAll(arguments[0] + ' .panel')) {
    if (el.scrollWidth > el.clientWidth + 1) out.push(el.id || (el.querySelector('h3') || el).textContent.slice(0, 40));
  }
  const page = document.querySelector(arguments[0]).getBoundingClientRect();
  if (page.bottom > window.innerHeight) out.push(`page ends at ${page.bottom}px`);
}
for (const el of document.querySelectorAll('.wall-header, .wall-header *')) {
  const box = el.getBoundingClientRect();
  if (!box.width) continue;
  const what = `header ${el.tagName}.${el.getAttribute('class')}: ${el.textContent.trim().slice(0, 30)}`;
  if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1) out.push(`${what} cut`);
  if (box.left < 0 || box.right > window.innerWidth || box.top < 0) out.push(`${what} off the screen`);
}
const rows = new Set([...document.querySelectorAll('.wall-header .nav-link')].map(e => e.getBoundingClientRect().top));
if (rows.size > 1) out.push(`page links on ${rows.size} rows`);
return out;
"""
#: the navigations a page shows: [class, texts of its links]
NAVS_JS = """
return [...document.querySelectorAll('nav')].filter(e => e.getClientRects().length)
  .map(e => [e.className, [...e.querySelectorAll('a')].map(a => a.textContent.trim())]);
"""


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """The app's Flask server on a free loopback port, in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextlib.contextmanager
def signed_in(app, dsn: str, name: str) -> Iterator[tuple[str, Screens]]:
    """The app served and a browser holding a new wall token ``name``: yields (base URL, screens)."""
    from ioc_dash.auth.store import UserStore

    store = UserStore(dsn)
    try:
        token = store.create_wall_token(name, actor="test")
    finally:
        store.close()
    with serve(app) as base, Screens() as shots:
        shots.open(f"{base}/?token={token}", (1920, 1080))
        yield base, shots


@contextlib.contextmanager
def console_as(settings, role: str, prefix: str) -> Iterator[tuple[str, object]]:
    """The whole dashboard of ``settings`` served, a new user of ``role`` signed in to a 1920×1080
    Chromium (``tests.ioc_dash.browser.Browser``): yields (base URL, browser)."""
    import uuid

    from ioc_dash.app import create_app
    from ioc_dash.auth.store import UserStore
    from tests.ioc_dash.browser import Browser
    from tests.ioc_dash.conftest import FAST_PASSWORDS, PASSWORD

    name = f"{role}-{uuid.uuid4().hex[:6]}"
    store = UserStore(settings.dsn, FAST_PASSWORDS)
    store.add_user(name, role, PASSWORD, actor="tests")
    store.close()
    browser = Browser(prefix)
    try:
        with serve(create_app(settings)) as base:
            browser.driver.set_window_size(1920, 1080)
            browser.login(base, name, PASSWORD)
            browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")
            yield base, browser
    finally:
        browser.close()


class Screens:
    """One headless Chromium (Selenium) with a throw-away profile."""

    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        if CHROMIUM is None or CHROMEDRIVER is None:
            raise RuntimeError("chromium and chromedriver are needed for screenshots: run deploy/browser.sh "
                               "(make test does)")
        self._profile = tempfile.TemporaryDirectory(prefix="ioc-wall-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self._profile.name}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "SEVERE"})
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))

    def __enter__(self) -> Screens:
        return self

    def __exit__(self, *exc) -> None:
        self.driver.quit()
        self._profile.cleanup()

    def open(self, url: str, size: tuple[int, int], *, timeout: float = 20.0, ready: str = READY_JS) -> None:
        """Load ``url`` with a viewport of exactly ``size`` and wait until the page is drawn (until the script
        ``ready`` returns true: by default, until a wall page is)."""
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
        self.driver.get(url)
        WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(ready))
        time.sleep(0.5)  # plotly's last relayout

    def shoot(self, url: str, out: Path, size: tuple[int, int], *, ready: str = READY_JS) -> Path:
        self.open(url, size, ready=ready)
        out.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(out))
        return out

    def errors(self) -> list[str]:
        """Severe messages of the browser console since the last call (failed requests, script errors)."""
        return [e["message"] for e in self.driver.get_log("browser")]

    def small_texts(self, page: str | None, min_px: float = 19.5) -> list[str]:
        """Texts of the element ``page`` (a CSS selector; None: none), of the header and of the banners drawn
        smaller than ``min_px``."""
        return [t for part in (page, ".wall-header", "#banner") if part
                for t in self.driver.execute_script(SMALL_TEXT_JS, part, min_px)]

    def clipped(self, page: str | None) -> list[str]:
        """Panels of ``page`` (None: none) whose content is cut at the sides, the page's end when below the
        screen, texts of the header cut or off the screen, and the header's page links when on more than one row."""
        return self.driver.execute_script(CLIPPED_JS, page)

    def navs(self) -> list[tuple[str, list[str]]]:
        """The navigations shown: (class, the texts of its links) of each."""
        return [tuple(n) for n in self.driver.execute_script(NAVS_JS)]

    def inner_text(self, css: str) -> str:
        """The text of an element now (the page redraws every refresh: no element handle is kept)."""
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)

    def text(self, css: str) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css).text

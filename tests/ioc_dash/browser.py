"""Helpers of the browser tests: a real ``ioc dash`` process, headless Chromium through Selenium."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from streams.core.settings import Settings
from tests.support import ROOT, WorkerProcess, free_port, wait_for

SCREENSHOTS = ROOT / ".run" / "screenshots"  # git-ignored with the rest of .run/
CHROME_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1600,1000")


def ensure_chromium() -> tuple[str, str]:
    """Paths of chromium and chromedriver, installing the Debian packages first when missing."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        done = subprocess.run([str(ROOT / "deploy" / "browser.sh")], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"chromium is missing and deploy/browser.sh failed:\n{done.stdout}{done.stderr}")
    return shutil.which("chromium"), shutil.which("chromedriver")


class DashServer(WorkerProcess):
    """``ioc dash`` on a free port, ready when /login answers."""

    def __init__(self, settings: Settings, log_path: Path, **env: str) -> None:
        self.port = free_port()
        super().__init__(settings, log_path, command=("dash",), IOC_DASH_PORT=str(self.port),
                         IOC_DASH_HOST="127.0.0.1", **env)
        self.base = f"http://127.0.0.1:{self.port}"
        try:
            wait_for(self._ready, timeout=60, interval=0.3, what="ioc dash to answer")
        except AssertionError:
            self.stop()
            raise AssertionError(f"ioc dash did not start:\n{self.log_tail()}") from None

    def _ready(self) -> bool:
        if not self.alive():
            raise AssertionError(f"ioc dash exited:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.base}/login", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False


@contextlib.contextmanager
def running_dash(settings: Settings, tmp_path_factory, **env: str) -> Iterator[DashServer]:
    """A ``DashServer`` with its own run directory (and log in it), stopped on leaving."""
    run = tmp_path_factory.mktemp("dash")
    dash = DashServer(settings, run / "dash.log", IOC_RUN_DIR=str(run), **env)
    try:
        yield dash
    finally:
        dash.stop()


class Browser:
    """One headless Chromium with a throw-away profile; screenshots of every page visited."""

    def __init__(self, prefix: str) -> None:
        chromium, driver = ensure_chromium()
        self._profile = tempfile.TemporaryDirectory(prefix="ioc-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROME_FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self._profile.name}")
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        self.prefix = prefix
        self.shots = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def get(self, url: str) -> None:
        self.driver.get(url)

    def find(self, css: str):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str = "body") -> str:
        """Read in one step by the page itself: Dash may replace the element between two WebDriver calls."""
        return self.driver.execute_script("const e = document.querySelector(arguments[0]);"
                                          "return e ? e.innerText : '';", css)

    def xpath_text(self, xpath: str) -> str:
        return self.driver.execute_script(
            "const e = document.evaluate(arguments[0], document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null)"
            ".singleNodeValue; return e ? e.innerText : '';", xpath)

    def wait(self, condition, timeout: float = 20, what: str = "the page"):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2,  # Dash re-renders under our feet
                                 ignored_exceptions=(StaleElementReferenceException,)).until(lambda d: condition())
        except Exception as exc:
            self.shot("timeout")
            raise AssertionError(f"timed out waiting for {what}; page says:\n{self.text()[:1500]}") from exc

    def wait_text(self, needle: str, css: str = "body", timeout: float = 20) -> str:
        return self.wait(lambda: needle in self.text(css) and self.text(css), timeout, f"{needle!r} in {css}")

    def shot(self, name: str) -> Path:
        self.shots += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.shots:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def clean_slate(self) -> None:
        """No page and no cookies.  The page is left first: its callbacks must not go out without the
        cookies, or one answered 401 sends that page, or the next one it races with, to the sign-in page
        ("session expired"), a 401 the page did not earn."""
        self.driver.get("about:blank")
        self.driver.execute_cdp_cmd("Network.clearBrowserCookies", {})  # every site's, from any page

    def login(self, base: str, name: str, password: str, lang: str = "vi") -> None:
        """Sign in from a clean slate, in ``lang``: a late response of the page left behind may have set
        the language cookie again after the cookies were cleared, so the language is named outright."""
        self.clean_slate()
        self.get(f"{base}/login?lang={lang}")
        self.find("#login-name").send_keys(name)
        self.find("#login-password").send_keys(password)
        self.find("#login-submit").click()

    def close(self) -> None:
        self.driver.quit()
        self._profile.cleanup()

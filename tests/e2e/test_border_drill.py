"""The border page during the ``border-night-intrusion`` drill, through the real product: simulators
→ Kafka → worker → TimescaleDB → alert engine → ``ioc dash`` → headless Chromium at 1920×1080.

Pictures in .run/screenshots/wall/: the Giang Thành zone's count rising, cam-phumy-02 marked
(tampered, then offline), and the zone's intrusion alert listed.
"""
from __future__ import annotations

import json
import uuid

import pytest

from ioc_dash.auth.store import UserStore
from simulators.drills import load_scenario
from tests.ioc_dash import screens
from tests.ioc_dash.browser import DashServer
from tests.ioc_dash.test_screenshots import OUT
from tests.support import wait_for

pytestmark = pytest.mark.integration
SCENARIO = "border-night-intrusion"


def js_text(css: str) -> str:
    return f"const e = document.querySelector({json.dumps(css)}); return e ? e.innerText : '';"


def test_the_border_page_follows_the_night_intrusion(pipeline):
    if screens.CHROMIUM is None or screens.CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are not installed: run deploy/browser.sh (make test does)")
    store = UserStore(pipeline.settings.dsn)
    token = store.create_wall_token(f"e2e-border-{uuid.uuid4().hex[:6]}", actor="tests")
    store.close()
    dash = DashServer(pipeline.settings, pipeline.workdir / "dash.log", IOC_RUN_DIR=str(pipeline.workdir),
                      IOC_DASH_SESSION_KEY="b" * 40)
    pipeline.procs["dash"] = dash
    drill = pipeline.start("drill", "drill", SCENARIO, "--families", "camera,security")
    duration = load_scenario(SCENARIO).duration_s
    OUT.mkdir(parents=True, exist_ok=True)
    with screens.Screens() as shots:
        shots.open(f"{dash.base}/?token={token}", (1920, 1080), timeout=90)
        shots.open(f"{dash.base}/border?lang=vi", (1920, 1080), timeout=90)

        def hour(zone: str = "bz-giangthanh") -> int:
            value = shots.driver.execute_script(js_text(f"#border-hour-{zone}"))
            return int(value) if value.strip().isdigit() else 0

        def check() -> None:
            pipeline.check_alive()
            if drill.proc.poll() not in (None, 0):
                raise AssertionError(f"the drill failed:\n{drill.log_tail()}")

        def rising() -> int:
            check()
            return hour() >= 5 and hour()

        first = wait_for(rising, timeout=duration, interval=1, what="intrusions counted in the Giang Thành zone")
        shots.driver.save_screenshot(str(OUT / "border-drill-rising-1920x1080.png"))

        def marked() -> bool:
            check()
            return "cam-phumy-02" in shots.driver.execute_script(js_text("#border-attention"))

        wait_for(marked, timeout=duration, interval=1, what="cam-phumy-02 marked on the border page")
        shots.driver.save_screenshot(str(OUT / "border-drill-camera-1920x1080.png"))

        def listed() -> bool:
            check()
            alerts = shots.driver.execute_script(js_text("#border-alerts"))
            attention = shots.driver.execute_script(js_text("#border-attention"))
            return "bz-giangthanh" in alerts and "Mất kết nối" in attention

        wait_for(listed, timeout=duration, interval=1, what="the zone's alert listed and cam-phumy-02 offline")
        assert hour() > first, "the zone's count did not rise"
        shots.driver.save_screenshot(str(OUT / "border-drill-alert-1920x1080.png"))
        assert not shots.errors()

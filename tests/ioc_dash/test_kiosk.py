"""Kiosk rotation (pure) and the /wall callback driven by a fake snapshot and clock."""
from datetime import datetime, timezone

from ioc_dash.app import create_app
from ioc_dash.kiosk import KioskConfig, KioskState, parse_config, step
from ioc_dash.pages import WALL_PAGES
from ioc_dash.repository import Snapshot
from tests.ioc_dash.wall_support import call, text, wall_client

PAGES = [p.KEY for p in WALL_PAGES]
CFG = KioskConfig(("overview", "systems", "map"), 30.0, True)


def test_the_query_gives_playlist_period_and_kiosk_flag():
    cfg = parse_config("?kiosk=1&playlist=map,nope,overview,map&every=12", PAGES)
    assert cfg == KioskConfig(("map", "overview"), 12.0, True)
    assert parse_config("", PAGES) == KioskConfig(tuple(PAGES), 30.0, False)
    assert parse_config("?every=1", PAGES).every_s == 5.0 and parse_config("?every=x", PAGES).every_s == 30.0
    assert parse_config("?every=nan", PAGES).every_s == 30.0 and parse_config("?every=1e9", PAGES).every_s == 3600.0
    assert KioskConfig.from_dict(cfg.as_dict(), PAGES) == cfg


def test_what_the_browser_sends_back_is_checked_like_a_query():
    # the stores live in the browser: a changed one gives the default rotation, never an error
    default = KioskConfig(tuple(PAGES))
    for bad in (None, [], "x", {"playlist": 3}, {"playlist": ["map"], "every_s": "soon", "kiosk": True}):
        assert KioskConfig.from_dict(bad, PAGES) == default
    odd = {"playlist": ["map", "<script>", 7, "map"], "every_s": 1e12, "kiosk": "yes"}
    assert KioskConfig.from_dict(odd, PAGES) == KioskConfig(("map",), 3600.0, False)
    for bad in ({"index": "a"}, {"index": 0, "page": "nope", "shown_at": 0}, {"index": 0, "page": "map",
                "shown_at": "nan"}, {"index": 0, "page": "map", "shown_at": 0, "seen": ["x"]}, ["index"]):
        assert KioskState.from_dict(bad, PAGES) is None


def test_pages_rotate_every_period():
    s = step(None, CFG, now=0, critical=[])
    assert s.page == "overview"
    assert step(s, CFG, now=29, critical=[]).page == "overview"
    s = step(s, CFG, now=30, critical=[])
    assert (s.index, s.page) == (1, "systems")
    s = step(step(s, CFG, now=60, critical=[]), CFG, now=90, critical=[])
    assert (s.index, s.page) == (0, "overview")  # around again
    assert KioskState.from_dict(s.as_dict(), PAGES) == s


def test_a_new_critical_alert_brings_its_page_forward_then_rotation_resumes():
    s = step(None, CFG, now=0, critical=[(7, "security")])  # open at start: not new
    assert s.page == "overview" and s.seen == (7,)
    s = step(s, CFG, now=35, critical=[(7, "security")])
    assert s.page == "systems"
    s = step(s, CFG, now=40, critical=[(9, "environment"), (7, "security")])
    assert (s.page, s.forced, s.index) == ("environment", True, 1)  # not in the playlist: shown anyway
    assert step(s, CFG, now=50, critical=[(9, "environment"), (7, "security")]).page == "environment"
    s = step(s, CFG, now=70, critical=[(9, "environment")])
    assert (s.page, s.forced) == ("map", False)  # resumes after the interrupted page
    assert step(s, CFG, now=75, critical=[]).seen == ()


def test_the_wall_callback_rotates_and_jumps_to_a_critical_alert(test_settings, monkeypatch):
    now = datetime.now(timezone.utc)
    alerts: list[dict] = []
    app = create_app(test_settings, read_snapshot=lambda: Snapshot(now, alerts=list(alerts)))
    app.server.config["IOC_CACHE"].period_s = 0  # a fresh snapshot per call
    clock = [1000.0]
    monkeypatch.setattr("ioc_dash.pages.wall.now", lambda: clock[0])
    client = wall_client(app, test_settings)
    config = KioskConfig(("overview", "map"), 30.0, True).as_dict()

    def rotate(state):
        out = call(client, app, "kiosk-state.data", {"kiosk-state.data": state, "kiosk-config.data": config})
        return out["kiosk-state"]["data"], out.get("kiosk-page", {}).get("children")

    state, page = rotate(None)
    assert state["page"] == "overview" and "page-overview" in text(page)
    clock[0] += 5
    state, page = rotate(state)
    assert page is None  # same page: not re-rendered
    alerts.append({"id": 41, "rule": "salinity_high", "entity": "sal-caibe", "severity": "critical",
                   "state": "firing", "started_at": now, "fired_at": now, "suppressed_by": None, "silenced_until": None})
    state, page = rotate(state)
    assert state["page"] == "environment" and "page-environment" in text(page)
    clock[0] += 30
    state, page = rotate(state)
    assert state["page"] == "map" and "page-map" in text(page)
    # stores changed in the browser: the screen starts its rotation afresh, no error
    out = call(client, app, "kiosk-state.data", {"kiosk-state.data": {"index": 0, "page": "<b>", "shown_at": 0},
                                                 "kiosk-config.data": {"playlist": "map"}})
    assert out["kiosk-state"]["data"]["page"] == PAGES[0]


def test_kiosk_mode_hides_the_controls(test_settings):
    app = create_app(test_settings, read_snapshot=lambda: Snapshot(datetime.now(timezone.utc)))
    client = wall_client(app, test_settings)
    values = {"url.pathname": "/wall", "url.search": "?kiosk=1&playlist=map,overview&every=20"}
    out = call(client, app, "page.children", values)
    assert out["nav"]["children"] == [] and out["wall"]["className"] == "wall kiosk"
    assert '"playlist": ["map", "overview"]' in text(out["page"]) and '"every_s": 20.0' in text(out["page"])
    out = call(client, app, "page.children", {**values, "url.search": "?playlist=map"})
    assert out["nav"]["children"] and out["wall"]["className"] == "wall"

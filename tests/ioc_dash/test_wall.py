"""The wall app: freshness, the snapshot cache, the router, language, and the overview from the database."""
import inspect
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from streams.core import sketch
from ioc_dash import figures
from ioc_dash.app import create_app
from ioc_dash.repository import Repository, Snapshot, SnapshotCache
from streams.core.geography import load_province
from streams.core.errors import SinkUnavailable
from streams.core.settings import Settings
from tests.ioc_dash.wall_support import call, text, wall_client

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
PROVINCE = load_province(Settings().province_file)


def snap(**kw):
    base = dict(sources=[{"source": "health", "last_arrival": NOW - timedelta(seconds=3)}],
                workers=[{"worker": "w1", "last_seen": NOW - timedelta(seconds=4)}])
    base.update(kw)
    return Snapshot(NOW, **base)


def test_freshness_reasons():
    stale = timedelta(seconds=60)
    assert not figures.freshness(snap(), stale_after=stale).stale
    assert figures.freshness(snap(sources=[]), stale_after=stale).reason == "no_data"
    old = snap(sources=[{"source": "health", "last_arrival": NOW - timedelta(minutes=5)}])
    assert figures.freshness(old, stale_after=stale).reason == "data_old"
    stopped = snap(workers=[{"worker": "w1", "last_seen": NOW - timedelta(minutes=3)}])
    assert figures.freshness(stopped, stale_after=stale).reason == "pipeline_stopped"
    assert figures.freshness(Snapshot(NOW, error="down"), stale_after=stale).reason == "db_unreachable"


def test_banner_text_in_both_languages():
    fresh = figures.Freshness(True, NOW, "data_old")
    assert "Dữ liệu cũ từ 10:00:00 27/11/2026" in text(figures.stale_banner(fresh, "vi"))
    assert "Data stale since 10:00:00 27/11/2026" in text(figures.stale_banner(fresh, "en"))


def test_snapshot_cache_reads_once_per_period_and_survives_a_failed_read():
    t = [0.0]
    calls = []

    def read():
        calls.append(1)
        if len(calls) == 3:
            raise SinkUnavailable("db down")
        return snap(systems=[{"system": "dvc"}])

    cache = SnapshotCache(read, 2.0, clock=lambda: t[0])
    for _ in range(30):
        cache.get()
    assert len(calls) == 1
    t[0] = 2.5
    cache.get()
    t[0] = 5.0
    failed = cache.get()
    assert len(calls) == 3 and failed.error == "db down" and failed.systems  # last good values kept


def test_slow_parts_are_read_only_when_their_period_has_passed():
    t = [0.0]
    repo = Repository("postgresql://unused", systems=["dvc"], medium_s=10, slow_s=60, clock=lambda: t[0])
    every = {p.name for p in repo.due()}
    assert {"systems", "alerts", "history", "uptime"} <= every
    repo._read_at = {p.name: 0.0 for p in repo.parts}
    t[0] = 5
    assert {p.tier for p in repo.due()} == {"fast"}
    t[0] = 15
    assert {p.tier for p in repo.due()} == {"fast", "medium"}
    t[0] = 61
    assert "uptime" in {p.name for p in repo.due()}


# --- the app against the run's database -------------------------------------------------------------


@pytest.fixture
def app(test_settings):
    return create_app(test_settings)


def test_thirty_screens_refreshing_at_once_cost_one_read(app, test_settings):
    clients = [wall_client(app, test_settings) for _ in range(30)]
    cache = app.server.config["IOC_CACHE"]
    repo: Repository = inspect.unwrap(cache.read).__self__
    start = threading.Barrier(30)

    def refresh(client):
        start.wait()
        return call(client, app, "ov-systems.children")

    with ThreadPoolExecutor(30) as pool:
        outs = list(pool.map(refresh, clients))
    assert len(outs) == 30 and len({text(o["ov-alerts"]) for o in outs}) == 1
    assert cache.reads == 1 and repo.reads == 1
    assert repo.queries == len(repo.parts)  # one snapshot: one query per part, every tier due the first time


def test_the_overview_serves_systems_and_alerts_from_the_database(app, test_settings, db):
    db.execute(
        """INSERT INTO health_window (time, window_s, system, endpoint, probes, probes_ok, requests, errors,
                                      latency_hist, last_event)
           VALUES (date_trunc('minute', now()), 60, 'lgsp', '*', 6, 0, 10, 10, %s, now())
           ON CONFLICT (system, endpoint, window_s, time) DO UPDATE
           SET probes = 600, probes_ok = 0, requests = 1000, errors = 1000, last_event = now()""",
        (sketch.from_values([100] * 10),),
    )
    summary = f"LGSP ngừng hoạt động {uuid.uuid4().hex[:6]}"
    alert_id = db.execute(
        """INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, summary_vi, summary_en)
           VALUES ('system_unavailable', %s, 'critical', 'firing', now(), now(), %s, 'LGSP down') RETURNING id""",
        (f"lgsp-{uuid.uuid4().hex[:6]}", summary)).fetchone()[0]
    try:
        check_overview(app, wall_client(app, test_settings), summary)
    finally:  # a firing alert left behind would be escalated by the alert store's tests
        db.execute("DELETE FROM alert WHERE id = %s", (alert_id,))
        db.execute("""DELETE FROM health_window WHERE system = 'lgsp' AND window_s = 60 AND endpoint = '*'
                      AND time >= date_trunc('minute', now()) - interval '1 minute' AND probes_ok = 0""")


def check_overview(app, client, summary: str) -> None:
    assert client.get("/").status_code == 200
    out = call(client, app, "ov-systems.children")
    systems = text(out["ov-systems"])
    for system in PROVINCE.systems:
        assert system.name in systems, system.code
    assert "Mất kết nối" in systems  # lgsp is down
    alerts = text(out["ov-alerts"])
    assert summary in alerts and "Nghiêm trọng" in alerts
    assert "Phản ánh hiện trường" in text(out["ov-sources"])  # every feed listed


def test_the_router_serves_pages_and_remembers_the_language(app, test_settings):
    client = wall_client(app, test_settings)
    out = call(client, app, "page.children", {"url.pathname": "/map", "url.search": "?lang=en"})
    assert out["lang"]["data"] == "en" and "page-map" in text(out["page"])
    assert "An Giang Intelligent Operations Centre" in text(out["site-title"])  # the province file's name
    assert client.get_cookie("ioc_lang").value == "en"
    again = call(client, app, "page.children", {"url.pathname": "/systems", "url.search": ""})
    assert again["lang"]["data"] == "en"  # from the cookie
    missing = call(client, app, "page.children", {"url.pathname": "/nope", "url.search": "?lang=vi"})
    assert "Không có trang này" in text(missing["page"])
    banner = call(client, app, "banner.children", {"lang.data": "en"})
    assert "clock-time" in text(banner["clock"])


def test_console_pages_join_the_router_when_the_console_exists(app, test_settings):
    from ioc_dash import console

    client = wall_client(app, test_settings)
    path = next(iter(console.PAGES))
    out = call(client, app, "page.children", {"url.pathname": "/", "url.search": ""})
    assert f'"href": "{path}"' in text(out["nav"])
    # a console page brings its own navigation: the shell shows none, only the language switch
    out = call(client, app, "page.children", {"url.pathname": "/console/alerts", "url.search": ""})
    assert out["nav"]["children"] == [] and "lang-en" in text(out["langs"])
    assert "console-nav" in text(out["page"]) and "console-to-wall" in text(out["page"])
    assert app.server.config["IOC_SETTINGS"] is test_settings

from datetime import datetime, timedelta, timezone

import orjson

from agents import sketch
from ioc_dash import figures
from ioc_dash.app import create_app
from ioc_dash.repository import Snapshot, SnapshotCache
from simulators.province import load_province
from streams.errors import SinkUnavailable
from streams.settings import Settings

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
PROVINCE = load_province(Settings().province_file)


def snap(**kw):
    base = dict(
        systems=[
            {"system": "dvc", "probes": 10, "probes_ok": 2, "requests": 50, "errors": 30,
             "latency_hist": sketch.from_values([90] * 50), "last_event": NOW - timedelta(seconds=5)},
            {"system": "eoffice", "probes": 10, "probes_ok": 10, "requests": 50, "errors": 0,
             "latency_hist": sketch.from_values([40] * 50), "last_event": NOW - timedelta(seconds=5)},
        ],
        sources=[{"source": "health", "last_arrival": NOW - timedelta(seconds=3)}],
        workers=[{"worker": "w1", "last_seen": NOW - timedelta(seconds=4)}],
    )
    base.update(kw)
    return Snapshot(NOW, **base)


def test_every_system_is_listed_worst_first():
    statuses = figures.system_statuses(snap(), PROVINCE, stale_after=timedelta(seconds=60))
    assert {s.system for s in statuses} == {s.code for s in PROVINCE.systems}
    assert statuses[0].system == "dvc" and statuses[0].status == "down"
    assert next(s for s in statuses if s.system == "eoffice").status == "ok"
    assert next(s for s in statuses if s.system == "gis").status == "unknown"


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
    assert "Dữ liệu cũ từ 10:00:00 27/11/2026" in str(figures.stale_banner(fresh, "vi"))
    assert "Data stale since 10:00:00 27/11/2026" in str(figures.stale_banner(fresh, "en"))


def test_snapshot_cache_reads_once_per_period_and_survives_a_failed_read():
    t = [0.0]
    calls = []

    def read():
        calls.append(1)
        if len(calls) == 3:
            raise SinkUnavailable("db down")
        return snap()

    cache = SnapshotCache(read, 2.0, clock=lambda: t[0])
    for _ in range(30):
        cache.get()
    assert len(calls) == 1
    t[0] = 2.5
    cache.get()
    t[0] = 5.0
    failed = cache.get()
    assert len(calls) == 3 and failed.error == "db down" and failed.systems  # last good values kept


def _refresh(client):
    body = {
        "output": "..systems.children...tiles.children...banner.children...clock.children...sources.children..",
        "outputs": [{"id": i, "property": "children"} for i in ("systems", "tiles", "banner", "clock", "sources")],
        "inputs": [{"id": "tick", "property": "n_intervals", "value": 1}],
        "changedPropIds": ["tick.n_intervals"],
    }
    resp = client.post("/_dash-update-component", data=orjson.dumps(body), content_type="application/json")
    assert resp.status_code == 200, resp.data[:500]
    return resp.get_data(as_text=True)


def test_the_wall_page_serves_every_system_from_the_database(test_settings, db):
    db.execute(
        """INSERT INTO health_window (time, window_s, system, endpoint, probes, probes_ok, requests, errors,
                                      latency_hist, last_event)
           VALUES (date_trunc('minute', now()), 60, 'lgsp', '*', 6, 0, 10, 10, %s, now())
           ON CONFLICT DO NOTHING""",
        (sketch.from_values([100] * 10),),
    )
    app = create_app(test_settings)
    client = app.server.test_client()
    page = client.get("/")
    assert page.status_code == 200 and b"IOC" in page.data
    out = _refresh(client)
    for system in PROVINCE.systems:
        assert system.name in out, system.code
    assert "Mất kết nối" in out  # lgsp is down
    assert "0.00%" in out  # its uptime over 24 h: every probe failed
    assert "Phản ánh hiện trường" in out and "Im lặng" in out  # every feed listed; none has sent data

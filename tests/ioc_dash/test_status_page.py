"""The public status page: rendering, the cache, and /status of the real app on the run's database
(no sign-in, nothing internal on it, ETag and 304)."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from agents.indicators import status_page as sp
from flask import Flask

from ioc_dash import status_page
from ioc_dash.metrics import DashMetrics
from streams.core.geography import load_province
from ioc_dash.app import create_app
from ioc_dash.status_page import PageCache, duration, percent, render
from streams.core.clock import LOCAL_TZ
from streams.core.errors import ConfigError, SinkUnavailable

NOW = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)
CONFIG = sp.StatusPageConfig((sp.PublicService("dvc", "Cổng dịch vụ công tỉnh", "Province public-service portal"),
                              sp.PublicService("callcenter", "Tổng đài 1022", "1022 call centre")), days=90)


def page(outages=(), maintenance=(), minutes=None, health=None) -> sp.StatusPage:
    readings = sp.Readings(minutes or {"dvc": {date(2026, 11, 19): (1430, 10)}},
                           health or {"dvc": "ok", "callcenter": "down"}, list(outages), list(maintenance))
    return sp.build(CONFIG, readings, now=NOW, tz=LOCAL_TZ)


def test_figures_in_each_language():
    assert percent(0.99999, "vi") == "99,99 %" and percent(0.99999, "en") == "99.99%"  # never rounded up to 100
    assert percent(1.0, "vi") == "100 %" and percent(0.5, "en") == "50%" and percent(None, "vi") == "—"
    assert duration(timedelta(minutes=42), "vi") == "42 phút"
    assert duration(timedelta(hours=1, minutes=42, seconds=20), "en") == "1 h 42 min"
    assert duration(timedelta(days=3, hours=5), "vi") == "3 ngày 5 giờ"
    assert duration(timedelta(hours=2), "vi") == "2 giờ" and duration(timedelta(hours=2), "en") == "2 h"


def test_the_page_in_vietnamese_and_in_english():
    outage = ("dvc", NOW - timedelta(days=2), NOW - timedelta(days=2) + timedelta(minutes=42))
    vi = render(page([outage]), CONFIG, "vi", 30)
    assert 'lang="vi"' in vi and 'name="viewport"' in vi
    assert "Cổng dịch vụ công tỉnh" in vi and "Gián đoạn" in vi and "Hoạt động bình thường" in vi
    assert "Một số dịch vụ đang gián đoạn" in vi and "42 phút" in vi
    assert vi.count('class="bar ') == 180 and vi.count('class="bar no_data"') == 179  # 90 days × 2, one day of data
    assert "99,3 % thời gian hoạt động trong 90 ngày" in vi  # 1430 of 1440 minutes
    en = render(page([outage]), CONFIG, "en", 30)
    assert 'lang="en"' in en and "Province public-service portal" in en and "Service disruption" in en
    assert "Cổng dịch vụ công tỉnh" not in en and "Gián đoạn dịch vụ" not in en


def test_an_ongoing_outage_and_upcoming_maintenance():
    html = render(page([("callcenter", NOW - timedelta(minutes=7), None)],
                       [(None, NOW + timedelta(days=1), NOW + timedelta(days=1, hours=2))]), CONFIG, "vi", 30)
    assert "đang diễn ra" in html and "Bảo trì sắp tới" in html and html.count("Bảo trì sắp tới") == 2


def test_text_from_the_configuration_is_escaped():
    config = sp.StatusPageConfig((sp.PublicService("dvc", "<script>x</script>", "e"),), days=3)
    html = render(sp.build(config, sp.Readings({}, {}, [], []), now=NOW, tz=LOCAL_TZ), config, "vi", 30)
    assert "<script>" not in html and "&lt;script&gt;" in html


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_cache_computes_once_per_period_whatever_the_threads():
    clock, calls = Clock(), []
    cache = PageCache(lambda: calls.append(1) or len(calls), 30, clock)
    start = threading.Barrier(50)
    got: list[tuple[int | None, bool]] = []

    def ask() -> None:
        start.wait()
        got.append(cache.get())

    threads = [threading.Thread(target=ask) for _ in range(50)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and {v for v, _ in got} == {1} and sum(not hit for _, hit in got) == 1
    clock.now = 29.9
    assert cache.get() == (1, True)
    clock.now = 30
    assert cache.get() == (2, False) and len(calls) == 2


def test_a_failed_read_keeps_the_previous_page_for_a_period():
    clock, results = Clock(), [1, SinkUnavailable("down"), SinkUnavailable("down"), 4]

    def compute():
        value = results.pop(0)
        if isinstance(value, Exception):
            raise value
        return value

    cache = PageCache(compute, 10, clock)
    assert cache.get() == (1, False)
    clock.now = 10
    assert cache.get() == (1, False) and cache.failures == 1
    clock.now = 19  # not tried again for every visitor
    assert cache.get() == (1, True) and len(results) == 2
    clock.now = 20
    assert cache.get() == (1, False)
    clock.now = 30
    assert cache.get() == (4, False)


def test_no_page_before_the_first_read_succeeds():
    cache = PageCache(lambda: (_ for _ in ()).throw(SinkUnavailable("down")), 10, Clock())
    assert cache.get() == (None, False)


# --- /status of the app, on a database of this module's own -------------------------------------
# (other tests of the run leave maintenance windows of every system: the page would show them too)


@pytest.fixture(scope="module")
def own_dsn(test_settings):
    from tests.support import own_database

    with own_database(test_settings, "status") as settings:
        yield settings.dsn


@pytest.fixture
def db(own_dsn):
    import psycopg

    with psycopg.connect(own_dsn, autocommit=True) as conn:
        yield conn


@pytest.fixture
def web_settings(web_settings, own_dsn):
    from pydantic import SecretStr

    return web_settings.model_copy(update={"database_url": SecretStr(own_dsn)})

SECRET_IP = "10.20.30.41"
SECRET_HOST = "dvc-db01.kiengiang.internal"


@pytest.fixture
def seeded(db, undo):
    """A local day 40 days ago of dvc: 1,380 minutes up and 60 down, an outage alert over those 60
    minutes whose texts name an address, a host and a rule; maintenance of every system the day
    before, and tomorrow."""
    today = datetime.now(LOCAL_TZ).date()
    yesterday = today - timedelta(days=40)
    start = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=LOCAL_TZ).astimezone(timezone.utc)
    db.execute("""INSERT INTO health_window (system, endpoint, window_s, time, probes, probes_ok, requests, errors,
                                            latency_hist, last_event)
                  SELECT 'dvc', '*', 60, %s + make_interval(mins => m), 6, CASE WHEN m < 60 THEN 0 ELSE 6 END, 0, 0,
                         '{}'::int[], %s + make_interval(mins => m)
                  FROM generate_series(0, 1439) AS m
                  ON CONFLICT DO NOTHING""", (start, start))
    undo("DELETE FROM health_window WHERE system = 'dvc' AND time >= %s AND time < %s", start, start + timedelta(days=1))
    alert = db.execute(
        """INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, resolved_at, summary_vi, summary_en,
                              labels, acknowledged_by)
           VALUES ('system_unavailable', 'dvc', 'critical', 'resolved', %s, %s, %s, %s, %s, %s, 'nguyen.van.a')
           RETURNING id""",
        (start, start + timedelta(seconds=30), start + timedelta(minutes=60),
         f"dvc không trả lời tại {SECRET_IP} ({SECRET_HOST}/api/hoso), rule system_unavailable",
         f"dvc down at {SECRET_IP} ({SECRET_HOST}/api/hoso)", f'{{"endpoint": "/api/hoso", "ip": "{SECRET_IP}"}}'),
    ).fetchone()[0]
    undo("DELETE FROM alert WHERE id = %s", alert)
    windows = []
    for s, e in ((start - timedelta(days=1), start - timedelta(days=1) + timedelta(hours=2)),
                 (start + timedelta(days=41), start + timedelta(days=41, hours=1))):
        wid = db.execute("INSERT INTO maintenance_window (system, starts_at, ends_at, reason, created_by) "
                         "VALUES (NULL, %s, %s, %s, 'tran.thi.b') RETURNING id",
                         (s, e, f"nâng cấp máy chủ {SECRET_HOST}")).fetchone()[0]
        db.execute("INSERT INTO maintenance_occurrence (window_id, system, starts_at, ends_at) VALUES (%s, NULL, %s, %s)",
                   (wid, s, e))
        windows.append(wid)
    undo("DELETE FROM maintenance_window WHERE id = ANY(%s)", windows)
    return yesterday


@pytest.fixture
def client(web_settings):
    return create_app(web_settings).server.test_client()


LEAKS = (SECRET_IP, SECRET_HOST, "system_unavailable", "/api/hoso", "nguyen.van.a", "tran.thi.b", "nâng cấp",
         "dvc", "callcenter", "critical", "127.0.0.1")


def test_status_without_sign_in_and_nothing_internal_on_it(client, seeded):
    for lang in ("vi", "en"):
        resp = client.get(f"/status?lang={lang}")
        assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
        html = resp.get_data(as_text=True)
        assert [leak for leak in LEAKS if leak in html] == []
        assert "set-cookie" not in {k.lower() for k in resp.headers.keys()}
        assert resp.headers["Content-Language"] == lang
    vi = client.get("/status").get_data(as_text=True)
    assert f'data-day="{seeded.isoformat()}" title="{seeded:%d/%m/%Y}: 95,83 % thời gian hoạt động"' in vi
    assert 'class="bar fair"' in vi
    assert "Gián đoạn dịch vụ" in vi and "1 giờ<" in vi
    assert vi.count("Bảo trì theo kế hoạch") == 2 and vi.count("Bảo trì sắp tới") == 2  # each window, both services


def test_etag_304_and_one_read_per_period(client, seeded):
    view = client.application.extensions["ioc_status_page"]
    first = client.get("/status")
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, max-age=30" and first.headers["ETag"]
    again = client.get("/status", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == first.headers["ETag"]
    en = client.get("/status?lang=en", headers={"If-None-Match": first.headers["ETag"]})
    assert en.status_code == 200 and en.headers["ETag"] != first.headers["ETag"]
    reads = view.metrics.status_reads.labels("ok")._value.get()
    assert reads == 1
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'ioc_dash_status_page_requests_total{answer="not_modified"} 1.0' in metrics
    assert "ioc_dash_status_page_cache_hits_total 2.0" in metrics
    assert 'ioc_dash_requests_total{code="304",kind="status"} 1.0' in metrics


def test_the_console_is_still_behind_the_sign_in(client):
    assert client.get("/console").status_code == 302


def test_no_database_yet_is_503_not_kept_by_anyone(web_settings):
    def down() -> status_page.Rendered:
        raise SinkUnavailable("cannot read the status page: connection refused")

    server = Flask(__name__)
    view = status_page.install(server, web_settings, load_province(web_settings.province_file), DashMetrics(),
                               read=down)
    resp = server.test_client().get("/status?lang=en")
    assert resp.status_code == 503 and resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Retry-After"] == "30" and "Please try again" in resp.get_data(as_text=True)
    assert "connection refused" not in resp.get_data(as_text=True)
    assert view.metrics.status_requests.labels("unavailable")._value.get() == 1


def test_a_system_the_province_lacks_stops_the_start(web_settings, tmp_path):
    path = tmp_path / "status.yaml"
    path.write_text("services:\n  - {system: cong-ttdt, name: {vi: a, en: b}}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"services\[0\]\.system: 'cong-ttdt' is not a system"):
        status_page.install(Flask(__name__), web_settings.model_copy(update={"status_page_file": path}),
                            load_province(web_settings.province_file), DashMetrics())

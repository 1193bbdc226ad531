"""/status of a real ``ioc dash`` process: 90 days of minutes in the run's database, the page in
Chromium at 1920×1080 and on a phone (.run/screenshots/status/), and a flood of visitors on loopback
(2,000 requests from 50 clients: every answer 200 or 304, the database read once per period)."""
from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from streams.core.clock import LOCAL_TZ
from tests.ioc_dash.browser import SCREENSHOTS, Browser, running_dash
from tests.ioc_dash.phone import SMALL_TEXT_JS, Phone

OUT = SCREENSHOTS / "status"
CLIENTS, PER_CLIENT = 50, 40

MINUTES = """
INSERT INTO health_window (system, endpoint, window_s, time, probes, probes_ok, requests, errors, latency_hist,
                           last_event)
SELECT %(system)s, '*', 60, t, 6,
       CASE WHEN EXISTS (SELECT 1 FROM unnest(%(down_from)s::timestamptz[], %(down_to)s::timestamptz[]) d(a, b)
                         WHERE t >= d.a AND t < d.b) THEN 0 ELSE 6 END,
       0, 0, '{}'::int[],
       -- the newest minutes seen "in a while" still, so the state now is not stale however long the start takes
       CASE WHEN t > now() - interval '2 minutes' THEN now() + interval '10 minutes' ELSE t + interval '59 seconds' END
FROM generate_series(%(since)s, now(), interval '1 minute') AS t
WHERE NOT (t >= %(gap_from)s AND t < %(gap_to)s)
ON CONFLICT DO NOTHING
"""


def local(days_ago: int, hour: int = 0, minute: int = 0) -> datetime:
    day = datetime.now(LOCAL_TZ).date() - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(timezone.utc)


@pytest.fixture(scope="module")
def history(test_settings):
    """dvc: 89 days and today, five days without data, outages 40, 12 and 3 days ago; callcenter:
    the last 30 days, a short outage 5 days ago, an outage alert firing now; maintenance of every
    system 20 days ago and tomorrow evening."""
    import psycopg

    since = local(89)
    with psycopg.connect(test_settings.dsn, autocommit=True) as db:
        db.execute(MINUTES, {"system": "dvc", "since": since, "gap_from": local(70), "gap_to": local(65),
                             "down_from": [local(40, 9), local(12, 10), local(3, 8)],
                             "down_to": [local(40, 10), local(12, 10, 15), local(3, 13)]})
        db.execute(MINUTES, {"system": "callcenter", "since": local(29), "gap_from": since, "gap_to": since,
                             "down_from": [local(5, 14)], "down_to": [local(5, 14, 30)]})
        alerts = [db.execute(
            "INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, resolved_at, summary_vi, summary_en) "
            "VALUES ('system_unavailable', %s, 'critical', %s, %s, %s, %s, %s, %s) RETURNING id",
            (system, state, start, start + timedelta(seconds=30), end, "máy chủ 10.20.30.41 không trả lời",
             "host 10.20.30.41 does not answer")).fetchone()[0]
            for system, state, start, end in (("dvc", "resolved", local(3, 8), local(3, 13)),
                                              ("dvc", "resolved", local(40, 9), local(40, 10)),
                                              ("callcenter", "firing", datetime.now(timezone.utc) - timedelta(minutes=12),
                                               None))]
        windows = [db.execute("INSERT INTO maintenance_window (starts_at, ends_at, reason) VALUES (%s, %s, 'máy chủ db01') "
                              "RETURNING id", (s, e)).fetchone()[0]
                   for s, e in ((local(20, 2), local(20, 4)), (local(-1, 22), local(-1, 23)))]
        db.execute("INSERT INTO maintenance_occurrence (window_id, starts_at, ends_at) "
                   "SELECT id, starts_at, ends_at FROM maintenance_window WHERE id = ANY(%s)", (windows,))
        try:
            yield
        finally:
            db.execute("DELETE FROM alert WHERE id = ANY(%s)", (alerts,))
            db.execute("DELETE FROM maintenance_window WHERE id = ANY(%s)", (windows,))
            db.execute("DELETE FROM health_window WHERE system IN ('dvc', 'callcenter') AND window_s = 60 "
                       "AND endpoint = '*' AND time >= %s", (since,))


@pytest.fixture(scope="module")
def dash(test_settings, tmp_path_factory, history):
    with running_dash(test_settings, tmp_path_factory) as server:
        yield server


def get(url: str, etag: str | None = None) -> tuple[int, str | None, bytes]:
    req = urllib.request.Request(url, headers={"If-None-Match": etag} if etag else {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("ETag"), resp.read()
    except urllib.error.HTTPError as exc:  # urllib raises on 304 too
        return exc.code, exc.headers.get("ETag"), exc.read()


def metric(base: str, name: str) -> float:
    _, _, body = get(f"{base}/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines() if line.startswith(name))


def test_the_page_in_chromium_without_sign_in(dash):
    OUT.mkdir(parents=True, exist_ok=True)
    browser = Browser("status")
    try:
        browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                       {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        browser.get(f"{dash.base}/status")
        browser.wait_text("Cổng dịch vụ công tỉnh An Giang", "#status-page")
        assert browser.driver.current_url.endswith("/status")  # not sent to /login
        assert browser.find("#service-1").get_attribute("data-state") == "operational"
        assert browser.find("#service-2").get_attribute("data-state") == "outage"
        assert browser.find("#status-summary").text.startswith("Một số dịch vụ đang gián đoạn")
        kinds = [b.get_attribute("class") for b in browser.all("#service-1 .bar")]
        assert len(kinds) == 90 and kinds.count("bar no_data") == 5 and "bar bad" in kinds
        assert [b.get_attribute("class") for b in browser.all("#service-2 .bar")].count("bar no_data") == 60
        assert "10.20.30.41" not in browser.text() and "db01" not in browser.text()
        assert browser.driver.execute_script("return document.documentElement.scrollWidth") <= 1920
        assert browser.driver.execute_script(SMALL_TEXT_JS, "#status-page", 20) == []  # as the wall's rule
        browser.driver.save_screenshot(str(OUT / "status-vi-1920x1080.png"))
        browser.get(f"{dash.base}/status?lang=en")
        browser.wait_text("An Giang public-service portal", "#status-page")
        browser.driver.save_screenshot(str(OUT / "status-en-1920x1080.png"))
    finally:
        browser.close()


def test_the_page_on_a_phone(dash):
    phone = Phone((412, 915))
    try:
        phone.get(f"{dash.base}/status")
        phone.wait_text("Tổng đài tiếp nhận phản ánh 1022", "#status-page")
        phone.check_fits("#status-page")
        shown = phone.driver.execute_script(
            "return [...document.querySelectorAll('#service-1 .bar')].filter(e => e.getClientRects().length).length")
        assert shown == 30  # a phone shows the last 30 days
        phone.driver.save_screenshot(str(OUT / "status-vi-412x915.png"))
        height = phone.driver.execute_script("return document.documentElement.scrollHeight")
        phone.resize((412, height))
        phone.driver.save_screenshot(str(OUT / "status-vi-412-full.png"))
    finally:
        phone.close()


def test_a_flood_of_visitors(dash):
    url = f"{dash.base}/status"
    assert get(url)[0] == 200
    reads_before, t0 = metric(dash.base, 'ioc_dash_status_page_reads_total{outcome="ok"}'), time.monotonic()

    def visitor(i: int) -> list[tuple[int, float]]:
        out, etag = [], None
        for _ in range(PER_CLIENT):
            start = time.perf_counter()
            code, tag, _ = get(url + ("?lang=en" if i % 5 == 0 else ""), etag if i % 2 else None)
            out.append((code, time.perf_counter() - start))
            etag = tag or etag
        return out

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = [a for batch in pool.map(visitor, range(CLIENTS)) for a in batch]
    elapsed = time.monotonic() - t0
    codes = Counter(code for code, _ in answers)
    reads = metric(dash.base, 'ioc_dash_status_page_reads_total{outcome="ok"}') - reads_before
    assert sum(codes.values()) == CLIENTS * PER_CLIENT and set(codes) <= {200, 304}, codes
    assert codes[304] > 0 and codes[200] > 0
    assert reads <= 1 + elapsed // 30, f"{reads} database reads in {elapsed:.1f} s"
    assert elapsed < 30, f"{CLIENTS * PER_CLIENT} requests took {elapsed:.1f} s"
    latencies = sorted(s for _, s in answers)
    figures = {"requests": len(answers), "clients": CLIENTS, "seconds": round(elapsed, 2),
               "per_second": round(len(answers) / elapsed), "codes": dict(codes), "database_reads": reads,
               "p50_ms": round(statistics.median(latencies) * 1000, 1),
               "p95_ms": round(latencies[int(0.95 * len(latencies))] * 1000, 1),
               "p99_ms": round(latencies[int(0.99 * len(latencies))] * 1000, 1),
               "cache_hits": metric(dash.base, "ioc_dash_status_page_cache_hits_total")}
    (SCREENSHOTS.parent / "status_load.json").write_text(json.dumps(figures, indent=1))

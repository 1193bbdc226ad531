"""Service levels of a calendar month from stored windows, maintenance and alerts: the figures,
``ioc sla`` and its CSV, and the console page in Chromium."""
from __future__ import annotations

import csv
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest
from pydantic import SecretStr

from agents.indicators.sla import MEETS, MISSES, UNDETERMINED, load_sla_policy, month_report
from streams.cli.main import main
from streams.core.clock import LOCAL_TZ
from tests.support import ROOT

SEPT = date(2026, 9, 1)
T0 = datetime(2026, 9, 1, tzinfo=LOCAL_TZ)  # 2026-08-31 17:00 UTC
OUTAGE = datetime(2026, 9, 4, 9, 0, tzinfo=LOCAL_TZ)
GAP = datetime(2026, 9, 12, 0, 0, tzinfo=LOCAL_TZ)
HELD = datetime(2026, 9, 20, 22, 0, tzinfo=LOCAL_TZ)
LATER = datetime(2026, 10, 15, tzinfo=timezone.utc)
SHOTS = ROOT / ".run" / "screenshots" / "console"

MINUTES = """
INSERT INTO health_window (time, window_s, system, endpoint, probes, probes_ok, latency_hist)
SELECT t, 60, %(system)s, '*', 6, CASE WHEN t >= %(down_from)s AND t < %(down_to)s THEN 1 ELSE 6 END, '{}'
FROM generate_series(%(since)s::timestamptz, %(until)s::timestamptz - interval '1 minute', interval '1 minute') t
WHERE NOT (t >= %(gap_from)s AND t < %(gap_to)s)
"""


@pytest.fixture(scope="module")
def month_db(test_settings):
    """September 2026 of three systems: dvc down 2 hours (an alert saw it), gis without any stored
    probe for 10 hours, eoffice down 3 hours of which 2 under maintenance; the rest of the month up."""
    from streams.db.scratch import scratch_database
    from tests.conftest import ADMIN_DSN

    with scratch_database(ADMIN_DSN, f"ioc_test_sla_{uuid.uuid4().hex[:8]}") as dsn:
        never = T0 - timedelta(days=1)
        month = {"since": T0, "until": datetime(2026, 10, 1, tzinfo=LOCAL_TZ)}
        with psycopg.connect(dsn, autocommit=True) as conn:
            for system, down, gap in (
                    ("dvc", (OUTAGE, OUTAGE + timedelta(minutes=120)), (never, never)),
                    ("gis", (never, never), (GAP, GAP + timedelta(hours=10))),
                    ("eoffice", (HELD, HELD + timedelta(hours=3)), (never, never))):
                conn.execute(MINUTES, {**month, "system": system, "down_from": down[0], "down_to": down[1],
                                       "gap_from": gap[0], "gap_to": gap[1]})
            (window,) = conn.execute("INSERT INTO maintenance_window (system, starts_at, ends_at, reason) VALUES "
                                     "('eoffice', %s, %s, 'nâng cấp') RETURNING id",
                                     (HELD + timedelta(hours=1), HELD + timedelta(hours=3))).fetchone()
            conn.execute("INSERT INTO maintenance_occurrence (window_id, system, starts_at, ends_at) VALUES "
                         "(%s, 'eoffice', %s, %s)", (window, HELD + timedelta(hours=1), HELD + timedelta(hours=3)))
            (alert,) = conn.execute(
                "INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, resolved_at) VALUES "
                "('system_unavailable', 'dvc', 'critical', 'resolved', %s, %s, %s) RETURNING id",
                (OUTAGE + timedelta(seconds=20), OUTAGE + timedelta(seconds=50), OUTAGE + timedelta(minutes=122))
            ).fetchone()
        yield test_settings.model_copy(update={"database_url": SecretStr(dsn)}), alert


def test_the_month_from_the_database(month_db):
    settings, alert = month_db
    rows = {r.system: r for r in month_report(settings.dsn, SEPT, ["dvc", "gis", "eoffice", "email"],
                                              load_sla_policy(), LOCAL_TZ, LATER)}
    dvc, gis, eoffice, email = rows["dvc"], rows["gis"], rows["eoffice"], rows["email"]
    assert dvc.minutes == 30 * 1440 and (dvc.down, dvc.unknown, dvc.maintenance) == (120, 0, 0)
    assert [(o.start, o.minutes, o.alert_id) for o in dvc.outages] == [(OUTAGE, 120, alert)]
    assert dvc.verdict == MISSES and dvc.availability == pytest.approx(1 - 120 / 43_200)  # 99.72 % < 99.8 %
    assert gis.unknown == 600 and gis.down == 0 and gis.availability == 1.0 and gis.verdict == UNDETERMINED
    assert (eoffice.down, eoffice.maintenance) == (60, 120) and eoffice.verdict == MEETS
    assert email.unknown == 43_200 and email.availability is None



def test_ioc_sla_prints_the_month_and_writes_csv(month_db, tmp_path, capsys):
    settings, alert = month_db
    assert main(["sla", "--month", "2026-09", "--database-url", settings.dsn]) == 0
    out = capsys.readouterr().out
    assert "service levels 2026-09 (Asia/Ho_Chi_Minh), 43200 minutes so far" in out
    assert f"outage 2026-09-04 09:00 – 11:00 (120 min, alert #{alert})" in out
    path = tmp_path / "sla.csv"
    assert main(["sla", "--month", "2026-09", "--csv", str(path), "--database-url", settings.dsn]) == 0
    rows = {r["system"]: r for r in csv.DictReader(path.open(encoding="utf-8-sig"))}
    assert rows["dvc"]["verdict"] == "misses" and rows["dvc"]["down"] == "120" and rows["dvc"]["outages"] == "1"
    assert rows["gis"]["no_data"] == "600" and rows["gis"]["verdict"] == "undetermined"
    assert rows["eoffice"]["maintenance"] == "120" and rows["eoffice"]["verdict"] == "meets"
    assert rows["email"]["verdict"] == "no_data" and rows["email"]["availability"] == ""
    assert main(["sla", "--month", "09/2026", "--database-url", settings.dsn]) == 1
    assert "InputError: month: '09/2026' is not a month (YYYY-MM)" in capsys.readouterr().err


def test_the_console_page_in_chromium(month_db):
    from tests.ioc_dash.screens import console_as

    settings, alert = month_db
    settings = settings.model_copy(update={"dash_session_key": SecretStr("s" * 40)})
    with console_as(settings, "viewer", "sla") as (base, browser):
        browser.get(f"{base}/console/sla?month=2026-09")
        browser.wait_text("Mức độ dịch vụ (SLA) tháng 09/2026", timeout=30)
        dvc = browser.text("#sla-dvc")
        assert "99,80%" in dvc or "99.80%" in dvc, dvc
        assert "2 giờ 00 phút" in dvc and "Không đạt" in dvc, dvc
        assert "Chưa xác định (thiếu dữ liệu)" in browser.text("#sla-gis")
        assert "10 giờ 00 phút" in browser.text("#sla-gis")
        assert "Đạt" in browser.text("#sla-eoffice") and "2 giờ 00 phút" in browser.text("#sla-eoffice")
        outages = browser.text("#sla-outages")
        assert f"#{alert}" in outages and "09:00 04/09/2026" in outages and "11:00 04/09/2026" in outages
        SHOTS.mkdir(parents=True, exist_ok=True)
        browser.driver.save_screenshot(str(SHOTS / "sla-1920x1080.png"))
        browser.find(f"a[href='/console/alert?id={alert}']")  # the outage links to the alert that saw it
        browser.find("a[href='/console/sla?month=2026-08']").click()  # the month before
        browser.wait_text("Mức độ dịch vụ (SLA) tháng 08/2026", timeout=30)
        browser.wait_text("Không có dữ liệu", "#sla-dvc")
        browser.get(f"{base}/console/sla?month=2026-13")
        browser.wait_text("month: '2026-13' is not a month (YYYY-MM)", "#sla-error", timeout=30)

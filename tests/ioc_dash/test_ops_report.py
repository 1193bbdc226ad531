"""The operations report of a day and a month, from a database of its own: the figures read back from
the PDF's text and the XLSX's cells equal the database's, the archive keeps and serves the files, the
schedule makes what is due once, and the console lists and makes them."""
from __future__ import annotations

import subprocess
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg
import pytest
from openpyxl import load_workbook
from pydantic import SecretStr

from agents.indicators.ops_report import last_complete, parse_period, period_of
from agents.indicators.rollup_store import rebuild
from streams.cli.main import main
from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError
from tests.ioc_dash.conftest import console_app, dash_call
from tests.support import ROOT

DAY = date(2026, 11, 10)
T0 = datetime(2026, 11, 10, tzinfo=LOCAL_TZ)
SHOTS = ROOT / ".run" / "screenshots" / "reports"


def test_periods():
    assert period_of("week", date(2026, 12, 2)).first == date(2026, 11, 30)  # a Wednesday: its Monday
    assert period_of("week", date(2026, 12, 2)).label == "2026-W49"
    assert last_complete("week", date(2026, 12, 2)).label == "2026-W48"
    assert last_complete("month", date(2026, 12, 1)).label == "2026-11"
    assert last_complete("day", date(2026, 12, 1)).label == "2026-11-30"
    assert parse_period("week", "2026-W48").first == date(2026, 11, 23)
    assert parse_period("week", "2026-11-29").label == "2026-W48"
    assert parse_period("month", "2026-02").last == date(2026, 2, 28)
    since, until = parse_period("day", "2026-11-10").bounds(LOCAL_TZ)
    assert since == datetime(2026, 11, 9, 17, tzinfo=timezone.utc) and until - since == timedelta(days=1)
    for kind, text, words in (("month", "11/2026", "month '11/2026' is not a month (YYYY-MM)"),
                              ("day", "2026-11-31", "day '2026-11-31' is not a day (YYYY-MM-DD)"),
                              ("year", "2026", "report kind 'year': one of day, week, month")):
        with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
            parse_period(kind, text)


SEED = [
    # dvc answered every probe of the day but 30 minutes; gis stored no probe from 20:00
    """INSERT INTO health_window (time, window_s, system, endpoint, probes, probes_ok, latency_hist)
       SELECT t, 60, s, '*', 6, CASE WHEN s = 'dvc' AND t >= %(t0)s + interval '9 hours'
                                      AND t < %(t0)s + interval '9 hours 30 minutes' THEN 0 ELSE 6 END, '{}'
       FROM generate_series(%(t0)s::timestamptz, %(t0)s::timestamptz + interval '1 day' - interval '1 minute',
                            interval '1 minute') t, unnest(ARRAY['dvc', 'gis']) s
       WHERE s = 'dvc' OR t < %(t0)s + interval '20 hours'""",
    """INSERT INTO security_window (time, window_s, entity, type, severity, layer, events, blocked) VALUES
       (%(t0)s + interval '3 hours', 60, '203.0.113.9', 'AuthFailure', 'medium', 1, 1200, 1150),
       (%(t0)s + interval '4 hours', 60, 'dvc', 'WafBlock', 'high', 2, 34, 34),
       (%(t0)s + interval '5 hours', 60, 'ncsc', 'IdsAlert', 'critical', 4, 2, 0)""",
    """INSERT INTO source_window (time, source, received, accepted, duplicates, rejected) VALUES
       (%(t0)s + interval '1 hour', 'health', 1000, 980, 10, 10)""",
    """INSERT INTO dossier_day (time, unit_code, level, channel, online_kind, received, resolved_early,
       resolved_on_time, resolved_late, online, full_process) VALUES
       (%(t0)s, '30787', 'commune', 'online', 'full_process', 40, 10, 20, 5, 25, 10)""",
    """INSERT INTO citizen_day (time, category, unit_code, received) VALUES (%(t0)s, 'traffic', '899', 15)""",
    """INSERT INTO citizen_agency_day (time, agency, responded, responded_late, ratings, rating_sum, satisfied,
       response_minutes_hist) VALUES (%(t0)s, 'so-xd', 12, 2, 10, 42, 8, '{}')""",
]


@pytest.fixture(scope="module")
def report_db(test_settings):
    from streams.db.scratch import scratch_database
    from tests.conftest import ADMIN_DSN

    with scratch_database(ADMIN_DSN, f"ioc_test_rep_{uuid.uuid4().hex[:8]}") as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            for statement in SEED:
                conn.execute(statement, {"t0": T0})
        rebuild(dsn, T0, T0 + timedelta(days=1), LOCAL_TZ)
        yield test_settings.model_copy(update={"database_url": SecretStr(dsn)})


def pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_day_report_reads_back_from_the_pdf_and_the_xlsx(report_db, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["report", "make", "day", "2026-11-10", "--lang", "vi,en", "--out", str(out),
                 "--database-url", report_db.dsn]) == 0
    printed = capsys.readouterr().out
    assert printed.count(" -> ") == 4 and printed.count("#") == 4

    text = " ".join(pdf_text(out / "ioc-report-2026-11-10-vi.pdf").split())
    assert "Báo cáo vận hành ngày" in text and "Ngày 10/11/2026" in text
    assert "Sự kiện an toàn thông tin 1 236" in text  # 1200 + 34 + 2
    assert "Hồ sơ tiếp nhận 40" in text and "Hồ sơ giải quyết đúng hạn 85,7 %" in text  # 30 of 35
    assert "Phản ánh tiếp nhận 15" in text and "Mức độ hài lòng 80,0 %" in text  # 8 of 10
    assert "Số lần gián đoạn 1" in text
    # dvc: 30 minutes down of 1,440 (97.92 %), gis: 4 hours without data, never counted as up
    assert "97,92 %" in text and "30 phút" in text and "4 giờ 00 phút" in text
    assert "Lớp 1: tại chỗ 1 200 1 150" in text and "Lớp 4: giám sát quốc gia 2 0" in text
    assert "health 1 000 99,00 % 98,99 % 10" in text
    english = " ".join(pdf_text(out / "ioc-report-2026-11-10-en.pdf").split())
    assert "Daily operations report" in english and "Security events 1,236" in english

    book = load_workbook(out / "ioc-report-2026-11-10-vi.xlsx")
    summary = {row[0].value: row[1].value for row in book["Tóm tắt"].iter_rows(min_row=6) if row[0].value}
    with psycopg.connect(report_db.dsn) as conn:
        events = conn.execute("SELECT sum(events) FROM security_day WHERE day = %s", (DAY,)).fetchone()[0]
        received = conn.execute("SELECT sum(received) FROM dossier_day").fetchone()[0]
    assert summary["Sự kiện an toàn thông tin"] == events == 1236
    assert summary["Hồ sơ tiếp nhận"] == received == 40
    assert summary["Hồ sơ giải quyết đúng hạn"] == pytest.approx(30 / 35)
    systems = {r[0].value: [c.value for c in r] for r in book["Hệ thống"].iter_rows(min_row=4) if r[0].value}
    assert systems["Cổng dịch vụ công tỉnh"][2] == pytest.approx(1 - 30 / 1440)
    assert systems["Cổng dịch vụ công tỉnh"][4] == 30  # minutes down
    assert systems["Hệ thống thông tin địa lý (GIS)"][5] == 240  # minutes without data
    assert book["Hệ thống"]._charts and book["An toàn thông tin"]._charts

    SHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(out / "ioc-report-2026-11-10-vi.pdf"),
                    str(SHOTS / "ops-day-vi")], check=True)
    assert (SHOTS / "ops-day-vi-1.png").exists()

    assert main(["report", "list", "--database-url", report_db.dsn]) == 0
    listed = capsys.readouterr().out
    assert listed.count("2026-11-10") == 4 and "command line" in listed


def test_the_schedule_makes_what_is_due_once_and_queues_the_mail(report_db, capsys):
    settings = {"IOC_REPORT_RECEIVER": "lanh-dao"}
    import os
    old = {k: os.environ.get(k) for k in settings}
    os.environ.update(settings)
    try:
        assert main(["report", "due", "--database-url", report_db.dsn]) == 0
        first = capsys.readouterr().out
        assert main(["report", "due", "--database-url", report_db.dsn]) == 0
        second = capsys.readouterr().out
    finally:
        for k, v in old.items():
            os.environ.pop(k) if v is None else os.environ.__setitem__(k, v)
    assert first.count(".pdf") == 3 and "e-mail to lanh-dao queued" in first  # a day, a week, a month
    assert "every report due is archived already" in second
    with psycopg.connect(report_db.dsn) as conn:
        rows = conn.execute("SELECT receiver, channel, payload FROM notification_outbox WHERE alert_id IS NULL "
                            "ORDER BY id").fetchall()
    assert [(r, c) for r, c, _ in rows] == [("lanh-dao", "email")] * 3
    subjects = [p["message"]["subject"] for _, _, p in rows]
    assert subjects[0].startswith("[IOC] Báo cáo vận hành ngày · Ngày ")
    assert "/console/reports/file?id=" in rows[0][2]["message"]["body"]


def test_the_console_lists_serves_and_makes_reports(report_db, users, uniq):
    from tests.ioc_dash.conftest import PASSWORD, client_for, login

    settings = report_db.model_copy(update={"dash_session_key": SecretStr("r" * 40)})
    from ioc_dash.auth.store import UserStore
    from tests.ioc_dash.conftest import FAST_PASSWORDS

    store = UserStore(settings.dsn, FAST_PASSWORDS)
    app = console_app(settings, store)
    names = {role: uniq(role) for role in ("viewer", "operator")}
    for role, name in names.items():
        store.add_user(name, role, PASSWORD, actor="t")
    viewer, operator = client_for(app), client_for(app)
    assert login(viewer, names["viewer"]).status_code == 302 and login(operator, names["operator"]).status_code == 302

    made = dash_call(operator, app, "..reports-result.children...reports-list.children..",
                     {"reports-make.n_clicks": 1, "reports-kind.value": "month", "reports-period.value": "2026-11",
                      "reports-lang.value": "en", "console-lang.data": "vi"}, "reports-make.n_clicks")
    assert made.status_code == 200, made.get_data(as_text=True)[:500]
    body = made.get_data(as_text=True)
    assert "ioc-report-2026-11-en.pdf" in body and "ioc-report-2026-11-en.xlsx" in body
    with psycopg.connect(settings.dsn) as conn:
        report_id, by = conn.execute("SELECT id, generated_by FROM report_archive WHERE period = '2026-11' "
                                     "AND lang = 'en' AND format = 'pdf' ORDER BY id DESC LIMIT 1").fetchone()
    assert by == names["operator"]
    got = viewer.get(f"/console/reports/file?id={report_id}")
    assert got.status_code == 200 and got.data.startswith(b"%PDF") and got.mimetype == "application/pdf"
    assert viewer.get("/console/reports/file?id=999999").status_code == 404
    assert viewer.get("/console/reports/file?id=x").status_code == 400
    refused = dash_call(viewer, app, "..reports-result.children...reports-list.children..",
                        {"reports-make.n_clicks": 1, "reports-kind.value": "day", "reports-period.value": "2026-11-10",
                         "reports-lang.value": "vi", "console-lang.data": "vi"}, "reports-make.n_clicks")
    assert refused.status_code == 403
    bad = dash_call(operator, app, "..reports-result.children...reports-list.children..",
                    {"reports-make.n_clicks": 1, "reports-kind.value": "month", "reports-period.value": "11/2026",
                     "reports-lang.value": "vi", "console-lang.data": "vi"}, "reports-make.n_clicks")
    said = bad.get_json()["response"]["reports-result"]["children"]["props"]
    assert said == {"children": "month '11/2026' is not a month (YYYY-MM)", "id": "reports-error",
                    "className": "console-error"}


def test_the_reports_page_in_chromium(report_db):
    from agents.indicators.report_archive import ReportArchive
    from tests.ioc_dash.screens import console_as

    settings = report_db.model_copy(update={"dash_session_key": SecretStr("p" * 40)})
    ReportArchive(settings.dsn).save(parse_period("week", "2026-W46"), "vi", "pdf", b"%PDF-1.7 ...", "schedule")
    with console_as(settings, "operator", "reports") as (base, browser):
        browser.get(f"{base}/console/reports")
        browser.wait(lambda: browser.all("#reports-table tbody tr"), timeout=30, what="the archive")
        assert "2026-W46" in browser.text("#reports-table") and "Lập ngay" in browser.text("#reports-make")
        assert "tự động" in browser.text("#reports-table")
        (ROOT / ".run" / "screenshots" / "console").mkdir(parents=True, exist_ok=True)
        browser.driver.save_screenshot(str(ROOT / ".run" / "screenshots" / "console" / "reports-1920x1080.png"))
        href = browser.find("#reports-table a").get_attribute("href")
        assert "/console/reports/file?id=" in href

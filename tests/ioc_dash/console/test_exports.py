"""The audit trails downloaded from the console: admins only, the days asked for and no others,
bad ranges a clear 400."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import psycopg

from streams.core.clock import LOCAL_TZ
from tests.ioc_dash.conftest import client_for, login


def read(resp) -> list[dict[str, str]]:
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def an_alert_with_events(dsn, entity, *times):
    with psycopg.connect(dsn, autocommit=True) as conn:
        (alert_id,) = conn.execute(
            "INSERT INTO alert (rule, entity, severity, state, started_at, fired_at, resolved_at) VALUES "
            "('system_unavailable', %s, 'critical', 'resolved', %s, %s, %s) RETURNING id",
            (entity, times[0], times[0], times[-1])).fetchone()  # resolved: the run's engine never picks it up
        for i, at in enumerate(times):
            conn.execute("INSERT INTO alert_event (alert_id, at, kind, actor, detail) VALUES (%s, %s, %s, %s, "
                         "%s::jsonb)", (alert_id, at, "fired" if i == 0 else "acknowledged",
                                        "system" if i == 0 else "=cmd|' /C calc'!A0", '{"n": %d}' % i))
    return alert_id


def test_admins_download_the_alert_history_of_the_days_they_ask(app, signed_in, web_settings, uniq):
    admin = signed_in("admin")
    entity = uniq("sys")
    day = datetime(2026, 3, 10, tzinfo=LOCAL_TZ)
    inside = [day + timedelta(minutes=1), day + timedelta(hours=23, minutes=59)]
    outside = [day - timedelta(seconds=1), day + timedelta(days=1)]
    alert_id = an_alert_with_events(web_settings.dsn, entity, *inside, *outside)

    resp = admin.get("/console/export/alerts.csv?from=2026-03-10&to=2026-03-10")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert 'filename="alert-history-2026-03-10-2026-03-10.csv"' in resp.headers["Content-Disposition"]
    mine = [r for r in read(resp) if r["entity"] == entity]
    assert [r["at"] for r in mine] == [t.isoformat(timespec="seconds") for t in inside]
    assert {r["alert_id"] for r in mine} == {str(alert_id)}
    assert mine[0]["rule"] == "system_unavailable" and mine[0]["kind"] == "fired" and mine[0]["detail"] == '{"n":0}'
    assert mine[1]["actor"].startswith("'=cmd")  # a spreadsheet shows it, never runs it

    both_days = read(admin.get("/console/export/alerts.csv?from=2026-03-09&to=2026-03-11"))
    assert len([r for r in both_days if r["entity"] == entity]) == 4


def test_sign_ins_and_changes_are_exported_too(app, signed_in, users, uniq):
    admin = signed_in("admin")
    today = datetime.now(LOCAL_TZ).date().isoformat()
    stranger = uniq("=nobody")
    assert login(client_for(app), stranger, "wrong").status_code in (200, 401)
    added = uniq("viewer")
    users.add_user(added, "viewer", "a-long-enough-password-1", actor=admin.name)

    signins = read(admin.get(f"/console/export/signins.csv?from={today}&to={today}"))
    assert {"'" + stranger: "unknown_user", admin.name: "ok"}.items() <= {
        r["username"]: r["outcome"] for r in signins}.items()
    changes = read(admin.get(f"/console/export/changes.csv?from={today}&to={today}"))
    assert any(r["subject"] == added and r["actor"] == admin.name for r in changes), changes[-3:]


def test_only_admins_and_clear_errors(app, signed_in):
    for role in ("viewer", "operator"):
        assert signed_in(role).get("/console/export/alerts.csv?from=2026-01-01&to=2026-01-02").status_code == 403
    assert client_for(app).get("/console/export/alerts.csv?from=2026-01-01&to=2026-01-02").status_code in (302, 401)
    admin = signed_in("admin")
    cases = {"/console/export/alerts.csv?from=2026-01-05&to=2026-01-01": "ends (2026-01-01) before it starts",
             "/console/export/alerts.csv?to=2026-01-01": "from: missing: give a day",
             "/console/export/signins.csv?from=2026-01-01&to=soon": "to: 'soon' is not a day",
             "/console/export/passwords.csv?from=2026-01-01&to=2026-01-01": "unknown audit trail 'passwords'"}
    for url, words in cases.items():
        resp = admin.get(url)
        assert resp.status_code == 400 and words in resp.get_data(as_text=True), (url, resp.get_data(as_text=True))


def test_the_users_page_offers_the_three_exports():
    from ioc_dash.console.users import exports

    form = exports("vi").children[2]
    buttons = [c for c in form.children if getattr(c, "formAction", None)]
    assert [b.formAction for b in buttons] == [f"/console/export/{n}.csv" for n in ("alerts", "signins", "changes")]
    assert [b.children for b in buttons] == ["Lịch sử cảnh báo", "Lượt đăng nhập", "Thay đổi người dùng và cấu hình"]
    assert form.method == "GET"
    days = [label.children[1] for label in form.children[:2]]
    assert [d.name for d in days] == ["from", "to"]
    assert (datetime.fromisoformat(days[1].value) - datetime.fromisoformat(days[0].value)).days == 29

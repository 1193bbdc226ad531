"""/console/quiet: operators add and end silences by matcher and maintenance windows, audited; viewers see
them and the server refuses their callbacks."""
from datetime import datetime, timedelta

import pytest

from streams.core.clock import LOCAL_TZ
from tests.ioc_dash.conftest import dash_call

PAGE = "page.children"
SILENCE, MAINT = "quiet-silence-msg.children", "quiet-maint-msg.children"


def page(c, app):
    r = dash_call(c, app, PAGE, {"url.pathname": "/console/quiet", "url.search": "?lang=en"}, "url.pathname")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def silence(c, app, button="quiet-add-silence", **fields):
    values = {f"{button}.n_clicks": 1, "console-lang.data": "en", "quiet-rule.value": "*", "quiet-for.value": "2h",
              **{f"quiet-{k}.value": v for k, v in fields.items()}}
    return dash_call(c, app, SILENCE, values, f"{button}.n_clicks")


def window(c, app, button="quiet-add-window", **fields):
    values = {f"{button}.n_clicks": 1, "console-lang.data": "en", "quiet-system.value": "", "quiet-days.value": [],
              "quiet-at.value": "01:00", "quiet-minutes.value": 120,
              **{f"quiet-{k}.value": v for k, v in fields.items()}}
    return dash_call(c, app, MAINT, values, f"{button}.n_clicks")


def test_an_operator_silences_by_matcher_and_declares_maintenance(app, signed_in, db, uniq):
    op = signed_in("operator")
    assert "quiet-add-silence" in page(op, app)
    pattern = f"{uniq('cam')}-*"
    r = silence(op, app, rule="camera_offline", entity=pattern, label="team=camera", comment="thay cáp quang")
    assert r.status_code == 200 and "added" in r.get_data(as_text=True)
    row = db.execute("SELECT id, rule, entity, labels, created_by, ends_at - starts_at FROM alert_silence "
                     "WHERE entity = %s", (pattern,)).fetchone()
    assert row[1:5] == ("camera_offline", pattern, {"team": "camera"}, op.name) and row[5] == timedelta(hours=2)
    assert "whole centre" in silence(op, app, entity="", comment="x").get_data(as_text=True)
    assert "comment" in silence(op, app, entity=pattern, comment="").get_data(as_text=True)
    assert f"Silence {row[0]} ended" in silence(op, app, "quiet-end-silence", **{"end-id": row[0]}).get_data(as_text=True)
    assert "No silence" in silence(op, app, "quiet-end-silence", **{"end-id": row[0]}).get_data(as_text=True)

    start = (datetime.now(LOCAL_TZ) + timedelta(days=1)).replace(second=0, microsecond=0)
    reason = uniq("nâng cấp")
    r = window(op, app, system="gis", start=start.strftime("%Y-%m-%d %H:%M"),
               end=(start + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"), reason=reason)
    assert "declared" in r.get_data(as_text=True)
    w = db.execute("SELECT id, system, starts_at, ends_at, created_by FROM maintenance_window WHERE reason = %s",
                   (reason,)).fetchone()
    assert w[1] == "gis" and w[2] == start and w[3] == start + timedelta(hours=3) and w[4] == op.name
    weekly = uniq("sao lưu")
    assert "declared" in window(op, app, days=["sun"], at="02:00", minutes=90, reason=weekly).get_data(as_text=True)
    assert db.execute("SELECT recurrence FROM maintenance_window WHERE reason = %s", (weekly,)).fetchone()[0] == \
        {"days": ["sun"], "start": "02:00", "minutes": 90}
    for bad, message in (({"start": "tomorrow", "end": "x", "reason": "r"}, "write the time"),
                         ({"start": start.strftime("%Y-%m-%d %H:%M"), "end": start.strftime("%Y-%m-%d %H:%M"),
                           "reason": "r"}, "end must come after"),
                         ({"system": "nowhere", "reason": "r"}, "Choose a system"),
                         ({"days": ["sun"], "at": "25:99", "reason": "r"}, "maintenance rule")):
        assert message in window(op, app, **bad).get_data(as_text=True), bad
    assert f"{w[0]} deleted" in window(op, app, "quiet-delete-window", **{"delete-id": w[0]}).get_data(as_text=True)
    audit = db.execute("SELECT kind FROM auth_event WHERE actor = %s ORDER BY id", (op.name,)).fetchall()
    assert [k for (k,) in audit] == ["silence_added", "silence_ended", "maintenance_added", "maintenance_added",
                                     "maintenance_deleted"]
    shown = page(op, app)
    assert weekly in shown and "weekly on Sun, 02:00, 90 minutes" in shown


def test_a_viewer_sees_the_lists_and_cannot_change_them(app, signed_in, db):
    viewer = signed_in("viewer")
    shown = page(viewer, app)
    assert "quiet-read-only" in shown and "quiet-add-silence" not in shown
    assert silence(viewer, app, rule="camera_offline", entity="cam-x", comment="x").status_code == 403
    assert window(viewer, app, reason="r", days=["sun"]).status_code == 403

"""The console through Flask's test client: pages by role, actions audited, refusals on the server."""
import json
import sys

import pytest

from ioc_dash.console import jobs
from agents.alerting.store import AlertStore
from tests.ioc_dash.conftest import client_for, dash_call
from tests.support import wait_for

PAGE = "page.children"
LIST = "..console-alerts.children...console-f-rule.options.."
ACT = "..console-action-result.children...console-alert-version.data.."
DETAIL = "..console-alert-detail.children...console-alert-history.children.."
CONTROL, STATUS = "console-job-msg.children", "..console-job-status.children...console-job-output.children.."


def page(c, app, path, search=""):
    r = dash_call(c, app, PAGE, {"url.pathname": path, "url.search": search}, "url.pathname")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def act(c, app, alert_id, button="console-ack", **fields):
    values = {f"{button}.n_clicks": 1, "console-alert-loc.search": f"?id={alert_id}", "console-lang.data": "en",
              **{f"console-{k}.value": v for k, v in fields.items()}}
    return dash_call(c, app, ACT, values, f"{button}.n_clicks")


def test_an_operator_acts_and_every_action_is_in_the_history(app, signed_in, test_settings, uniq, firing):
    alert_id = firing(uniq("it-dvc"))
    op = signed_in("operator")
    assert "console-ack" in page(op, app, "/console/alert", f"?id={alert_id}")
    r = act(op, app, alert_id, comment="đang xử lý")
    assert r.status_code == 200 and f"Done: Acknowledge alert {alert_id}." in r.get_data(as_text=True)
    assert "Enter whom to assign" in act(op, app, alert_id, "console-assign").get_data(as_text=True)
    act(op, app, alert_id, "console-assign", assignee="ky-thuat-2")
    act(op, app, alert_id, "console-comment-btn", comment="đã gọi nhà cung cấp")
    assert "Bad time" in act(op, app, alert_id, "console-silence", until="soon").get_data(as_text=True)
    act(op, app, alert_id, "console-silence", until="2h")
    act(op, app, alert_id, "console-resolve", comment="xong")
    store = AlertStore(test_settings.dsn)
    a = store.fetch("SELECT * FROM alert WHERE id = %s", (alert_id,))[0]
    assert a["acknowledged_by"] == op.name and a["assigned_to"] == "ky-thuat-2" and a["state"] == "resolved"
    history = [(e["kind"], e["actor"]) for e in store.history(alert_id)]
    assert history[2:] == [(k, op.name) for k in ("acknowledged", "assigned", "commented", "silenced",
                                                  "resolved_by_operator")]
    shown = dash_call(op, app, DETAIL, {"console-alert-loc.search": f"?id={alert_id}", "console-lang.data": "en"},
                      "console-alert-loc.search").get_data(as_text=True)
    assert "Resolved by an operator" in shown and "comment: đã gọi nhà cung cấp" in shown
    assert "is <b>down</b>" in json.dumps(json.loads(shown), ensure_ascii=False)  # event text as a plain string
    assert "cannot acknowledged" in act(op, app, alert_id).get_data(as_text=True)  # resolved: refused, said so


def test_a_viewer_sees_no_buttons_and_the_server_refuses_the_callback(app, signed_in, test_settings, uniq,
                                                                      firing):
    entity = uniq("it-gis")
    alert_id = firing(entity)
    viewer = signed_in("viewer")
    detail = page(viewer, app, "/console/alert", f"?id={alert_id}")
    assert "console-ack" not in detail and "console-read-only" in detail
    assert act(viewer, app, alert_id).status_code == 403
    a = AlertStore(test_settings.dsn).fetch("SELECT * FROM alert WHERE id = %s", (alert_id,))[0]
    assert a["acknowledged_by"] is None
    listed = dash_call(viewer, app, LIST, {"console-f-state.value": ["firing"], "console-f-entity.value": entity,
                                           "console-lang.data": "vi"}, "console-f-entity.value")
    assert listed.status_code == 200 and f"alert-row-{alert_id}" in listed.get_data(as_text=True)
    assert "console-forbidden" in page(viewer, app, "/console/drills")


def test_an_admin_starts_and_follows_a_drill_others_cannot(app, signed_in, users, monkeypatch):
    monkeypatch.setattr(jobs, "IOC", [sys.executable, "-c", "import sys; print('ran', *sys.argv[1:])"])
    app.server.extensions["ioc_drills"] = [("dvc-ddos", "dvc-ddos (5 min)")]
    app.server.extensions["ioc_jobs"] = jobs.JobRunner({})
    op = signed_in("operator")
    assert "console-forbidden" in page(op, app, "/console/drills")
    assert dash_call(op, app, CONTROL, {"console-start-drill.n_clicks": 1, "console-drill.value": "dvc-ddos"},
                     "console-start-drill.n_clicks").status_code == 403
    admin = signed_in("admin")
    assert "console-start-drill" in page(admin, app, "/console/drills")
    refused = dash_call(admin, app, CONTROL, {"console-start-drill.n_clicks": 1, "console-drill.value": "../x",
                                              "console-lang.data": "en"}, "console-start-drill.n_clicks")
    assert "choose a drill" in refused.get_data(as_text=True)
    r = dash_call(admin, app, CONTROL, {"console-start-drill.n_clicks": 1, "console-drill.value": "dvc-ddos",
                                        "console-drill-speed.value": 60, "console-lang.data": "en"},
                  "console-start-drill.n_clicks")
    assert "drill dvc-ddos" in r.get_data(as_text=True)

    def status():
        return dash_call(admin, app, STATUS, {"console-lang.data": "en"}).get_data(as_text=True)

    out = wait_for(lambda: (s := status()) and "exit code 0" in s and s, timeout=10, what="the drill to end")
    assert "ran drill dvc-ddos --speed 60" in out and admin.name in out
    assert [e["kind"] for e in users.events(20) if e["actor"] == admin.name][0] == "drill_started"
    assert "console-users-table" in page(admin, app, "/console/users")


def test_the_drill_page_has_the_recording_field_without_recordings(app, signed_in, web_settings):
    assert not web_settings.recordings_dir.exists()  # a fresh install
    html = page(signed_in("admin"), app, "/console/drills")
    assert '"id":"console-recording"' in html.replace(" ", "") and "console-no-recordings" in html


def test_drill_runs_and_the_after_action_review_with_its_csv(app, signed_in, test_settings, uniq):
    from datetime import datetime, timedelta, timezone

    from agents.alerting.drillstore import DrillStore

    drills = DrillStore(test_settings.dsn)
    t0 = datetime.now(timezone.utc) - timedelta(minutes=10)
    by = uniq("drill-admin")
    run_id = drills.register(scenario="dvc-ddos", run="r", title_vi="Tấn công DDoS", title_en="DDoS", started_at=t0,
                             ends_at=t0 + timedelta(minutes=5), started_by=by, speed=1.0,
                             expected=[{"rule": "system_unavailable", "entity": "dvc"}], targets=["dvc"],
                             steps=[{"at": 90, "for": 90, "what": "force health dvc down", "note": ""}])
    drills.finish(run_id, "done", t0 + timedelta(minutes=5),
                  signals=[{"says_vi": "dvc ngừng", "says_en": "dvc down", "ok": False, "observed": "3"}])
    viewer = signed_in("viewer")

    def said(output, values):  # what the callback's output says, "/" unescaped
        return json.dumps(dash_call(viewer, app, output, values).get_json(), ensure_ascii=False)
    runs = said("drill-runs.children", {"console-lang.data": "en"})
    assert f"/console/drills/run?id={run_id}" in runs and by in runs
    one = said("drill-run.children", {"drill-run-loc.search": f"?id={run_id}", "console-lang.data": "en"})
    assert "Detected 0 of 1 promised alerts" in one and "missed" in one and "force health dvc down" in one
    missing = said("drill-run.children", {"drill-run-loc.search": "?id=999999999", "console-lang.data": "en"})
    assert "no drill run 999999999" in missing
    r = viewer.get(f"/console/drills/run.csv?id={run_id}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f'filename="drill-run-{run_id}.csv"' in r.headers["Content-Disposition"]
    body = r.get_data(as_text=True)
    assert body.startswith(f"\ufeffdrill_run,{run_id},dvc-ddos") and "system_unavailable,dvc,yes" in body
    assert viewer.get("/console/drills/run.csv?id=x").status_code == 400
    assert viewer.get("/console/drills/run.csv?id=999999999").status_code == 404
    assert client_for(app).get(f"/console/drills/run.csv?id={run_id}").status_code in (302, 401)  # signed in only

"""The console through Flask's test client: pages by role, actions audited, refusals on the server."""
import json
import sys

import pytest

from ioc_dash.console import jobs
from streams.sinks.alertstore import AlertStore
from tests.ioc_dash.conftest import PASSWORD, client_for, console_app, dash_call, login
from tests.support import wait_for

PAGE = "page.children"
LIST = "..console-alerts.children...console-f-rule.options.."
ACT = "..console-action-result.children...console-alert-version.data.."
DETAIL = "..console-alert-detail.children...console-alert-history.children.."
CONTROL, STATUS = "console-job-msg.children", "..console-job-status.children...console-job-output.children.."


@pytest.fixture
def app(web_settings, users):
    return console_app(web_settings, users)


@pytest.fixture
def signed_in(app, users, uniq):
    def make(role):
        name = uniq(role)
        users.add_user(name, role, PASSWORD, actor="t")
        c = client_for(app)
        assert login(c, name).status_code == 302
        c.name = name
        return c
    return make


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
    assert "resolved_by_operator" in shown and "comment: đã gọi nhà cung cấp" in shown
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

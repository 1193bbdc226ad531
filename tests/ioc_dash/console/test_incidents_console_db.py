"""Incidents and the shift handover through the dashboard (Flask's test client, the real database):
actions audited with who, refusals on the server, the report's fields against the database."""
import json
from datetime import datetime

import pytest

from agents.alerting.incidentstore import IncidentStore
from streams.core.clock import LOCAL_TZ
from tests.ioc_dash.conftest import client_for, console_app, dash_call, wall_client

PAGE = "page.children"
DETAIL = "..incident-detail.children...incident-alerts.children...incident-timeline.children.."
ACT = "..incident-action-result.children...incident-version.data.."
LIST = "incidents-list.children"
ALERT = "..console-alert-detail.children...console-alert-history.children.."
ORG = "Sở Thông tin và Truyền thông tỉnh Kiên Giang"


@pytest.fixture
def app(web_settings, users):
    """The console (``signed_in`` of conftest.py signs in to it) with a reporting organisation set."""
    settings = web_settings.model_copy(update={"report_org": ORG, "report_phone": "0297 3 000 000"})
    return console_app(settings, users)


@pytest.fixture
def incident_of(test_settings, db):
    """``incident_of(alert id) -> incident row``; the incidents are deleted after the test."""
    store, seen = IncidentStore(test_settings.dsn), []

    def get(alert_id):
        row = store.incident_of(alert_id)
        assert row is not None, f"alert {alert_id} is in no incident"
        seen.append(row["id"])
        return store.incident(row["id"])
    yield get
    db.execute("DELETE FROM incident WHERE id = ANY(%s)", (seen,))


def said(client, app, output, values, triggered=None):
    r = dash_call(client, app, output, values, triggered)
    assert r.status_code == 200, r.status_code
    return json.dumps(r.get_json(), ensure_ascii=False)


def page(c, app, path, search=""):
    return said(c, app, PAGE, {"url.pathname": path, "url.search": search}, "url.pathname")


def act(c, app, incident_id, button, **fields):
    values = {f"{button}.n_clicks": 1, "incident-loc.search": f"?id={incident_id}", "console-lang.data": "en",
              **{f"incident-{k}.value": v for k, v in fields.items()}}
    return dash_call(c, app, ACT, values, f"{button}.n_clicks")


def test_an_operator_takes_and_notes_an_incident_a_viewer_cannot(app, signed_in, test_settings, uniq, firing,
                                                                 incident_of, db):
    alert_id = firing(uniq("inc-dvc"))
    incident = incident_of(alert_id)
    op = signed_in("operator")
    assert "incident-take" in page(op, app, "/console/incident", f"?id={incident['id']}")
    r = act(op, app, incident["id"], "incident-take")
    assert r.status_code == 200 and f"Done: Take ownership, incident {incident['id']}." in r.get_data(as_text=True)
    assert "Enter a note" in act(op, app, incident["id"], "incident-note-btn", note="  ").get_data(as_text=True)
    act(op, app, incident["id"], "incident-note-btn", note="Đã gọi <b>VNPT</b> Kiên Giang")
    closing = act(op, app, incident["id"], "incident-close", closing="xong").get_data(as_text=True)
    assert "not resolved" in closing  # its alert still fires

    store = IncidentStore(test_settings.dsn)
    assert store.incident(incident["id"])["owner"] == op.name
    audit = db.execute("SELECT kind, actor, detail FROM incident_event WHERE incident_id = %s AND actor <> 'system' "
                       "ORDER BY id", (incident["id"],)).fetchall()
    assert [(k, a) for k, a, _ in audit] == [("owner_taken", op.name), ("note", op.name)]
    assert audit[1][2] == {"text": "Đã gọi <b>VNPT</b> Kiên Giang"}  # stored as typed

    shown = said(op, app, DETAIL, {"incident-loc.search": f"?id={incident['id']}", "console-lang.data": "vi"},
                 "incident-loc.search")
    assert "Đã gọi <b>VNPT</b> Kiên Giang" in shown and "Nhận phụ trách" in shown  # a text, never markup
    assert f"/console/alert?id={alert_id}" in shown and "Phát cảnh báo" in shown  # its alert and the alert's events
    listed = said(op, app, LIST, {"console-lang.data": "en"})
    assert f"incident-row-{incident['id']}" in listed and op.name in listed
    # the alert's page links to its incident
    alert_page = said(op, app, ALERT, {"console-alert-loc.search": f"?id={alert_id}", "console-lang.data": "en"},
                      "console-alert-loc.search")
    assert f"/console/incident?id={incident['id']}" in alert_page and "Part of incident" in alert_page

    viewer = signed_in("viewer")
    detail = page(viewer, app, "/console/incident", f"?id={incident['id']}")
    assert "incident-take" not in detail and "incident-read-only" in detail
    assert act(viewer, app, incident["id"], "incident-take").status_code == 403  # a forged callback
    assert act(viewer, app, incident["id"], "incident-note-btn", note="x").status_code == 403
    assert store.incident(incident["id"])["owner"] == op.name
    assert db.execute("SELECT count(*) FROM incident_event WHERE incident_id = %s AND actor = %s",
                      (incident["id"], viewer.name)).fetchone()[0] == 0
    assert viewer.get(f"/console/incident/report?id={incident['id']}").status_code == 200  # reading is viewing
    wall = wall_client(app, test_settings)  # a wall screen reads, never acts
    assert "incident-read-only" in page(wall, app, "/console/incident", f"?id={incident['id']}")
    assert act(wall, app, incident["id"], "incident-take").status_code == 403
    assert "handover-read-only" in page(wall, app, "/console/handover")
    assert client_for(app).get(f"/console/incident/report?id={incident['id']}").status_code in (302, 401)


def _key(app, prefix):
    return next(k for k in app.callback_map if k.startswith(prefix))


def _ack(client, app, handover_id, version=0):
    """The browser's request when the acknowledge button of one handover is pressed (a pattern id)."""
    key = _key(app, "..handover-ack-result.children")
    button = {"index": handover_id, "type": "handover-ack"}
    outs = [o.rsplit(".", 1) for o in key.strip(".").split("...")]
    body = {"output": key, "outputs": [{"id": i, "property": p} for i, p in outs],
            "inputs": [[{"id": button, "property": "n_clicks", "value": 1}]],
            "state": [{"id": "handover-version", "property": "data", "value": version},
                      {"id": "console-lang", "property": "data", "value": "en"}],
            "changedPropIds": [json.dumps(button, separators=(",", ":"), sort_keys=True) + ".n_clicks"]}
    return client.post("/_dash-update-component", json=body)


def test_a_handover_written_by_one_operator_acknowledged_by_another(app, signed_in, uniq, firing, incident_of, db):
    alert_id = firing(uniq("inc-gis"))
    incident = incident_of(alert_id)
    day, night, viewer = signed_in("operator"), signed_in("operator"), signed_in("viewer")
    form = page(day, app, "/console/handover", "?lang=vi")
    assert "handover-save" in form and night.name in form and f"Sự cố #{incident['id']}" in form  # pre-filled
    save = _key(app, "..handover-result.children")
    refused = said(day, app, save, {"handover-save.n_clicks": 1, "handover-to.value": "nobody-here",
                                    "handover-notes.value": "x", "console-lang.data": "en"}, "handover-save.n_clicks")
    assert "Choose whom the shift goes to" in refused
    ok = said(day, app, save, {"handover-save.n_clicks": 1, "handover-to.value": night.name,
                               "handover-notes.value": "Theo dõi sự cố GIS; đã báo nhà cung cấp.",
                               "console-lang.data": "en"}, "handover-save.n_clicks")
    row = db.execute("SELECT id, written_by, handed_to, notes, snapshot, acknowledged_by FROM shift_handover "
                     "WHERE written_by = %s", (day.name,)).fetchone()
    assert f"Handover {row[0]} to {night.name} saved" in ok
    assert row[1:4] == (day.name, night.name, "Theo dõi sự cố GIS; đã báo nhà cung cấp.") and row[5] is None
    assert alert_id in [a["id"] for a in row[4]["alerts"]] and incident["id"] in [i["id"] for i in row[4]["incidents"]]

    listed = said(night, app, "handover-list.children", {"console-lang.data": "en"})
    assert f"handover-{row[0]}" in listed and "Not acknowledged" in listed and '"handover-ack"' in listed
    mine = said(day, app, "handover-list.children", {"console-lang.data": "en"})
    assert f"handover-{row[0]}" in mine and '"handover-ack"' not in mine  # no button on one's own handover
    assert _ack(viewer, app, row[0]).status_code == 403  # read only
    assert "yours" in _ack(day, app, row[0]).get_data(as_text=True)  # forged: the writer cannot
    r = _ack(night, app, row[0])
    assert r.status_code == 200 and f"Handover {row[0]} acknowledged" in r.get_data(as_text=True)
    assert db.execute("SELECT acknowledged_by FROM shift_handover WHERE id = %s", (row[0],)).fetchone()[0] == night.name
    assert "already" in _ack(signed_in("admin"), app, row[0]).get_data(as_text=True)
    audit = db.execute("SELECT actor, kind FROM auth_event WHERE subject = %s AND kind LIKE 'handover_%%' ORDER BY id",
                       (f"handover:{row[0]}",)).fetchall()
    assert audit == [(day.name, "handover_written"), (night.name, "handover_acknowledged")]
    assert "acknowledged by " + night.name in said(viewer, app, "handover-list.children", {"console-lang.data": "en"})
    assert "handover-read-only" in page(viewer, app, "/console/handover")
    db.execute("DELETE FROM shift_handover WHERE id = %s", (row[0],))


def _local(ts):
    return ts.astimezone(LOCAL_TZ).isoformat(timespec="seconds")


def test_the_report_says_what_the_database_holds(app, signed_in, test_settings, uniq, firing, incident_of):
    alert_id = firing(uniq("inc-lgsp"))
    incident = incident_of(alert_id)
    op = signed_in("operator")
    store = IncidentStore(test_settings.dsn)
    store.take(incident["id"], op.name)
    store.note(incident["id"], op.name, "Chuyển sang đường truyền dự phòng")
    r = op.get(f"/console/incident/report?id={incident['id']}")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert f'filename="incident-{incident["id"]}.json"' in r.headers["Content-Disposition"]
    doc = r.get_json()
    row, alerts, entries = store.incident(incident["id"]), store.alerts(incident["id"]), store.timeline(incident["id"])
    assert doc["reporter"]["organisation"] == ORG and doc["reporter"]["phone"] == "0297 3 000 000"
    assert doc["reference"] == f"IOC-91-INC-{row['id']}" and doc["basis"] == "20/2017/TT-BTTTT"
    got = doc["incident"]
    assert (got["id"], got["title"], got["severity"], got["state"], got["owner"]) == \
        (row["id"], row["title"], row["severity"], row["state"], op.name)
    assert got["severity_vi"] == "Nghiêm trọng" and got["state_vi"] == "Đang xử lý"
    assert got["detected_at"] == _local(min(a["fired_at"] for a in alerts))
    assert got["first_signs_at"] == _local(min(a["started_at"] for a in alerts))
    assert [a["id"] for a in doc["alerts"]] == [a["id"] for a in alerts]
    assert [s["code"] for s in doc["affected"]] == list(dict.fromkeys(a["entity"] for a in alerts))
    assert [(e["at"], e["kind"], e["actor"]) for e in doc["timeline"]] == [(_local(e.at), e.kind, e.actor)
                                                                             for e in entries]
    assert [(m["action"], m["by"], m["text_vi"]) for m in doc["measures"]] == [
        ("owner_taken", op.name, ""), ("note", op.name, "Chuyển sang đường truyền dự phòng")]
    assert alerts[0]["summary_vi"] in doc["description"]

    printable = op.get(f"/console/incident/report?id={incident['id']}&format=html")
    text = printable.get_data(as_text=True)
    assert printable.mimetype == "text/html" and "BÁO CÁO SỰ CỐ" in text and "20/2017/TT-BTTTT" in text
    assert ORG in text and "Chuyển sang đường truyền dự phòng" in text and "Thời điểm phát hiện" in text
    assert datetime.fromisoformat(got["detected_at"]).strftime("%H:%M:%S %d/%m/%Y") in text
    pdf = op.get(f"/console/incident/report?id={incident['id']}&format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert op.get(f"/console/incident/report?id={incident['id']}&format=doc").status_code == 400
    assert op.get("/console/incident/report?id=999999999999").status_code == 404

from datetime import timedelta

from agents.alerting.payload import build_payload
from agents.alerting.notify.alertmanager import label_name, resend_batch, to_alertmanager
from tests.notify.conftest import T0, alert_row

URL = "http://wall.ioc/alerts/{id}"
MARGIN = timedelta(minutes=4)
NOW = T0 + timedelta(minutes=10)


def convert(row, event="firing", now=NOW):
    return to_alertmanager(build_payload(row, event), now=now, margin=MARGIN, url_template=URL)


def test_firing_payload_becomes_a_v2_alert():
    am = convert(alert_row(7))
    assert am["labels"] == {"alertname": "service_unavailable", "entity": "eoffice", "severity": "critical",
                            "team": "noc", "unit_code": "91"}
    assert am["annotations"] == {
        "summary": "eoffice: mức sẵn sàng 82% (ngưỡng 90%)", "summary_en": "eoffice: availability 82% (threshold 90%)",
        "runbook": "http://wall.ioc/runbooks?lang=vi#service-unavailable", "alert_id": "7", "value": "0.82",
    }
    assert am["startsAt"] == T0.isoformat()
    assert am["endsAt"] == (NOW + MARGIN).isoformat()  # resolves by itself if the re-sends stop
    assert am["generatorURL"] == "http://wall.ioc/alerts/7"


def test_resolved_payload_ends_at_resolution():
    am = convert(alert_row(7, state="resolved", resolved_at=T0 + timedelta(minutes=3)), "resolved")
    assert am["endsAt"] == (T0 + timedelta(minutes=3)).isoformat()


def test_rule_labels_never_override_the_core_labels_and_are_made_valid():
    am = convert(alert_row(labels={"severity": "low", "alertname": "x", "2nd": "a", "vùng": "b"}))
    assert am["labels"]["severity"] == "critical" and am["labels"]["alertname"] == "service_unavailable"
    assert am["labels"]["_2nd"] == "a" and am["labels"]["v_ng"] == "b"
    assert label_name("zone-1.a") == "zone_1_a"


def test_acknowledged_alert_carries_who_and_empty_annotations_are_left_out():
    am = convert(alert_row(runbook="", value=None, acknowledged_by="truc.ca"), "acknowledged")
    assert am["annotations"]["acknowledged_by"] == "truc.ca"
    assert "runbook" not in am["annotations"] and "value" not in am["annotations"]


def test_resend_batch_keeps_firing_and_recently_resolved_only():
    rows = [
        alert_row(1, entity="eoffice"),
        alert_row(2, entity="dvc", state="resolved", resolved_at=NOW - timedelta(minutes=5)),
        alert_row(3, entity="gis", state="resolved", resolved_at=NOW - timedelta(minutes=20)),  # too old
        alert_row(4, entity="lgsp", state="pending", fired_at=None),
        alert_row(5, entity="ndxp", state="cancelled", fired_at=None, resolved_at=NOW),
        alert_row(6, entity="baocao", rule="error_rate_high"),
    ]
    batch = resend_batch(rows, now=NOW, resolved_within=timedelta(minutes=15), margin=MARGIN, url_template=URL)
    assert [(a["labels"]["alertname"], a["labels"]["entity"]) for a in batch] == [
        ("error_rate_high", "baocao"), ("service_unavailable", "dvc"), ("service_unavailable", "eoffice")]
    by_entity = {a["labels"]["entity"]: a for a in batch}
    assert by_entity["dvc"]["endsAt"] == (NOW - timedelta(minutes=5)).isoformat()
    assert by_entity["eoffice"]["endsAt"] == (NOW + MARGIN).isoformat()


def test_resend_batch_of_nothing_is_empty():
    assert resend_batch([], now=NOW, resolved_within=timedelta(minutes=15), margin=MARGIN, url_template=URL) == []


def test_a_drill_alert_carries_a_drill_label():
    assert convert(alert_row(7, drill="dvc-ddos", drill_run=3))["labels"]["drill"] == "dvc-ddos"
    assert "drill" not in convert(alert_row(7))["labels"]

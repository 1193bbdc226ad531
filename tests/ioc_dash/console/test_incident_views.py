"""Pure pieces of the incident pages, the handover and the incident report: no Flask, no database."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from agents.alerting.incidents import Entry
from ioc_dash.console.incident_views import (age_text, draft_notes, handover_list, incidents_table, members_table,
                                             timeline_table, user_options)
from ioc_dash.console.incidents import perform
from ioc_dash.reports.incident_report import build, describe, render_html, reporter
from streams.core.geography import load_province
from streams.core.settings import DEFAULT_PROVINCE_FILE

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)
HOSTILE = "<script>alert(1)</script> & \"quotes\""


def text(component) -> str:
    return json.dumps(component.to_plotly_json(), default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def incident(i, state="open", severity="high", **kw):
    return {"id": i, "state": state, "severity": severity, "title": kw.pop("title", f"Sự cố {i}"),
            "opened_at": NOW - timedelta(minutes=kw.pop("ago", 10)), "owner": kw.pop("owner", None),
            "alerts": 2, "open_alerts": 1, **kw}


def test_age_list_and_members():
    assert [age_text(NOW - d, NOW, "vi") for d in (timedelta(minutes=45), timedelta(hours=3, minutes=12),
                                                   timedelta(days=2, hours=4))] == \
        ["45 phút", "3 giờ 12 phút", "2 ngày 4 giờ"]
    table = text(incidents_table([incident(1, "closed", "critical"), incident(2, ago=200, owner="an"),
                                  incident(3, severity="critical")], NOW, "vi"))
    assert table.index("incident-row-3") < table.index("incident-row-2") < table.index("incident-row-1")
    assert "3 giờ 20 phút" in table and "Đang xử lý" in table and "Đã đóng" in table and "1/2" in table
    assert "Chưa có sự cố" in text(incidents_table([], NOW, "vi"))
    members = text(members_table([{"id": 7, "state": "firing", "severity": "high", "entity": "lgsp", "rule": "r",
                                   "summary_vi": "LGSP ngừng", "fired_at": NOW, "reason": "topology",
                                   "related": "datacenter"}], "vi"))
    assert "/console/alert?id=7" in members and "liên quan theo sơ đồ kết nối với datacenter" in members


def test_the_timeline_in_words():
    entries = [Entry(NOW, "incident", "alert_joined", "system", None,
                     {"alert": 9, "rule": "camera_offline", "entity": "cam-1", "reason": "rule",
                      "related": "camera_offline", "severity_from": "medium"}),
               Entry(NOW, "alert", "acknowledged", "an", 9, {"comment": HOSTILE}),
               Entry(NOW, "alert", "silenced", "an", 9, {"until": NOW.isoformat(), "comment": ""}),
               Entry(NOW, "alert", "brand_new_kind", "system", 9, {})]
    assert describe(entries[0], "en") == ("Alert #9 on cam-1 — same rule Camera offline, shortly after"
                                          " — severity raised from Medium")
    assert describe(entries[2], "vi") == "đến 10:00:00 27/11/2026"  # Vietnam time
    shown = text(timeline_table(entries, "vi"))
    assert "Thêm cảnh báo" in shown and "Tiếp nhận" in shown and "Sự kiện khác (brand_new_kind)" in shown
    assert "Hệ thống" in shown and '"system"' not in shown  # no English on a Vietnamese page
    assert "/console/alert?id=9" in shown and HOSTILE.replace('"', '\\"') in shown  # text, never markup


def test_the_handover_pieces():
    snap = {"incidents": [incident(4, owner=None, title="Mất kết nối LGSP")],
            "alerts": [{"id": 11, "rule": "r", "entity": "gis", "severity": "critical", "summary_vi": "GIS ngừng",
                        "summary_en": "GIS down", "acknowledged_by": "binh"}]}
    notes = draft_notes(snap, "vi")
    assert "- Sự cố #4 [Cao] Mất kết nối LGSP — phụ trách: chưa có; cảnh báo mở 1/2" in notes
    assert "- Cảnh báo #11 [Nghiêm trọng] GIS ngừng — binh" in notes
    users = [{"name": "an", "role": "operator", "disabled": False}, {"name": "binh", "role": "admin", "disabled": False},
             {"name": "chi", "role": "viewer", "disabled": False}, {"name": "dung", "role": "operator",
                                                                    "disabled": True}]
    assert [o["value"] for o in user_options(users, "an")] == ["binh"]
    rows = [{"id": 2, "written_by": "an", "handed_to": "binh", "written_at": NOW, "notes": "n", "snapshot": snap,
             "acknowledged_by": None, "acknowledged_at": None},
            {"id": 1, "written_by": "binh", "handed_to": "an", "written_at": NOW - timedelta(hours=8), "notes": "m",
             "snapshot": {}, "acknowledged_by": "an", "acknowledged_at": NOW - timedelta(hours=7)}]
    for_binh = text(handover_list(rows, "binh", True, "vi"))
    assert "Chưa nhận ca" in for_binh and "handover-unacked" in for_binh and for_binh.count('"handover-ack"') == 1
    assert "an đã nhận ca lúc" in for_binh
    assert '"handover-ack"' not in text(handover_list(rows, "an", True, "vi"))  # its writer
    assert '"handover-ack"' not in text(handover_list(rows, "chi", False, "vi"))  # a viewer


class FakeStore:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *a: self.calls.append((name, *a)) or {}


def test_perform_names_what_is_missing():
    s = FakeStore()
    perform(s, "take", 3, "an")
    perform(s, "note", 3, "an", note="gọi VNPT")
    for action, missing in (("note", "con_inc_need_note"), ("rename", "con_inc_need_title"),
                            ("close", "con_inc_need_closing")):
        with pytest.raises(ValueError, match=missing):
            perform(s, action, 3, "an", note=" ", title="", closing="\n")
    assert s.calls == [("take", 3, "an"), ("note", 3, "an", "gọi VNPT")]


def test_the_reporting_organisation(tmp_path):
    province = load_province(DEFAULT_PROVINCE_FILE)
    empty = SimpleNamespace(report_org="", report_org_address="", report_contact="", report_phone="", report_email="")
    assert reporter(empty, province).organisation == "Trung tâm Giám sát, điều hành đô thị thông minh tỉnh An Giang"
    with_block = tmp_path / "province.yaml"
    for before in ("kien_giang.yaml",):  # the province file's predecessor goes with it
        (tmp_path / before).write_bytes((Path(DEFAULT_PROVINCE_FILE).parent / before).read_bytes())
    with_block.write_text(Path(DEFAULT_PROVINCE_FILE).read_text(encoding="utf-8") +
                          "\noperator:\n  name: Trung tâm IOC Kiên Giang\n  email: ioc@kiengiang.gov.vn\n",
                          encoding="utf-8")
    who = reporter(SimpleNamespace(**{**vars(empty), "report_email": "soc@kiengiang.gov.vn"}),
                   load_province(with_block))
    assert (who.organisation, who.email, who.phone) == ("Trung tâm IOC Kiên Giang", "soc@kiengiang.gov.vn", "")


def test_the_printable_report_escapes_and_reads_in_vietnamese():
    province = load_province(DEFAULT_PROVINCE_FILE)
    empty = SimpleNamespace(report_org="", report_org_address="", report_contact="", report_phone="", report_email="")
    inc = {"id": 5, "title": HOSTILE, "severity": "critical", "state": "closed", "opened_at": NOW,
           "resolved_at": NOW, "closed_at": NOW, "closed_by": "an", "closing_note": "Đã thay thiết bị", "owner": "an",
           "drill": None}
    alerts = [{"id": 9, "rule": "system_unavailable", "entity": "dvc", "severity": "critical", "state": "resolved",
               "summary_vi": "Cổng dịch vụ công ngừng", "summary_en": "Portal down", "started_at": NOW,
               "fired_at": NOW, "reason": "opened"}]
    doc = build(inc, alerts, [Entry(NOW, "incident", "closed", "an", None, {"note": "Đã thay thiết bị"})],
                reporter(empty, province), names=province.names(), levels={"dvc": 3}, province_code="91", now=NOW)
    assert doc["affected"] == [{"code": "dvc", "name": "Cổng dịch vụ công tỉnh", "security_level": 3}]
    assert doc["incident"]["detected_at"] == "2026-11-27T10:00:00+07:00"
    page = render_html(doc, "vi")
    assert "<script>" not in page and "&lt;script&gt;" in page
    for words in ("Đơn vị báo cáo", "(chưa khai báo)", "Cấp độ 3", "Đã thay thiết bị", "Đóng sự cố", "10:00:00 27/11/2026"):
        assert words in page, words
    assert "Closing note" in render_html(doc, "en")

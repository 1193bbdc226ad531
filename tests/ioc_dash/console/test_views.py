"""Pure console pieces: filters, parsers, actions with a fake store, components."""
from datetime import datetime, timedelta, timezone

import pytest

from ioc_dash.auth.roles import Principal
from ioc_dash.console.detail import perform
from ioc_dash.console.views import (AlertFilter, alert_card, alerts_table, filter_alerts, fold, history_table, nav,
                                    parse_alert_id, parse_drill_list, parse_until)

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def alert(i, state="firing", severity="high", rule="system_down", entity="dvc", **kw):
    return {"id": i, "state": state, "severity": severity, "rule": rule, "entity": entity,
            "summary_vi": kw.pop("vi", f"{entity} ngập nước"), "summary_en": kw.pop("en", f"{entity} flooded"),
            "labels": kw.pop("labels", {}), "started_at": NOW - timedelta(minutes=i), **kw}


ROWS = [alert(1), alert(2, "pending", "critical", entity="cam-phumy-02"),
        alert(3, "resolved", "low", "water_level", "st-taccau", vi="Mực nước Tắc Cậu"),
        alert(4, severity="critical", rule="brute_force", entity="203.0.113.9", labels={"layer": "2"},
              assigned_to="ky-thuat-2")]


def test_filters_by_state_severity_rule_entity_and_text():
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter())] == [4, 1, 2]  # firing, most severe first
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(states=()))] == [4, 1, 2, 3]
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(severities=("critical",)))] == [4, 2]
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(rules=("brute_force",)))] == [4]
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(entity="PHUMY"))] == [2]
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(states=(), text="muc nuoc tac cau"))] == [3]
    assert [a["id"] for a in filter_alerts(ROWS, AlertFilter(text="ky-thuat"))] == [4]  # the assignee
    assert fold("Đường ngập ở Rạch Giá") == "duong ngap o rach gia"


def test_parsers():
    assert parse_alert_id("?id=42&lang=en") == 42
    assert parse_alert_id("?id=x") is None and parse_alert_id(None) is None
    assert parse_until("2h", NOW) == NOW + timedelta(hours=2)
    assert parse_until("30m", NOW) == NOW + timedelta(minutes=30)
    assert parse_until("2026-11-27 18:00", NOW) == datetime(2026, 11, 27, 11, 0, tzinfo=timezone.utc)  # UTC+7
    for bad, why in (("soon", "neither"), ("2026-11-27 09:00", "not in the future"), ("40d", "30 days")):
        with pytest.raises(ValueError, match=why):
            parse_until(bad, NOW)
    listing = ("dvc-ddos  (5 min)\n  vi: Tấn công DDoS. Sau…\n  en: DDoS on the public-service portal. After…\n"
               "    promises: x\nflood-salinity  (12 min)\n  vi: …\n  en: Rising flood. A storm…\n")
    assert parse_drill_list(listing) == [("dvc-ddos", "dvc-ddos  (5 min) — DDoS on the public-service portal"),
                                         ("flood-salinity", "flood-salinity  (12 min) — Rising flood")]


class FakeStore:
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *a, **kw: self.calls.append((name, a, kw)) or {"id": a[0]}


def test_each_action_goes_to_the_alert_store_with_the_actor():
    store = FakeStore()
    perform(store, "acknowledge", 7, "an", comment=" đang xử lý ")
    perform(store, "assign", 7, "an", assignee="binh")
    perform(store, "comment", 7, "an", comment="gọi nhà cung cấp")
    perform(store, "silence", 7, "an", until="1h", now=NOW)
    perform(store, "silence_resolved", 7, "an")
    perform(store, "resolve", 7, "an", comment="đã khắc phục")
    assert store.calls == [
        ("acknowledge", (7, "an", "đang xử lý"), {}), ("assign", (7, "an", "binh"), {}),
        ("comment", (7, "an", "gọi nhà cung cấp"), {}),
        ("silence", (7, "an"), {"until": NOW + timedelta(hours=1), "comment": ""}),
        ("silence", (7, "an"), {"until_resolved": True, "comment": ""}), ("resolve", (7, "an", "đã khắc phục"), {})]
    for action, key in (("assign", "con_need_assignee"), ("comment", "con_need_comment")):
        with pytest.raises(ValueError, match=key):
            perform(store, action, 7, "an")


def test_components_show_event_text_as_text_and_links_by_role():
    evil = alert(9, vi="<script>alert(1)</script>")
    table = alerts_table([evil], "vi")
    assert "<script>alert(1)</script>" in str(table)  # a text child: React renders it escaped
    assert "dangerously" not in str(table)
    assert "/console/alert?id=9" in str(table)
    hist = history_table([{"at": NOW, "kind": "acknowledged", "actor": "an", "detail": {"comment": "ok"}}], "en")
    assert "comment: ok" in str(hist)
    assert "href='/console/drills'" in str(nav(Principal("ad", "admin"), "vi", "/console/alerts"))
    operator = str(nav(Principal("op", "operator"), "vi", "/console/alerts"))
    assert "href='/console/drills'" not in operator  # starting drills is an admin's
    assert "href='/console/drills/runs'" in operator  # their after-action reviews are for everyone
    assert "console-logout" not in str(nav(Principal("wall:1", "viewer", "wall"), "vi", "/"))


def cells(table) -> dict[str, dict[str, str]]:
    """alert id -> {cell class: text} of an alert list."""
    rows = table.children[1].children[1].children
    return {row.id: {td.className: str(td.children) for td in row.children} for row in rows}


def test_the_list_labels_each_cell_for_the_phone_and_says_how_long_ago():
    table = alerts_table(ROWS, "vi", NOW)
    row = cells(table)["alert-row-4"]
    assert "4 phút trước" in row["al-started num"]  # started four minutes before NOW
    assert row["al-assignee"] == "ky-thuat-2" and row["al-ack ack-cell al-empty"] == "—"
    assert "al-assignee al-empty" in cells(table)["alert-row-1"]  # nobody assigned: hidden on a phone
    labels = {td.className: td.to_plotly_json()["props"]["data-label"]
              for td in table.children[1].children[1].children[0].children}
    assert labels["al-entity"] == "Đối tượng" and labels["al-ack ack-cell al-empty"] == "Tiếp nhận"
    assert "phút trước" not in str(alerts_table(ROWS, "vi"))  # without a time, no age


def test_the_alert_card_keeps_each_label_with_its_value():
    card = alert_card({**alert(5), "value": 0.1, "escalation_level": 1}, "en")
    fields = card.children[1].children
    assert [f.children[0].children for f in fields[:2]] == ["State", "Severity"]
    assert {f.className.split()[1] for f in fields} >= {"con_col_ack", "con_runbook"}
    assert fields[5].children[1].id == "alert-con_col_started"

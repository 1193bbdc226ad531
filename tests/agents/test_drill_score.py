"""The after-action score of a drill run, from plain rows (no database)."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

from agents.indicators.drill_score import duration_text, score, timeline, to_csv

T0 = datetime(2026, 12, 2, 3, 0, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


RUN = {
    "id": 4, "scenario": "dvc-ddos", "title_vi": "Tấn công DDoS", "title_en": "DDoS", "started_at": T0,
    "finished_at": at(300), "status": "done", "started_by": "admin",
    "expected": [{"rule": "system_unavailable", "entity": "dvc"}, {"rule": "system_error_rate", "entity": "dvc"},
                 {"rule": "system_slow", "entity": "dvc"}],
    "steps": [{"at": 60, "for": 150, "what": "inject 1000 health RequestLog/s", "note": "the flood"},
              {"at": 90, "for": 90, "what": "force health dvc down", "note": ""}],
    "signals": [{"says_vi": "tỷ lệ lỗi", "says_en": "error rate", "ok": True, "observed": "41.0% of 9000"},
                {"says_vi": "phép thử", "says_en": "probes", "ok": False, "observed": "12"}],
}


def alert(id_, rule, entity, started, fired=None, acked=None, by=None):
    return {"id": id_, "rule": rule, "entity": entity, "started_at": at(started),
            "fired_at": at(fired) if fired is not None else None,
            "acknowledged_at": at(acked) if acked is not None else None, "acknowledged_by": by}


def test_detect_and_acknowledge_times_per_promised_alert():
    result = score(RUN, [
        alert(11, "system_error_rate", "dvc", 70, fired=100, acked=160, by="truc.ca"),
        alert(12, "system_unavailable", "dvc", 120, fired=150),
    ])
    by = {(a.rule, a.entity): a for a in result.alerts}
    err = by[("system_error_rate", "dvc")]
    assert (err.alert_id, err.detect_s, err.ack_s, err.acknowledged_by) == (11, 100.0, 60.0, "truc.ca")
    down = by[("system_unavailable", "dvc")]
    assert (down.detect_s, down.ack_s, down.missed) == (150.0, None, False)
    slow = by[("system_slow", "dvc")]
    assert slow.missed and slow.detect_s is None and slow.alert_id is None
    # promised ones first, in the scenario's order
    assert [a.rule for a in result.alerts] == ["system_unavailable", "system_error_rate", "system_slow"]
    assert (result.detected, result.acknowledged, result.mean_detect_s) == (2, 1, 125.0)
    assert (result.signals_ok, len(result.signals)) == (1, 2)


def test_a_pending_alert_that_never_fired_is_missed_and_the_first_firing_counts():
    result = score(RUN, [
        alert(20, "system_slow", "dvc", 80),  # went pending, cancelled: not detected
        alert(21, "system_unavailable", "dvc", 95, fired=200, acked=210, by="b"),
        alert(22, "system_unavailable", "dvc", 96, fired=130),  # fired earlier (re-opened after a manual resolve)
    ])
    by = {a.rule: a for a in result.alerts}
    assert by["system_slow"].missed and by["system_slow"].alert_id == 20
    assert by["system_unavailable"].alert_id == 22 and by["system_unavailable"].detect_s == 130.0
    # the acknowledgement is the first one among the alerts of this promise that fired
    assert by["system_unavailable"].ack_s == 80.0


def test_alerts_not_promised_are_listed_as_unexpected():
    result = score(RUN, [alert(30, "critical_security_finding", "dvc", 100, fired=100)])
    extra = [a for a in result.alerts if not a.promised]
    assert [(a.rule, a.missed, a.detect_s) for a in extra] == [("critical_security_finding", False, 100.0)]
    assert result.detected == 0 and len(result.promised) == 3


def test_a_run_without_promises_or_signals_scores_empty():
    result = score({**RUN, "expected": [], "signals": None}, [])
    assert result.alerts == [] and result.signals == [] and result.mean_detect_s is None


def test_timeline_merges_steps_and_alert_events_in_time_order():
    events = [{"alert_id": 12, "at": at(150), "kind": "fired", "actor": "system", "rule": "system_unavailable",
               "entity": "dvc"},
              {"alert_id": 12, "at": at(120), "kind": "pending", "actor": "system", "rule": "system_unavailable",
               "entity": "dvc"},
              {"alert_id": 12, "at": at(170), "kind": "acknowledged", "actor": "truc.ca",
               "rule": "system_unavailable", "entity": "dvc"}]
    entries = timeline(RUN, events)
    assert [(e.offset_s, e.kind) for e in entries] == [(60, "step"), (90, "step"), (120, "pending"), (150, "fired"),
                                                       (170, "acknowledged")]
    assert entries[0].what == "inject 1000 health RequestLog/s (the flood) · 150 s"
    assert entries[-1].what == "#12 system_unavailable dvc · truc.ca"
    stopped = timeline({**RUN, "finished_at": at(75)}, [])  # stopped before its second step began
    assert [e.what.split(" (")[0] for e in stopped] == ["inject 1000 health RequestLog/s"]


def test_csv_has_score_signals_and_timeline_and_no_formulas():
    hostile = alert(40, "system_slow", "=HYPERLINK(\"http://x\")", 10, fired=20)
    result = score(RUN, [alert(11, "system_error_rate", "dvc", 70, fired=100, acked=160, by="@admin"), hostile])
    text = to_csv(RUN, result, timeline(RUN, []))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["drill_run", "4", "dvc-ddos"]
    header = rows[2]
    assert header[:2] == ["rule", "entity"] and "time_to_detect_s" in header
    err = next(r for r in rows if r[:2] == ["system_error_rate", "dvc"])
    assert err[header.index("time_to_detect_s")] == "100" and err[header.index("time_to_acknowledge_s")] == "60"
    assert err[header.index("acknowledged_by")] == "'@admin"
    assert next(r for r in rows if r[:2] == ["system_slow", "dvc"])[-1] == "missed"
    assert any(r[1] == "'=HYPERLINK(\"http://x\")" and r[-1] == "unexpected" for r in rows if len(r) > 1)
    assert ["tỷ lệ lỗi", "error rate", "yes", "41.0% of 9000"] in rows
    assert ["at", "offset_s", "kind", "what"] in rows


def test_duration_text():
    assert [duration_text(x) for x in (None, 0, 59.6, 125, 3725)] == ["", "0:00", "1:00", "2:05", "1:02:05"]

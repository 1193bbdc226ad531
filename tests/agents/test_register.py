"""The security register's logic: parsing, the four layers, obligations, the plan's share, weighting, files."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from agents.alerting.derived import critical_finding_values, register_values
from agents.indicators.queries import register as register_sql
from agents.indicators.register import (DUE, MISSING, OK, Entry, Policy, changed_fields, classified_share, coverage,
                                        from_rows, load_policy, obligation_values, parse_entry, to_rows,
                                        weighted_severity)
from agents.indicators.register_files import csv_bytes, read_rows, xlsx_bytes
from streams.core.errors import ConfigError, InputError

TODAY = date(2026, 12, 2)
FULL = Entry("lgsp", level=3, approval_number="1521/QĐ-UBND", approval_date=date(2023, 6, 20),
             approval_authority="UBND tỉnh", plan_status="approved", live=True, cleared_on=date(2023, 7, 1),
             onsite_users=("an.nv",), onsite_contact="Lê Thị Hồng – 0917 331 208", monitoring_org="SOC tỉnh",
             last_inspection=date(2026, 3, 14), next_inspection=date(2027, 3, 14), inspection_findings=1,
             layer4_connected=True)


def test_typed_values_become_an_entry_and_mistakes_name_the_field():
    e = parse_entry("dvc", {"level": "3", "approval_date": "20/06/2023", "live": "có", "real_data": "no",
                            "onsite_users": "An.NV; binh.tt, an.nv", "plan_status": "Approved",
                            "inspection_findings": "2"})
    assert (e.level, e.approval_date, e.live, e.real_data, e.onsite_users, e.plan_status, e.inspection_findings) == \
        (3, date(2023, 6, 20), True, False, ("an.nv", "binh.tt"), "approved", 2)
    for values, field in (({"level": "6"}, "level"), ({"level": "2.5"}, "level"), ({"approval_date": "2023-13-01"},
                          "approval_date"), ({"live": "maybe"}, "live"), ({"environment": "staging"}, "environment"),
                          ({"inspection_findings": "-1"}, "inspection_findings"), ({"note": "a\x00b"}, "note"),
                          ({"colour": "red"}, "colour")):
        with pytest.raises(InputError, match=field):
            parse_entry("dvc", values)
    with pytest.raises(InputError, match="next_inspection"):
        parse_entry("dvc", {"last_inspection": "2026-05-01", "next_inspection": "2026-04-01"})


def test_fields_not_given_keep_the_base_entry():
    e = parse_entry("lgsp", {"level": "4"}, base=FULL)
    assert e.level == 4 and e.approval_number == FULL.approval_number and e.onsite_users == FULL.onsite_users
    assert changed_fields(FULL, e) == ["level"]
    assert "level" in changed_fields(None, e) and "note" not in changed_fields(None, e)


def test_four_layers_ok_due_missing():
    users = {"an.nv": True}
    assert coverage(FULL, users, TODAY) == {1: OK, 2: OK, 3: OK, 4: OK}
    assert coverage(None, users, TODAY) == {1: MISSING, 2: MISSING, 3: MISSING, 4: MISSING}
    # layer 1: a named person disabled or unknown is a gap even with a roster contact
    assert coverage(FULL, {"an.nv": False}, TODAY)[1] == MISSING
    assert coverage(FULL, {}, TODAY)[1] == MISSING
    roster_only = parse_entry("lgsp", {"onsite_users": ""}, base=FULL)
    assert coverage(roster_only, {}, TODAY)[1] == OK
    # layer 3: due within 30 days (the policy's), missing once past or never inspected
    due = parse_entry("lgsp", {"next_inspection": "2027-01-01"}, base=FULL)
    assert coverage(due, users, TODAY)[3] == DUE
    assert coverage(due, users, TODAY, Policy(due_within_days=10))[3] == OK
    assert coverage(due, users, date(2027, 1, 1))[3] == DUE
    assert coverage(due, users, date(2027, 1, 2))[3] == MISSING
    assert coverage(parse_entry("lgsp", {"last_inspection": ""}, base=FULL), users, TODAY)[3] == MISSING
    assert coverage(parse_entry("lgsp", {"monitoring_org": "", "layer4_connected": "no"}, base=FULL), users,
                    TODAY) == {1: OK, 2: MISSING, 3: OK, 4: MISSING}


def test_obligations_are_zero_when_kept_and_count_when_not():
    users = {"an.nv": True, "binh.tt": False}
    entries = [
        FULL,
        parse_entry("gis", {"environment": "test", "real_data": "yes", "next_inspection": "2026-11-02",
                            "last_inspection": "2024-11-02"}),
        parse_entry("baocao", {"live": "yes", "onsite_users": "binh.tt,ghost,an.nv"}),
        parse_entry("email", {"live": "yes", "cleared_on": "2027-01-01"}),
        parse_entry("callcenter", {"live": "yes", "cleared_on": "2026-01-01"}),  # cleared, never inspected
    ]
    v = obligation_values(entries, users, TODAY)
    assert v["register.inspection_overdue_days"] == {"lgsp": 0, "gis": 30, "baocao": 0, "email": 0, "callcenter": 335}
    assert v["register.live_uncleared"] == {"lgsp": 0, "gis": 0, "baocao": 1, "email": 1, "callcenter": 0}
    assert v["register.test_real_data"] == {"lgsp": 0, "gis": 1, "baocao": 0, "email": 0, "callcenter": 0}
    assert v["register.onsite_gone"] == {"lgsp": 0, "gis": 0, "baocao": 2, "email": 0, "callcenter": 0}


def test_the_engine_reads_obligations_on_the_local_day():
    rows = {register_sql.USER_STATES: [{"name": "an.nv", "active": True}],
            register_sql.CURRENT: [{"system": "lgsp", "next_inspection": date(2026, 12, 2), "onsite_users": ["an.nv"]}]}
    # 2026-12-02 17:30 UTC is already 3 December in Rạch Giá: one day overdue
    late = register_values(rows.__getitem__, datetime(2026, 12, 2, 17, 30, tzinfo=timezone.utc))
    early = register_values(rows.__getitem__, datetime(2026, 12, 2, 16, 30, tzinfo=timezone.utc))
    assert late["register.inspection_overdue_days"]["lgsp"] == 1
    assert early["register.inspection_overdue_days"]["lgsp"] == 0


def test_the_plans_share_counts_the_province_systems_classified_and_approved():
    half = parse_entry("dvc", {"level": "3", "approval_number": "1523/QĐ-UBND", "plan_status": "submitted"})
    other = parse_entry("other", {}, base=FULL)
    assert classified_share([FULL, half, other], ["lgsp", "dvc"]) == 0.5
    assert classified_share([FULL], ["lgsp"]) == 1.0
    assert classified_share([], ["lgsp", "dvc"]) == 0.0
    assert classified_share([FULL], []) is None
    assert not Entry("x", level=3, approval_number="1", approval_date=date(2023, 1, 1)).approved


def test_severity_weighting_by_level_is_the_policys():
    policy = load_policy()
    assert weighted_severity("high", 4, policy) == "critical"
    assert weighted_severity("high", 3, policy) == "high"
    assert weighted_severity("critical", 5, policy) == "critical"
    assert weighted_severity("high", None, policy) == "high"
    assert weighted_severity("medium", 2, Policy(severity_steps={2: 2})) == "critical"
    rows = [{"target": "lgsp", "severity": "high", "n": 2.0, "level": 4},
            {"target": "lgsp", "severity": "critical", "n": 1.0, "level": 4},
            {"target": "dvc", "severity": "high", "n": 5.0, "level": 2},
            {"target": "cam-1", "severity": "critical", "n": 1.0, "level": None}]
    assert critical_finding_values(rows, policy) == {"security.findings_critical": {"lgsp": 3.0, "cam-1": 1.0}}
    assert critical_finding_values(rows, Policy(severity_steps={}))["security.findings_critical"] == \
        {"lgsp": 1.0, "cam-1": 1.0}


def test_a_wrong_policy_file_is_refused(tmp_path: Path):
    bad = tmp_path / "register.yaml"
    bad.write_text("due_within_days: 30\nseverity_steps_by_level: {7: 1}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="levels 1–5"):
        load_policy(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_policy(tmp_path / "none.yaml")


def test_files_round_trip_and_wrong_rows_are_named():
    entries = [FULL, parse_entry("gis", {"environment": "test", "real_data": "yes", "note": "Bản sao, dữ liệu thật"})]
    for name, data in (("r.csv", csv_bytes(entries)), ("r.xlsx", xlsx_bytes(entries))):
        back = from_rows(read_rows(data, name), known=["lgsp", "gis"])
        assert back.errors == () and list(back.entries) == entries, name
    rows = to_rows(entries)
    rows[1][1] = "9"  # level
    rows.append(["nowhere"] + [""] * (len(rows[0]) - 1))
    rows.append(list(rows[2]))  # gis twice
    result = from_rows(rows, known=["lgsp", "gis"])
    assert [e.system for e in result.entries] == ["gis"]
    assert len(result.errors) == 3
    assert result.errors[0].startswith("row 2: level") and "row 4: system 'nowhere'" in result.errors[1]
    assert "row 5" in result.errors[2] and "twice" in result.errors[2]
    with pytest.raises(InputError, match="unknown column"):
        from_rows([["system", "colour"], ["lgsp", "red"]])
    with pytest.raises(InputError, match="system"):
        from_rows([["level"], ["3"]])
    with pytest.raises(InputError, match=".csv or .xlsx"):
        read_rows(b"x", "register.pdf")
    with pytest.raises(InputError, match="XLSX"):
        read_rows(b"not a zip", "register.xlsx")


def test_a_csv_saved_with_semicolons_reads_the_same():
    text = "system;level;live\r\nlgsp;3;có\r\n"
    result = from_rows(read_rows(text.encode("utf-8"), "r.csv"))
    assert result.errors == () and result.entries[0].level == 3 and result.entries[0].live

"""The figures of the security register's monthly report (agents/indicators/register_report.py), and the
progress lines a slow report prints (streams/core/progress.py)."""
import threading
from datetime import date, datetime, timezone

import pytest

from agents.indicators.plan import load_plan
from tests.support import PLAN_2023
from agents.indicators.register import FIELDS, Entry, Policy
from agents.indicators.register_report import (CHANGED, CREATED, RETIRED, TICK, build_report, classified_target,
                                               month_changes, month_inspections, parse_month, report_time)
from streams.core.clock import LOCAL_TZ
from streams.core.errors import InputError
from streams.core.progress import Progress
from tests.support import wait_for

MARCH = parse_month("2025-03")
TARGET = classified_target(load_plan(PLAN_2023))
SYSTEMS = ["datacenter", "lgsp", "baocao", "gis", "email"]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def approved(system: str, level: int, **kw) -> Entry:
    return Entry(system, level=level, approval_number="1/QĐ-UBND", approval_date=date(2023, 6, 1),
                 approval_authority="UBND tỉnh", plan_status="approved", **kw)


def row(entry: Entry, id_: int, valid_from: datetime, valid_to: datetime | None = None, *, by: str = "an",
        reason: str = "", retired_by: str | None = None) -> dict:
    """A ``security_register`` row, as the store reads it (times in UTC, as the database returns them)."""
    utc = (lambda t: t.astimezone(timezone.utc) if t is not None else None)
    return {**{f: getattr(entry, f) for f in FIELDS}, "onsite_users": list(entry.onsite_users), "id": id_,
            "valid_from": utc(valid_from), "valid_to": utc(valid_to), "changed_by": by, "change_reason": reason,
            "retired_by": retired_by}


def test_a_month_is_its_local_days():
    assert MARCH.start == local(2025, 3, 1) and MARCH.end == local(2025, 4, 1)
    assert MARCH.start.astimezone(timezone.utc) == datetime(2025, 2, 28, 17, tzinfo=timezone.utc)
    assert (MARCH.first_day, MARCH.last_day, MARCH.label) == (date(2025, 3, 1), date(2025, 3, 31), "2025-03")
    december = parse_month(" 2025-12 ")
    assert december.end == local(2026, 1, 1) and december.last_day == date(2025, 12, 31)
    for bad in ("2025-13", "03/2025", "2025", ""):
        with pytest.raises(InputError, match="YYYY-MM"):
            parse_month(bad)


def test_the_register_is_read_at_the_months_end_or_now_while_it_runs():
    assert report_time(MARCH, local(2026, 1, 5)) == local(2025, 4, 1) - TICK
    assert report_time(MARCH, local(2025, 3, 10, 9)) == local(2025, 3, 10, 9)
    with pytest.raises(InputError, match="2025-03 has not begun"):
        report_time(MARCH, local(2025, 2, 28, 23, 59))


def test_the_headline_counts_the_province_systems_against_the_plans_target():
    users = {"op-a": True, "op-b": False, "op-c": False}
    entries = [
        approved("datacenter", 4, live=True, cleared_on=date(2023, 7, 1), onsite_users=("op-a", "op-c"),
                 monitoring_org="SOC", last_inspection=date(2025, 3, 12), next_inspection=date(2025, 4, 20),
                 layer4_connected=True),
        approved("lgsp", 3, live=True, cleared_on=date(2023, 7, 1), onsite_users=("op-b", "op-c"),
                 last_inspection=date(2024, 3, 1), next_inspection=date(2025, 3, 1)),
        Entry("baocao", level=2, plan_status="submitted", live=True, onsite_contact="Đỗ Thu Trang – 0976"),
        approved("gis", 2, environment="test", real_data=True),
        approved("legacy", 1),  # not in the province file: a row, not a figure
    ]
    report = build_report(MARCH, as_of=MARCH.end - TICK, entries=entries, systems=SYSTEMS, users=users,
                          policy=Policy(30, {}), target=TARGET)
    h = report.headline
    assert (h.systems, h.approved) == (5, 3)
    assert h.share == pytest.approx(0.6) and h.target.value == 1.0 and h.target_met is False
    assert h.by_level == {1: 0, 2: 2, 3: 1, 4: 1, 5: 0, None: 1}
    assert h.layers[1] == {"ok": 1, "due": 0, "missing": 4}      # baocao (a contact); op-c gone from two systems
    assert h.layers[2] == {"ok": 1, "due": 0, "missing": 4}
    assert h.layers[3] == {"ok": 0, "due": 1, "missing": 4}      # datacenter due 20 days after 31/3
    assert h.layers[4] == {"ok": 1, "due": 0, "missing": 4}
    assert (h.inspections_overdue, h.live_uncleared, h.test_real_data) == (1, 1, 1)
    assert h.onsite_gone == 2                                      # op-b and op-c, op-c counted once
    assert [r.system for r in report.systems] == [*SYSTEMS, "legacy"]
    by = {r.system: r for r in report.systems}
    assert by["lgsp"].overdue_days == 30 and by["lgsp"].gone == ("op-b", "op-c")
    assert by["email"].entry is None and set(by["email"].layers.values()) == {"missing"}
    assert not by["legacy"].in_province and by["legacy"].approved
    assert report.today == date(2025, 3, 31)
    everything = build_report(MARCH, as_of=MARCH.end - TICK, entries=[approved(s, 2) for s in SYSTEMS],
                              systems=SYSTEMS, users={}, policy=Policy(), target=TARGET)
    assert everything.headline.share == 1.0 and everything.headline.target_met is True
    empty = build_report(MARCH, as_of=MARCH.end - TICK, entries=[], systems=[], users={}, policy=Policy(),
                         target=TARGET)
    assert empty.headline.share is None and empty.headline.target_met is None


def test_the_changes_of_the_month_say_who_when_why_and_which_fields():
    v1 = approved("lgsp", 3)
    v2 = approved("lgsp", 3, last_inspection=date(2025, 3, 12), next_inspection=date(2026, 3, 12))
    v3 = approved("lgsp", 4, last_inspection=date(2025, 3, 12), next_inspection=date(2026, 3, 12))
    e1, e2 = Entry("email", level=2), Entry("email", level=2, note="mới")
    t_in, t_in2, t_after = local(2025, 3, 1, 0, 0, 1), local(2025, 3, 20, 14), local(2025, 4, 2)
    before = [row(v1, 1, local(2025, 1, 5), t_in), row(e1, 4, local(2025, 2, 1), local(2025, 3, 25), retired_by="binh")]
    versions = [
        row(v2, 2, t_in, t_in2, by="an", reason="kiểm tra định kỳ"),
        row(v3, 3, t_in2, t_after, by="chi", reason="nâng cấp độ"),
        row(e1, 4, local(2025, 2, 1), local(2025, 3, 25), retired_by="binh"),
        row(e2, 5, local(2025, 3, 28), by="binh", reason="dùng lại"),
        row(approved("gis", 2), 6, local(2025, 3, 31, 23, 59, 59)),
    ]
    retirements = [{"at": local(2025, 3, 25).astimezone(timezone.utc), "subject": "email", "actor": "binh",
                    "reason": "ngừng sử dụng"}]
    changes = month_changes(MARCH, before, versions, retirements)
    assert [(c.system, c.kind, c.actor, c.reason, c.fields) for c in changes] == [
        ("lgsp", CHANGED, "an", "kiểm tra định kỳ", ("last_inspection", "next_inspection")),
        ("lgsp", CHANGED, "chi", "nâng cấp độ", ("level",)),
        ("email", RETIRED, "binh", "ngừng sử dụng", ()),
        ("email", CREATED, "binh", "dùng lại", ("level", "note")),          # after its retirement: new again
        ("gis", CREATED, "an", "", ("level", "approval_number", "approval_date", "approval_authority", "plan_status")),
    ]
    assert changes[0].at == t_in and changes[2].at == local(2025, 3, 25)
    assert month_changes(parse_month("2025-04"), [], versions) == []  # a version ending in April is no change of April


def test_the_inspections_of_the_month_are_every_date_inside_it():
    first = approved("lgsp", 3, last_inspection=date(2025, 3, 3), next_inspection=date(2025, 9, 3),
                     inspection_findings=4, inspection_org="Công ty A")
    corrected = approved("lgsp", 3, last_inspection=date(2025, 3, 3), next_inspection=date(2026, 3, 3),
                         inspection_findings=2, inspection_org="Công ty A")
    second = approved("lgsp", 3, last_inspection=date(2025, 3, 30), next_inspection=date(2026, 3, 30),
                      inspection_findings=0, inspection_org="Công ty B")
    earlier = approved("gis", 2, last_inspection=date(2025, 2, 27))
    versions = [row(corrected, 2, local(2025, 3, 6)), row(first, 1, local(2025, 3, 4)), row(second, 3, local(2025, 3, 30)),
                row(earlier, 4, local(2025, 3, 2))]
    dated_ahead = approved("dvc", 3, last_inspection=date(2025, 3, 15), inspection_findings=1)
    found = month_inspections(MARCH, versions, [second, earlier, dated_ahead])
    assert [(i.system, i.day, i.org, i.findings, i.next_day) for i in found] == [
        ("lgsp", date(2025, 3, 3), "Công ty A", 2, date(2026, 3, 3)),   # the latest version's word on it
        ("dvc", date(2025, 3, 15), "", 1, None),
        ("lgsp", date(2025, 3, 30), "Công ty B", 0, date(2026, 3, 30)),
    ]


def test_a_quick_step_prints_nothing():
    lines = []
    with Progress(lines.append, after_s=30) as progress:
        with progress.step("reading"):
            pass
        with progress.step("writing"):
            pass
    assert lines == []


def test_a_slow_step_says_its_name_how_long_it_runs_then_that_it_is_done_and_the_next_steps_speak_at_once():
    lines = []
    entered, release = threading.Event(), threading.Event()
    clock = [0.0]
    with Progress(lines.append, after_s=1, every_s=5, clock=lambda: clock[0]) as progress:
        def slow():
            with progress.step("writing report.pdf"):
                entered.set()
                release.wait(30)
        worker = threading.Thread(target=slow)
        worker.start()
        assert entered.wait(10)
        assert lines == []
        clock[0] = 2.0
        wait_for(lambda: lines == ["writing report.pdf…"], timeout=10, what="the step's name")
        clock[0] = 7.5
        wait_for(lambda: len(lines) == 2, timeout=10, what="how long it has run")
        release.set()
        worker.join()
        with progress.step("writing report.xlsx"):
            pass
    assert lines == ["writing report.pdf…", "writing report.pdf… 8 s", "writing report.pdf: done in 7.5 s",
                     "writing report.xlsx…", "writing report.xlsx: done in 0.0 s"]

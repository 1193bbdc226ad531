"""The security register on the wall, pure functions (no database): the four-layer grid of each system,
findings with their system's level, on-site contact and weighted severity, and the plan's target
"systems classified and approved" on the services page."""
from datetime import date, datetime, timedelta, timezone

from agents.indicators.plan import load_plan
from tests.support import PLAN_2023
from agents.indicators.register import Entry, Policy, weighted_severity
from ioc_dash.figures_security import (attack_rate_figure, coverage_grid, coverage_rows, finding_tiles,
                                       findings_table, snapshot_coverage, weigh_counts, weigh_findings)
from ioc_dash.figures_services import plan_rows, services_view
from ioc_dash.repository import Snapshot
from streams.core.geography import load_province
from streams.core.settings import Settings
from tests.ioc_dash.wall_support import text

PROVINCE = load_province(Settings().province_file)
CODES = [s.code for s in PROVINCE.systems]
TODAY = date(2026, 12, 1)
#: level 4 findings one step up, level 5 two (the shipped file raises 4 and 5 by one)
POLICY = Policy(30, {1: 0, 2: 0, 3: 0, 4: 1, 5: 2})
APPROVED = dict(approval_number="1520/QĐ-UBND", approval_date=date(2023, 6, 20), plan_status="approved")
INSPECTED = dict(last_inspection=date(2026, 3, 1), next_inspection=date(2027, 3, 1))


def entry(system, **fields):
    return Entry(system, **fields)


REGISTER = [
    entry("datacenter", level=4, onsite_contact="Trần Minh Khoa – 0913 200 411", monitoring_org="SOC",
          layer4_connected=True, **APPROVED, **INSPECTED),
    entry("lgsp", level=3, onsite_users=("an", "binh"), monitoring_org="SOC", layer4_connected=True,
          last_inspection=date(2026, 1, 5), next_inspection=TODAY + timedelta(days=30), **APPROVED),
    entry("ndxp", level=3, onsite_users=("an", "chi"), monitoring_org="SOC",  # chi is disabled
          last_inspection=date(2025, 1, 5), next_inspection=TODAY - timedelta(days=1), **APPROVED),
    entry("baocao", level=2, plan_status="submitted", onsite_contact="Đỗ Thu Trang", layer4_connected=True,
          last_inspection=date(2026, 1, 5), next_inspection=TODAY + timedelta(days=31)),
    entry("email", level=5, onsite_users=("an",), monitoring_org="SOC", **APPROVED, **INSPECTED),
]
USERS = {"an": True, "binh": True, "chi": False}


def cells(grid) -> dict[str, list[tuple[str, str]]]:
    """System -> [(level cell text, class)] + [(mark, class) per layer], read from the grid's table."""
    table = grid.children[0]
    return {row.id.removeprefix("coverage-"): [(c.children, c.className) for c in row.children[1:]]
            for row in table.children[1].children}


def test_the_grid_has_a_row_per_system_with_its_level_and_four_layers():
    rows = coverage_rows(REGISTER, USERS, PROVINCE.systems, TODAY, POLICY)
    assert [r.system.code for r in rows] == CODES  # the province file's order, registered or not
    grid = coverage_grid(rows, "vi", POLICY)
    got = cells(grid)
    ok, due, missing = ("✓", "cov-cell cov-ok"), ("!", "cov-cell cov-due"), ("✗", "cov-cell cov-missing")
    assert got["datacenter"] == [("4", "num cov-level"), ok, ok, ok, ok]
    assert got["lgsp"] == [("3", "num cov-level"), ok, ok, due, ok]  # next inspection in 30 days: due
    assert got["ndxp"] == [("3", "num cov-level"), missing, ok, missing, missing]  # chi gone, inspection a day late
    assert got["baocao"] == [("2*", "num cov-level"), ok, missing, ok, ok]  # 31 days: not yet due; not approved
    assert got["gis"] == [("—", "num cov-level"), missing, missing, missing, missing]  # not in the register
    said = text(grid)
    assert "Lớp 1" in said and "tại chỗ" in said and "Lớp 4 – kết nối Hệ thống giám sát quốc gia" in said
    assert "Hệ thống thông tin địa lý (GIS)" in said  # the full name on hover
    assert "Đến hạn trong 30 ngày" in said and "Thiếu hoặc quá hạn" in said and "* chưa phê duyệt" in said
    assert "kiểm tra tiếp theo 31/12/2026" in said  # lgsp's layer-3 cell says when
    english = text(coverage_grid(rows, "en", POLICY))
    assert "Geographic information system" in english and "Due within 30 days" in english


def test_the_grid_without_the_register_says_so_and_judges_on_the_local_day():
    assert "Không đọc được sổ đăng ký" in text(coverage_grid(None, "vi", POLICY))
    assert snapshot_coverage(Snapshot(datetime.now(timezone.utc)), PROVINCE.systems, POLICY) is None
    assert snapshot_coverage(Snapshot(datetime.now(timezone.utc), register=REGISTER), PROVINCE.systems, POLICY) is None
    # 18:00 UTC on 30 November is 01:00 on 1 December in the province: an inspection due on the 30th is late
    late = [entry("gis", monitoring_org="SOC", last_inspection=date(2025, 11, 30), next_inspection=date(2026, 11, 30))]
    at = datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)
    rows = snapshot_coverage(Snapshot(at, register=late, user_states={}), PROVINCE.systems, POLICY)
    assert {r.system.code: r.layers[3] for r in rows}["gis"] == "missing"
    earlier = snapshot_coverage(Snapshot(at - timedelta(hours=2), register=late, user_states={}), PROVINCE.systems,
                                POLICY)
    assert {r.system.code: r.layers[3] for r in earlier}["gis"] == "due"


def test_severity_is_weighted_by_the_level():
    assert weighted_severity("high", 4, POLICY) == "critical"
    assert weighted_severity("medium", 5, POLICY) == "critical"  # two steps
    assert weighted_severity("critical", 5, POLICY) == "critical"  # never past critical
    assert weighted_severity("informational", 4, POLICY) == "low"
    assert weighted_severity("low", 5, POLICY) == "high"
    assert weighted_severity("high", 3, POLICY) == "high" and weighted_severity("high", None, POLICY) == "high"


NOW = datetime(2026, 12, 1, 3, 0, tzinfo=timezone.utc)


def finding(subject, target, severity, ago_s):
    return {"kind": "brute_force", "subject": subject, "target": target, "severity": severity, "layer": 2,
            "value": 50.0, "threshold": 20.0, "detail": "", "first_seen": NOW - timedelta(seconds=ago_s),
            "last_seen": NOW - timedelta(seconds=ago_s), "count": 1}


def test_findings_show_the_level_the_contact_and_sort_by_the_weighted_severity():
    found = [finding("1.1.1.1", "eoffice", "high", 10), finding("2.2.2.2", "datacenter", "high", 99),
             finding("3.3.3.3", "lgsp", "medium", 5), finding("4.4.4.4", "port 22", "critical", 300)]
    weighed = {f["subject"]: f for f in weigh_findings(found, REGISTER, POLICY)}
    assert (weighed["2.2.2.2"]["weighted"], weighed["2.2.2.2"]["level"]) == ("critical", 4)
    assert weighed["2.2.2.2"]["contact"] == "Trần Minh Khoa – 0913 200 411"  # the roster contact
    assert weighed["3.3.3.3"]["contact"] == "an, binh"  # else the named users
    assert weighed["1.1.1.1"]["level"] is None and weighed["1.1.1.1"]["contact"] is None  # eoffice: not registered
    assert weighed["4.4.4.4"]["weighted"] == "critical"
    table = text(findings_table(list(weighed.values()), NOW, "vi"))
    # worst first by the weighted severity, newest first among equals: 2.2.2.2 (high → critical) before 1.1.1.1
    assert table.index("2.2.2.2") < table.index("4.4.4.4") < table.index("1.1.1.1") < table.index("3.3.3.3")
    assert "Mức độ được nâng theo cấp độ 4 của hệ thống; mức phát hiện: Cao" in table
    assert "Cấp độ" in table and "Lực lượng tại chỗ" in table and "Trần Minh Khoa" in table and "an, binh" in table
    unweighed = text(findings_table(weigh_findings(found, None, POLICY), NOW, "vi"))  # the register not read
    assert "được nâng" not in unweighed and unweighed.index("4.4.4.4") < unweighed.index("2.2.2.2")


def test_the_severity_cell_reads_detected_then_weighted():
    [f] = weigh_findings([finding("2.2.2.2", "datacenter", "high", 5)], REGISTER, POLICY)
    row = findings_table([f], NOW, "en").children[1].children[0]
    severity = row.children[2].children
    assert severity.children[0].children == "High" and severity.children[1] == " → "
    assert severity.children[2].children == "Critical" and "badge-down" in severity.children[2].className
    assert [c.children for c in row.children][3:5] == ["4", "Trần Minh Khoa – 0913 200 411"]


def test_the_tiles_count_findings_at_their_weighted_severity():
    counts = [{"severity": "high", "layer": 2, "target": "datacenter", "n": 3},
              {"severity": "high", "layer": 2, "target": "eoffice", "n": 2},
              {"severity": "informational", "layer": 3, "target": "email", "n": 4}]
    weighted = weigh_counts(counts, REGISTER, POLICY)
    assert [c["severity"] for c in weighted] == ["critical", "high", "medium"]  # email is level 5: two steps
    tiles = text(finding_tiles(weighted, "en"))
    assert '"3"' in tiles and '"2"' in tiles and '"4"' in tiles
    assert weigh_counts(counts, None, POLICY) == counts


def test_the_attack_rate_draws_its_text_at_20_px():
    rows = [{"time": NOW - timedelta(minutes=1), "severity": "low", "events": 4, "blocked": 4}]
    for scale in (1.0, 2.0):
        layout = attack_rate_figure(rows, "vi", scale)["layout"]
        assert layout["font"]["size"] == 20 * scale and layout["legend"]["font"]["size"] == 20 * scale
        empty = attack_rate_figure([], "vi", scale)["layout"]
        assert empty["annotations"][0]["font"]["size"] == 20 * scale


def test_the_plan_target_is_the_share_of_systems_classified_and_approved():
    snap = Snapshot(NOW, register=REGISTER, user_states=USERS)
    # approved: datacenter, lgsp, ndxp, email (baocao submitted only) of the province's nine systems
    view = services_view(snap, load_plan(PLAN_2023), CODES)
    [check] = [c for c in view.checks if c.target.key == "systems_classified"]
    assert check.measure == "register.classified_share" and check.value == 4 / 9 and check.met is False
    rows, _ = plan_rows(view.checks, "vi")
    row = next(r for r in rows if "phân loại" in str(r[0]))
    assert row[2] == "44.4%" and "Chưa đạt" in text(row[3])
    every = Snapshot(NOW, register=[Entry(c, level=2, **APPROVED) for c in CODES], user_states={})
    assert next(c for c in services_view(every, load_plan(PLAN_2023), CODES).checks
                if c.target.key == "systems_classified").met is True
    unread = services_view(Snapshot(NOW), load_plan(PLAN_2023), CODES)  # the register could not be read: not measured
    assert next(c for c in unread.checks if c.target.key == "systems_classified").value is None

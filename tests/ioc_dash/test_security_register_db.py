"""The security register through the wall's snapshot: entries saved with ``RegisterStore``, users made
with the user store, findings in ``security_finding``; the security page's grid and findings and the
services page's plan value are checked against what these rows must give, worked out here by hand.
A register that cannot be read leaves the rest of the snapshot standing."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from agents.indicators.queries import sources
from agents.indicators.register import Entry, load_policy
from ioc_dash.app import create_app
from ioc_dash.pages import security as security_page
from ioc_dash.queries import WORKERS, Part
from ioc_dash.repository import Repository
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from tests.ioc_dash.conftest import PASSWORD
from tests.ioc_dash.register_support import register_entries
from tests.ioc_dash.wall_support import call, wall_client

RUN = uuid.uuid4().hex[:8]
ACTIVE, GONE = f"wall.an.{RUN}", f"wall.binh.{RUN}"
SEVERITIES = ["informational", "low", "medium", "high", "critical"]


def register_of(today) -> list[Entry]:
    """Every system of the province but callcenter; each line says what its grid row must show."""
    approved = dict(approval_number="15/QĐ-UBND", approval_date=today - timedelta(days=900), plan_status="approved")
    inspected = dict(last_inspection=today - timedelta(days=100), next_inspection=today + timedelta(days=200))
    full = dict(monitoring_org="SOC tỉnh", layer4_connected=True, **inspected)
    return [
        Entry("datacenter", level=4, onsite_contact="Trần Minh Khoa – 0913 200 411", **approved, **full),
        Entry("lgsp", level=3, onsite_users=(ACTIVE,), **approved, **full),
        Entry("ndxp", level=3, onsite_users=(ACTIVE, GONE), **approved, **full),  # layer 1: someone gone
        Entry("eoffice", level=5, onsite_contact="Phạm Quốc Bảo", monitoring_org="SOC tỉnh", layer4_connected=True,
              last_inspection=today - timedelta(days=300), next_inspection=today + timedelta(days=12), **approved),
        Entry("dvc", level=3, onsite_contact="Nguyễn Thanh Tâm", monitoring_org="SOC tỉnh", layer4_connected=True,
              last_inspection=today - timedelta(days=400), next_inspection=today - timedelta(days=2), **approved),
        Entry("email", level=2, onsite_contact="Võ Hoàng Nam", **approved, **inspected),  # layers 2 and 4 missing
        Entry("baocao", level=2, plan_status="submitted", onsite_contact="Đỗ Thu Trang", **full),  # not approved
        Entry("gis", level=1, onsite_contact="Huỳnh Văn Lộc", **approved, **full),
    ]


#: system -> (level cell, layers 1–4); callcenter is not in the register
EXPECTED = {
    "datacenter": ("4", ["ok", "ok", "ok", "ok"]),
    "lgsp": ("3", ["ok", "ok", "ok", "ok"]),
    "ndxp": ("3", ["missing", "ok", "ok", "ok"]),
    "eoffice": ("5", ["ok", "ok", "due", "ok"]),
    "dvc": ("3", ["ok", "ok", "missing", "ok"]),
    "email": ("2", ["ok", "missing", "ok", "missing"]),
    "baocao": ("2*", ["ok", "ok", "ok", "ok"]),
    "gis": ("1", ["ok", "ok", "ok", "ok"]),
    "callcenter": ("—", ["missing", "missing", "missing", "missing"]),
}
#: kind, target, detected severity (subjects are this run's)
FINDINGS = (("brute_force", "datacenter", "high"), ("ids", "eoffice", "medium"), ("port_scan", "lgsp", "high"),
            ("malware", "10.20.1.15", "medium"))


@pytest.fixture
def registered(test_settings, db, undo, users):
    today = datetime.now(timezone.utc).astimezone(LOCAL_TZ).date()
    for name in (ACTIVE, GONE):
        users.add_user(name, "operator", PASSWORD, actor="test")
        undo("DELETE FROM users WHERE name = %s", name)
    users.set_disabled(GONE, True, actor="test")
    undo("DELETE FROM security_finding WHERE subject LIKE %s", f"wall-{RUN}-%")
    for i, (kind, target, severity) in enumerate(FINDINGS):
        db.execute("""INSERT INTO security_finding (time, kind, subject, target, severity, layer, value, threshold,
                                                    detail, first_seen, last_seen)
                      VALUES (now(), %s, %s, %s, %s, 2, 100, 20, '', now() - %s * interval '1 minute',
                              now() - %s * interval '1 minute')""",
                   (kind, f"wall-{RUN}-{i}", target, severity, i + 5, i))
    with register_entries(test_settings.dsn, register_of(today), actor=f"wall-test-{RUN}"):
        yield


def grid_of(component) -> dict[str, tuple[str, list[str]]]:
    """System -> (level cell, layer states) from the callback's JSON of the coverage grid."""
    table = component["props"]["children"][0]
    out = {}
    for row in table["props"]["children"][1]["props"]["children"]:
        cells = row["props"]["children"]
        states = [c["props"]["className"].removeprefix("cov-cell cov-") for c in cells[2:]]
        out[row["props"]["id"].removeprefix("coverage-")] = (cells[1]["props"]["children"], states)
    return out


def texts(component) -> list[str]:
    """Every string in a component's JSON, depth first."""
    if isinstance(component, str):
        return [component]
    if isinstance(component, list):
        return [s for c in component for s in texts(c)]
    if isinstance(component, dict):
        return texts(component.get("props", {}).get("children", []))
    return []


def findings_rows(component) -> dict[str, list[str]]:
    """Subject → target -> the texts of its row of the findings table, in the table's order."""
    body = component["props"]["children"][1]["props"]["children"]
    rows = {}
    for row in body:
        cells = [" ".join(texts(c)) for c in row["props"]["children"]]
        rows[cells[1]] = cells
    return rows


def test_the_security_page_reads_the_register(test_settings, registered, monkeypatch):
    monkeypatch.setattr(security_page, "FINDINGS_SHOWN", 50)  # this test's among whatever the run's database holds
    app = create_app(test_settings)
    client = wall_client(app, test_settings)
    out = call(client, app, "sec-tiles.children", {"lang.data": "vi"})
    assert grid_of(out["sec-coverage"]["children"]) == EXPECTED

    policy = load_policy()
    assert policy.steps(4) >= 1  # the shipped policy raises findings on level-4 systems: the test sees a raise
    levels = {system: None if level == "—" else int(level.rstrip("*")) for system, (level, _) in EXPECTED.items()}
    names = {"informational": "Thông tin", "low": "Thấp", "medium": "Trung bình", "high": "Cao",
             "critical": "Nghiêm trọng"}
    rows = findings_rows(out["sec-findings"]["children"])
    weighted = {}
    for i, (_kind, target, detected) in enumerate(FINDINGS):
        level = levels.get(target)
        shown = SEVERITIES[min(4, SEVERITIES.index(detected) + policy.steps(level))]
        weighted[f"wall-{RUN}-{i} → {target}"] = shown
        cells = rows[f"wall-{RUN}-{i} → {target}"]
        severity = names[shown] if shown == detected else f"{names[detected]}  →  {names[shown]}"
        assert cells[2] == severity, target
        assert cells[3] == ("—" if level is None else str(level))
    assert rows[f"wall-{RUN}-0 → datacenter"][4] == "Trần Minh Khoa – 0913 200 411"
    assert rows[f"wall-{RUN}-2 → lgsp"][4] == ACTIVE  # no roster contact: the named user
    assert rows[f"wall-{RUN}-3 → 10.20.1.15"][4] == "—"
    ours = [key for key in rows if key in weighted]
    assert ours == sorted(ours, key=lambda k: -SEVERITIES.index(weighted[k]))  # worst weighted first

    services = call(client, app, "svc-kpis.children", {"lang.data": "vi"})
    table = services["svc-plan"]["children"]["props"]["children"][0]  # the table, then the notes under it
    plan = [texts(r) for r in table["props"]["children"][1]["props"]["children"]]
    classified = next(r for r in plan if "phân loại" in r[0])
    approved = sum(e.approved for e in register_of(datetime.now(LOCAL_TZ).date()))
    assert approved == 7  # every entry but baocao; callcenter has none
    assert classified[2] == f"{approved / 9 * 100:.1f}%" and classified[3] == "Chưa đạt"


def test_a_register_that_cannot_be_read_leaves_the_rest_of_the_snapshot(test_settings):
    parts = (Part("workers", WORKERS), Part("register", "SELECT * FROM no_such_register_table", optional=True),
             Part("sources", sources.SOURCES))
    repo = Repository(test_settings.dsn, parts=parts)
    try:
        snap = repo.snapshot()
    finally:
        repo.close()
    assert snap.error is None and snap.register is None
    assert isinstance(snap.workers, list) and isinstance(snap.sources, list)  # read after the failed part
    assert repo.queries == 3

"""The security register's monthly report from the database (``ioc register report``).

A register with versions dated before, inside and after March 2025 (saved with ``RegisterStore.save(at=)``),
a retirement and users disabled inside and after the month; the report's PDF (read back with
``pdftotext -layout``) and XLSX (openpyxl) must show what an independent reading of the database's rows
says of the register at the end of the month.  Pictures of the PDF's first pages go to
.run/screenshots/reports/ (``pdftoppm -r 80``).
"""
from __future__ import annotations

import re
import struct
import subprocess
import uuid
from dataclasses import replace
from datetime import date, datetime

import psycopg
import pytest
from openpyxl import load_workbook
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from agents.indicators.register import Entry, coverage, entry_from_row, load_policy
from agents.indicators.register_store import RegisterStore
from ioc_dash.i18n import t
from streams.cli.main import main
from streams.core.clock import LOCAL_TZ
from streams.core.geography import load_province
from streams.core.settings import Settings
from streams.db.scratch import scratch_database
from tests.conftest import ADMIN_DSN
from tests.support import ROOT

MONTH = "2025-03"
START, END = datetime(2025, 3, 1, tzinfo=LOCAL_TZ), datetime(2025, 4, 1, tzinfo=LOCAL_TZ)
LAST_DAY = date(2025, 3, 31)
SHOTS = ROOT / ".run" / "screenshots" / "reports"


def local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


def approved(system: str, level: int, **kw) -> Entry:
    return Entry(system, level=level, approval_number=f"{level}52/QĐ-UBND", approval_date=date(2023, 6, 20),
                 approval_authority="UBND tỉnh", plan_status="approved", **kw)


def fill(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, disabled in (("op-a", False), ("op-b", True), ("op-c", True)):
            conn.execute("INSERT INTO users (name, role, password_hash, disabled, created_at) "
                         "VALUES (%s, 'operator', 'x', %s, %s)", (name, disabled, local(2024, 1, 2)))
        for at, name in ((local(2025, 3, 20), "op-b"), (local(2025, 4, 5), "op-c")):  # op-c: after the month
            conn.execute("INSERT INTO auth_event (at, actor, kind, subject) VALUES (%s, 'an', 'user_disabled', %s)",
                         (at, name))
    store = RegisterStore(dsn)
    dc = approved("datacenter", 4, live=True, cleared_on=date(2023, 7, 1), onsite_users=("op-a", "op-c"),
                  monitoring_org="SOC tỉnh", last_inspection=date(2024, 4, 1), next_inspection=date(2025, 4, 10),
                  inspection_findings=5, inspection_org="Công ty A", layer4_connected=True)
    inspected = replace(dc, last_inspection=date(2025, 3, 12), next_inspection=date(2026, 3, 12),
                        inspection_findings=3, inspection_org="Công ty B")
    try:
        for entry, at, reason in (
            (dc, local(2025, 1, 10), "lập sổ"),
            (inspected, local(2025, 3, 15, 9), "kiểm tra định kỳ"),
            (replace(inspected, level=5), local(2025, 4, 3), "xác định lại"),
            (approved("lgsp", 3, live=True, cleared_on=date(2023, 7, 1), onsite_users=("op-b",),
                      monitoring_org="SOC tỉnh", last_inspection=date(2024, 3, 1), next_inspection=date(2025, 3, 1),
                      layer4_connected=True), local(2025, 2, 1), "lập sổ"),
            (Entry("baocao", level=2, plan_status="submitted", live=True, onsite_contact="Đỗ Thu Trang – 0976 443 019"),
             local(2025, 3, 5, 10), "hồ sơ đang thẩm định"),
            (approved("gis", 2, environment="test", real_data=True), local(2025, 3, 8), "môi trường thử nghiệm"),
            (approved("email", 2, live=True, cleared_on=date(2023, 6, 10)), local(2025, 2, 10), "lập sổ"),
            (approved("legacy-portal", 1), local(2025, 2, 1), "hệ thống cũ"),
        ):
            store.save(entry, actor="an", reason=reason, at=at)
    finally:
        store.close()
    # a retirement inside the month: what RegisterStore.retire writes in its transaction, dated 25/3
    with psycopg.connect(dsn) as conn, conn.transaction():
        at = local(2025, 3, 25, 16)
        conn.execute("UPDATE security_register SET valid_to = %s, retired_by = 'binh' "
                     "WHERE system = 'email' AND valid_to IS NULL", (at,))
        conn.execute("INSERT INTO auth_event (at, actor, kind, subject, detail) "
                     "VALUES (%s, 'binh', 'register_retired', 'email', %s)", (at, Jsonb({"reason": "ngừng sử dụng"})))


@pytest.fixture(scope="module")
def dsn(stack):
    with scratch_database(ADMIN_DSN, f"ioc_test_regrep_{uuid.uuid4().hex[:8]}") as url:
        fill(url)
        yield url


@pytest.fixture(scope="module")
def expected(dsn) -> dict:
    """The figures, from the database's rows by other queries than the store's."""
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        rows = conn.execute("SELECT * FROM security_register WHERE valid_from < %(end)s "
                            "AND (valid_to IS NULL OR valid_to >= %(end)s)", {"end": END}).fetchall()
        events = conn.execute("SELECT subject, kind FROM auth_event WHERE kind IN ('user_disabled', 'user_enabled') "
                              "AND at < %s ORDER BY at, id", (END,)).fetchall()
        users = {r["name"]: True for r in conn.execute("SELECT name FROM users WHERE created_at < %s", (END,))}
        n_changes = conn.execute(
            "SELECT (SELECT count(*) FROM security_register WHERE valid_from >= %(s)s AND valid_from < %(e)s) "
            "+ (SELECT count(*) FROM security_register WHERE retired_by IS NOT NULL "
            "   AND valid_to >= %(s)s AND valid_to < %(e)s) AS n", {"s": START, "e": END}).fetchone()["n"]
    for e in events:
        users[e["subject"]] = e["kind"] == "user_enabled"
    codes = [s.code for s in load_province(Settings().province_file).systems]
    by = {r["system"]: r for r in rows if r["system"] in codes}
    ok = [r for r in by.values() if r["level"] and r["approval_number"] and r["approval_date"]
          and r["plan_status"] == "approved"]
    layers = {n: {"ok": 0, "due": 0, "missing": 0} for n in (1, 2, 3, 4)}
    for code in codes:
        row = by.get(code)
        for n, status in coverage(entry_from_row(row) if row else None, users, LAST_DAY, load_policy()).items():
            layers[n][status] += 1
    return {
        "systems": len(codes), "approved": len(ok), "share": len(ok) / len(codes),
        "levels": {n: sum(r["level"] == n for r in by.values()) for n in (1, 2, 3, 4, 5)} |
                  {None: len(codes) - sum(r["level"] is not None for r in by.values())},
        "overdue": sum(r["next_inspection"] is not None and r["next_inspection"] < LAST_DAY for r in by.values()),
        "uncleared": sum(r["live"] and r["environment"] == "production"
                         and (r["cleared_on"] is None or r["cleared_on"] > LAST_DAY) for r in by.values()),
        "test_real": sum(r["environment"] == "test" and r["real_data"] for r in by.values()),
        "gone": len({u for r in by.values() for u in r["onsite_users"] if not users.get(u, False)}),
        "layers": layers, "codes": codes, "rows": by, "changes": n_changes,
    }


def test_the_scenario_is_what_the_figures_should_show(expected):
    """The independent reading, checked against the scenario written above."""
    assert (expected["systems"], expected["approved"]) == (9, 3)                  # datacenter, lgsp, gis
    assert expected["levels"] == {1: 0, 2: 2, 3: 1, 4: 1, 5: 0, None: 5}           # the April level 5 not yet
    assert (expected["overdue"], expected["uncleared"], expected["test_real"], expected["gone"]) == (1, 1, 1, 1)
    assert expected["changes"] == 4                                                # 15/3, 5/3, 8/3 and the retirement


@pytest.fixture(scope="module")
def reports(dsn, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reports")
    for lang in ("vi", "en"):
        assert main(["register", "report", "--month", MONTH, "--lang", lang, "--out", str(out),
                     "--database-url", dsn]) == 0
    return {lang: (out / f"register-report-{MONTH}-{lang}.pdf", out / f"register-report-{MONTH}-{lang}.xlsx")
            for lang in ("vi", "en")}


def pdf_pages(path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return [p for p in text.split("\f") if p.strip()]


def line_with(text: str, label: str) -> str:
    lines = [line for line in text.splitlines() if label in line]
    assert lines, f"{label!r} not in the PDF's text"
    return lines[0]


def number_after(text: str, label: str) -> int:
    return int(line_with(text, label).split(label, 1)[1].split()[-1])


def percent_after(text: str, label: str) -> float:
    found = re.search(r"(\d+(?:[.,]\d+)?) %\s*$", line_with(text, label))
    assert found, line_with(text, label)
    return float(found.group(1).replace(",", ".")) / 100


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_pdf_shows_the_registers_figures(reports, expected, lang):
    pages = pdf_pages(reports[lang][0])
    first = pages[0]

    def w(key, **kw):
        return t(key, lang).format(**kw) if kw else t(key, lang)

    assert number_after(first, w("regrep_h_systems")) == expected["systems"]
    assert number_after(first, w("regrep_h_approved")) == expected["approved"]
    assert percent_after(first, w("regrep_h_share")) == pytest.approx(expected["share"], abs=0.0005)
    assert line_with(first, "274/KH-UBND").rstrip().endswith(w("regrep_not_met"))
    assert number_after(first, w("regrep_h_overdue")) == expected["overdue"]
    assert number_after(first, w("regrep_h_uncleared")) == expected["uncleared"]
    assert number_after(first, w("regrep_h_test_real")) == expected["test_real"]
    assert number_after(first, w("regrep_h_gone")) == expected["gone"]
    for level in (1, 2, 3, 4, 5):
        assert number_after(first, w("regrep_level_n", n=level)) == expected["levels"][level]
    assert number_after(first, w("regrep_unclassified")) == expected["levels"][None]
    for n in (1, 2, 3, 4):
        counts = [int(x) for x in line_with(first, w(f"layer_{n}")).split(w(f"layer_{n}"), 1)[1].split()]
        assert counts == [expected["layers"][n][s] for s in ("ok", "due", "missing")]
    rest = "\n".join(pages[1:])
    for code in expected["codes"]:  # one row per system: its code, then its level
        cells = next(line.split() for line in rest.splitlines() if line.split()[:1] == [code])
        row = expected["rows"].get(code)
        assert cells[1] == (str(row["level"]) if row and row["level"] else "—"), code
    assert "legacy-portal" in rest and w("regrep_not_in_province").split()[0] in rest
    assert "kiểm tra định kỳ" in rest and "ngừng sử dụng" in rest and "binh" in rest
    assert "Công ty B" in rest and "xác định lại" not in rest      # the April version is not March's
    period = w("regrep_period", m=w("regrep_m03"), year=2025)
    for i, page in enumerate(pages, start=1):  # the province and the month at the top of every page, its number
        assert w("regrep_province", province="Kiên Giang") in page and period in page
        assert re.search(rf"{w('regrep_page')} {i} {re.escape(w('regrep_page_of'))} {len(pages)}", page)
    fonts = subprocess.run(["pdffonts", str(reports[lang][0])], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]]
    assert names and all(n.startswith("DejaVu-Sans") for n in names), names  # every glyph from DejaVu Sans, embedded


def test_the_english_report_has_english_headings_and_the_vietnamese_vietnamese(reports):
    vi, en = ("\n".join(pdf_pages(reports[lang][0])) for lang in ("vi", "en"))
    for key in ("regrep_title", "regrep_s_headline", "regrep_s_levels", "regrep_s_layers", "regrep_s_systems",
                "regrep_s_changes", "regrep_s_inspections"):
        assert t(key, "en") in en and t(key, "en") not in vi
        assert t(key, "vi") in vi and t(key, "vi") not in en
    assert "Headline figures" in en and "Số liệu chính" in vi and "March 2025" in en and "Tháng 03/2025" in vi
    assert load_workbook(reports["en"][1]).sheetnames == ["Summary", "Systems", "Changes", "Inspections"]
    assert load_workbook(reports["vi"][1]).sheetnames == ["Tổng hợp", "Hệ thống", "Thay đổi", "Kiểm tra"]


def cells_by_label(ws) -> dict:
    return {r[0]: r[1:] for r in ws.iter_rows(values_only=True) if isinstance(r[0], str)}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_xlsx_shows_the_registers_figures(reports, expected, lang):
    book = load_workbook(reports[lang][1])
    summary, systems, changes, inspections = book.worksheets
    got = cells_by_label(summary)
    assert got[t("regrep_h_systems", lang)][0] == expected["systems"]
    assert got[t("regrep_h_approved", lang)][0] == expected["approved"]
    assert got[t("regrep_h_share", lang)][0] == pytest.approx(expected["share"])
    assert got[t("regrep_h_overdue", lang)][0] == expected["overdue"]
    assert got[t("regrep_h_uncleared", lang)][0] == expected["uncleared"]
    assert got[t("regrep_h_test_real", lang)][0] == expected["test_real"]
    assert got[t("regrep_h_gone", lang)][0] == expected["gone"]
    for level in (1, 2, 3, 4, 5):
        assert got[t("regrep_level_n", lang).format(n=level)][0] == expected["levels"][level]
    for n in (1, 2, 3, 4):
        assert list(got[t(f"layer_{n}", lang)][:3]) == [expected["layers"][n][s] for s in ("ok", "due", "missing")]
    assert len(summary._charts) == 1  # the chart of the four layers' coverage

    header, *rows = list(systems.iter_rows(values_only=True))
    col = {name: i for i, name in enumerate(header)}
    by_code = {r[0]: r for r in rows}
    assert list(by_code)[:9] == expected["codes"] and "legacy-portal" in by_code
    for code in expected["codes"]:
        row = expected["rows"].get(code)
        assert by_code[code][col[t("regrep_f_level", lang)]] == (row["level"] if row else None)
        assert by_code[code][col[t("regrep_c_approved", lang)]] == t(
            "regrep_yes" if row and row["plan_status"] == "approved" and row["approval_number"] else "regrep_no", lang)
    assert by_code["datacenter"][col[t("regrep_f_last_inspection", lang)]].date() == date(2025, 3, 12)
    assert by_code["lgsp"][col[t("regrep_c_overdue_days", lang)]] == 30
    assert by_code["lgsp"][col[t("layer_1", lang)]] == t("regrep_missing", lang)        # op-b disabled on 20/3
    assert by_code["datacenter"][col[t("layer_1", lang)]] == t("regrep_ok", lang)       # op-c only in April

    header, *rows = list(changes.iter_rows(values_only=True))
    assert len(rows) == expected["changes"]
    assert [(r[1], r[2], r[3], r[4]) for r in rows] == [
        ("baocao", t("regrep_k_created", lang), "an", "hồ sơ đang thẩm định"),
        ("gis", t("regrep_k_created", lang), "an", "môi trường thử nghiệm"),
        ("datacenter", t("regrep_k_changed", lang), "an", "kiểm tra định kỳ"),
        ("email", t("regrep_k_retired", lang), "binh", "ngừng sử dụng"),
    ]
    assert rows[2][0] == datetime(2025, 3, 15, 9) and t("regrep_f_inspection_org", lang) in rows[2][5]
    header, *rows = list(inspections.iter_rows(values_only=True))
    assert [(r[0].date(), r[1], r[2], r[3]) for r in rows] == [(date(2025, 3, 12), "datacenter", "Công ty B", 3)]


def png_size(path) -> tuple[int, int]:
    return struct.unpack(">II", path.read_bytes()[16:24])


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_pictures_of_the_first_pages(reports, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    prefix = SHOTS / f"register-{MONTH}-{lang}"
    for old in SHOTS.glob(f"{prefix.name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "80", "-png", "-f", "1", "-l", "2", str(reports[lang][0]), str(prefix)],
                   check=True)
    first, second = sorted(SHOTS.glob(f"{prefix.name}-*.png"))
    width, height = png_size(first)
    assert (width, height) == (662, 936)         # A4 portrait at 80 dpi: the headline figures
    assert png_size(second) == (936, 662)        # A4 landscape: one row per system

"""/console/register: the table by role, edits with a reason and their audit, refusals on the server,
CSV and XLSX files out and back in, imports refused whole; in Chromium, an admin's edit through the
form (screenshots in .run/screenshots/console/)."""
from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date, timedelta

import pytest
from flask import request
from selenium.webdriver.common.keys import Keys

from agents.indicators.register import EDITABLE, Entry, Policy, from_rows, parse_entry
from agents.indicators.register_files import read_rows
from agents.indicators.register_store import RegisterStore
from ioc_dash.console.register_view import (GROUPS, explain, field_id, field_prop, form_values, register_table,
                                            values_from_form)
from streams.core.geography import load_province
from tests.ioc_dash.conftest import PASSWORD, client_for, dash_call, wall_client
from tests.ioc_dash.test_hostile_text import CHECK_JS, INJECTED, hostile
from tests.ioc_dash.console.test_console_db import page
from tests.support import ROOT

SAMPLE = ROOT / "simulators" / "data" / "register_sample.csv"
TABLE = "..register-table-host.children...register-system.options.."
IMPORT = "..register-import-result.children...register-imported.data.."


def key(app, output: str) -> str:
    """The callback map's key of the callback that writes ``output``."""
    return next(k for k in app.callback_map if output in k.strip(".").split("..."))


def save(c, app, values: dict, button: str = "reg-save.n_clicks"):
    return dash_call(c, app, key(app, "register-result.children"), values, button)


# --- pure pieces ---------------------------------------------------------------------------------


def test_the_form_has_every_field_once_and_gives_back_what_it_was_given():
    assert sorted(f for _, _, names in GROUPS for f in names) == sorted(EDITABLE)
    e = Entry("gis", level=2, approval_number="2012/QĐ-STTTT", approval_date=date(2023, 5, 30), plan_status="approved",
              environment="test", real_data=True, onsite_users=("an", "binh"), onsite_contact="Lộc – 0945",
              last_inspection=date(2024, 9, 2), next_inspection=date(2026, 9, 2), inspection_findings=5)
    assert parse_entry("gis", values_from_form(form_values(e))) == e
    assert parse_entry("gis", values_from_form(form_values(Entry("gis")))) == Entry("gis")


@pytest.mark.parametrize("message, vi, en", [
    ("next_inspection: before last_inspection",
     "Lần kiểm tra kế tiếp: trước lần kiểm tra gần nhất — chưa lưu gì.",
     "Next inspection: before the last inspection — nothing was saved."),
    ("level: 7 must be a whole number 1–5", "Cấp độ: 7 phải là số nguyên 1–5 — chưa lưu gì.",
     "Level: 7 must be a whole number 1–5 — nothing was saved."),
    ("row 4: approval_date: '31/02/2024' is not a date (YYYY-MM-DD or DD/MM/YYYY)",
     "Dòng 4: Ngày phê duyệt: '31/02/2024' không phải ngày (YYYY-MM-DD hoặc DD/MM/YYYY) — chưa lưu gì.",
     "Row 4: Approval date: '31/02/2024' is not a date (YYYY-MM-DD or DD/MM/YYYY) — nothing was saved."),
    ("row 11: system 'camera' is not in the province file",
     "Dòng 11: Hệ thống: 'camera' không có trong danh mục hệ thống của tỉnh — chưa lưu gì.",
     "Row 11: System: 'camera' is not in the province file — nothing was saved."),
    ("x.txt: a .csv or .xlsx file is expected", "cần tệp .csv hoặc .xlsx", "a .csv or .xlsx file is expected"),
    ("unknown column(s): colour; columns: system, level", "cột không xác định: colour",
     "unknown column(s): colour"),
])
def test_a_refusal_names_the_row_and_the_field_in_the_page_language(message, vi, en):
    assert explain(message, "vi") == vi and explain(message, "en") == en


def test_the_table_colours_each_layer_and_says_it_in_words():
    today = date(2026, 6, 1)
    entries = {"dvc": Entry("dvc", level=3, onsite_users=("an",), monitoring_org="SOC",
                            last_inspection=date(2026, 5, 5), next_inspection=date(2026, 6, 20)),
               "old": Entry("old", onsite_users=("gone",))}
    table = register_table({"dvc": "Cổng dịch vụ công", "gis": "GIS"}, entries, {"an": True}, today,
                           Policy(30, {}), "vi")
    rows = {r.id: r for r in table.children[1].children}
    assert list(rows) == ["reg-row-dvc", "reg-row-gis", "reg-row-old"]  # the province's, then the others
    layers = [(td.className, td.children) for td in rows["reg-row-dvc"].children
              if "reg-cov" in getattr(td, "className", "")]
    assert layers == [("reg-cov reg-cov-ok", "Đạt"), ("reg-cov reg-cov-ok", "Đạt"),
                      ("reg-cov reg-cov-due", "Sắp hạn"), ("reg-cov reg-cov-missing", "Thiếu")]  # words too
    assert [td.children for td in rows["reg-row-gis"].children][1:3] == ["Chưa có hồ sơ", "Thiếu"]
    text = str(rows["reg-row-old"])
    assert "không có trong danh mục tỉnh" in text and "gone (không còn hoạt động)" in text


# --- the page through Flask ----------------------------------------------------------------------


@pytest.fixture
def register(test_settings, db):
    """The register with the sample's entries for the test; afterwards exactly as it was (versions
    added are deleted, versions closed are current again).  Entries of systems outside the province
    file, which other tests may leave, are set aside meanwhile."""
    top = db.execute("SELECT coalesce(max(id), 0) FROM security_register").fetchone()[0]
    current = [r[0] for r in db.execute("SELECT id FROM security_register WHERE valid_to IS NULL")]
    codes = [s.code for s in load_province(test_settings.province_file).systems]
    db.execute("UPDATE security_register SET valid_to = now() WHERE valid_to IS NULL AND NOT system = ANY(%s)",
               (codes,))
    store = RegisterStore(test_settings.dsn, max_connections=1)
    store.import_entries(from_rows(read_rows(SAMPLE.read_bytes(), SAMPLE.name), known=codes).entries,
                         actor="tests", source=SAMPLE.name)
    yield store
    store.close()
    db.execute("DELETE FROM security_register WHERE id > %s", (top,))
    db.execute("UPDATE security_register SET valid_to = NULL, retired_by = NULL WHERE id = ANY(%s)", (current,))


@pytest.fixture
def codes(test_settings) -> list[str]:
    return [s.code for s in load_province(test_settings.province_file).systems]


def current(store: RegisterStore) -> dict[str, Entry]:
    return {e.system: e for e in store.entries()}


def form(system: str, entry: Entry, reason: str = "", lang: str = "vi", **changes) -> dict:
    """The values a browser sends when Save is clicked with ``entry`` (changed by ``changes``) in the form."""
    values = dict(zip(EDITABLE, form_values(replace(entry, **changes)), strict=True))
    return {"reg-save.n_clicks": 1, "register-system.value": system, "reg-reason.value": reason,
            "console-lang.data": lang, **{f"{field_id(n)}.{field_prop(n)}": v for n, v in values.items()}}


def said(response) -> str:
    """A callback's answer as text, "/" unescaped."""
    return json.dumps(response.get_json(), ensure_ascii=False)


def shown(c, app) -> str:
    return json.dumps(json.loads(page(c, app, "/console/register")), ensure_ascii=False)


def upload(name: str, data: bytes, reason: str = "") -> dict:
    contents = "data:application/octet-stream;base64," + base64.b64encode(data).decode()
    return {"reg-upload.contents": contents, "reg-upload.filename": name, "reg-import-reason.value": reason,
            "console-lang.data": "vi"}


def events(db, actor: str) -> list[tuple]:
    """The register's audit events by ``actor``, oldest first."""
    return db.execute("SELECT kind, subject, detail FROM auth_event WHERE actor = %s AND kind LIKE 'register%%' "
                      "ORDER BY id", (actor,)).fetchall()


def test_every_role_reads_the_table_only_an_admin_changes_it(app, signed_in, register, codes, db, test_settings):
    viewer = signed_in("viewer")
    seen = shown(viewer, app)
    assert "register-read-only" in seen and "reg-form-panel" not in seen and "reg-upload" not in seen
    assert "register-export-csv" in seen and '"href": "/console/register"' in seen  # in the console's navigation
    table = said(dash_call(viewer, app, TABLE, {"console-lang.data": "vi"}))
    for code in codes:
        assert f"reg-row-{code}" in table
    assert "reg-cov-ok" in table and "reg-cov-missing" in table  # gis: no monitoring organisation
    before = register.history("dvc")
    entry = current(register)["dvc"]
    forged = save(viewer, app, form("dvc", entry, "giả mạo", level=5))
    assert forged.status_code == 403
    forged = dash_call(viewer, app, IMPORT, upload("x.csv", SAMPLE.read_bytes()), "reg-upload.contents")
    assert forged.status_code == 403
    assert dash_call(viewer, app, key(app, "reg-f-level.value"), {"register-system.value": "dvc"},
                     "register-system.value").status_code == 403
    assert register.history("dvc") == before and events(db, viewer.name) == []
    assert viewer.get("/console/register.csv").status_code == 200
    operator = signed_in("operator")
    assert "register-read-only" in shown(operator, app)
    assert save(operator, app, form("dvc", entry, "x")).status_code == 403

    wall = wall_client(app, test_settings)
    on_wall = shown(wall, app)
    assert "register-read-only" in on_wall and "register-export-csv" not in on_wall
    assert "reg-row-dvc" in said(dash_call(wall, app, TABLE, {"console-lang.data": "vi"}))
    assert wall.get("/console/register.csv").status_code == 403
    assert wall.get("/console/register.xlsx").status_code == 403
    assert client_for(app).get("/console/register.csv").status_code in (302, 401)  # signed in only


def test_an_admin_saves_with_a_reason_bad_values_store_nothing(app, signed_in, register, db):
    admin = signed_in("admin")
    seen = shown(admin, app)
    assert "reg-form-panel" in seen and "reg-upload" in seen and "register-read-only" not in seen
    entry = current(register)["eoffice"]
    filled = said(dash_call(admin, app, key(app, "reg-f-level.value"),
                            {"register-system.value": "eoffice", "console-lang.data": "vi"}, "register-system.value"))
    assert entry.onsite_contact in filled and "Ngừng theo dõi hồ sơ của eoffice?" in filled
    before = register.history("eoffice")

    def refused(values, says):
        r = save(admin, app, values)
        assert r.status_code == 200 and says in said(r), said(r)
        assert register.history("eoffice") == before

    refused(form("eoffice", entry, "kiểm tra lại", next_inspection=date(2024, 1, 1)),
            "Lần kiểm tra kế tiếp: trước lần kiểm tra gần nhất — chưa lưu gì.")
    refused(form("eoffice", entry, "", level=4), "Lý do thay đổi: bắt buộc — chưa lưu gì.")
    refused({**form("eoffice", entry, "x"), "reg-f-level.value": 7}, "Cấp độ: 7 phải là số nguyên 1–5")
    refused({**form("eoffice", entry, "x"), "reg-f-inspection_findings.value": -1},
            "Số phát hiện khi kiểm tra: -1 phải là số nguyên ≥ 0")
    refused(form("khong-co", entry, "x"), "Chọn một hệ thống trong danh sách.")
    assert events(db, admin.name) == []

    r = save(admin, app, form("eoffice", entry, "Kiểm tra 2026 xong", inspection_findings=0,
                              last_inspection=date(2026, 5, 1), next_inspection=date(2027, 5, 1)))
    text = said(r)
    assert "Đã lưu eoffice, phiên bản #" in text and "Lần kiểm tra gần nhất" in text
    assert r.get_json()["response"]["reg-reason"] == {"value": ""}  # each change gives its own reason
    now = register.history("eoffice")[0]
    assert (now["changed_by"], now["change_reason"], now["inspection_findings"]) == (admin.name, "Kiểm tra 2026 xong",
                                                                                     0)
    kind, subject, detail = events(db, admin.name)[-1]
    assert (kind, subject) == ("register_changed", "eoffice")
    assert set(detail["fields"]) == {"last_inspection", "next_inspection", "inspection_findings"}
    again = save(admin, app, form("eoffice", current(register)["eoffice"], "lại"))
    assert "eoffice: không có gì thay đổi." in said(again) and len(register.history("eoffice")) == len(before) + 1

    history = said(dash_call(admin, app, "register-history.children",
                             {"register-system.value": "eoffice", "console-lang.data": "vi"}))
    assert "Kiểm tra 2026 xong" in history and admin.name in history and "đang hiệu lực" in history
    assert "Lần kiểm tra gần nhất, Lần kiểm tra kế tiếp, Số phát hiện khi kiểm tra" in history

    retire = {**form("eoffice", current(register)["eoffice"], "Hệ thống thay thế"),
              "reg-retire.submit_n_clicks": 1}
    assert "Đã ngừng theo dõi eoffice." in said(save(admin, app, retire, "reg-retire.submit_n_clicks"))
    assert "eoffice" not in current(register) and events(db, admin.name)[-1][:2] == ("register_retired", "eoffice")
    history = said(dash_call(admin, app, "register-history.children",
                             {"register-system.value": "eoffice", "console-lang.data": "vi"}))
    assert f"ngừng theo dõi bởi {admin.name}" in history


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_exported_file_imports_back_to_the_same_values(app, signed_in, register, db, kind):
    admin = signed_in("admin")
    r = admin.get(f"/console/register.{kind}")
    assert r.status_code == 200 and f'.{kind}"' in r.headers["Content-Disposition"]
    exported = r.get_data()
    before = current(register)
    assert from_rows(read_rows(exported, f"x.{kind}")).entries == tuple(before.values())
    r = save(admin, app, form("dvc", before["dvc"], "thử", level=5, monitoring_org="khác"))
    assert "Đã lưu dvc" in said(r) and current(register)["dvc"].level == 5
    r = dash_call(admin, app, IMPORT, upload(f"so-attt.{kind}", exported, "khôi phục"), "reg-upload.contents")
    assert f"Đã nhập so-attt.{kind}: 1 hệ thống thay đổi, {len(before) - 1} không đổi." in said(r)
    assert current(register) == before
    kind_, subject, detail = events(db, admin.name)[-1]
    assert (kind_, subject, detail["systems"], detail["reason"]) == ("register_imported", f"so-attt.{kind}", ["dvc"],
                                                                     "khôi phục")


def test_an_import_with_a_wrong_row_imports_nothing_and_names_the_row(app, signed_in, register, db):
    admin = signed_in("admin")
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace("ndxp,3,", "ndxp,9,")  # row 4: level 9
    lines.append(lines[1].replace("datacenter,", "camera,"))  # row 11: not a system of the province
    changed = [line.replace("UBND tỉnh", "UBND tỉnh Kiên Giang") for line in lines]
    count = db.execute("SELECT count(*) FROM security_register").fetchone()[0]
    r = dash_call(admin, app, IMPORT, upload("sai.csv", "\n".join(changed).encode()), "reg-upload.contents")
    text = said(r)
    assert "Không nhập gì: 2 dòng sai trong sai.csv." in text
    assert "Dòng 4: Cấp độ: '9' phải là số nguyên 1–5" in text
    assert "Dòng 11: Hệ thống: 'camera' không có trong danh mục hệ thống của tỉnh" in text
    assert db.execute("SELECT count(*) FROM security_register").fetchone()[0] == count
    r = dash_call(admin, app, IMPORT, upload("notes.txt", b"system\ndvc\n"), "reg-upload.contents")
    assert "Không nhập được notes.txt: cần tệp .csv hoặc .xlsx" in said(r)
    assert [e[0] for e in events(db, admin.name)] == []


# --- in Chromium ---------------------------------------------------------------------------------

SHOTS = ROOT / ".run" / "screenshots" / "console"


@pytest.fixture
def site(test_settings, users, uniq):
    """The real dashboard app served from a thread, an admin and a viewer, one headless Chromium, and the
    status of every Dash callback the page made."""
    from ioc_dash.app import create_app
    from tests.ioc_dash.browser import Browser
    from tests.ioc_dash.screens import serve

    people = {role: uniq(role) for role in ("admin", "viewer")}
    for role, name in people.items():
        users.add_user(name, role, PASSWORD, actor="tests")
    app = create_app(test_settings)
    statuses: list[int] = []

    @app.server.after_request
    def record(response):
        if request.path == "/_dash-update-component":
            statuses.append(response.status_code)
        return response

    browser = Browser("register")
    try:
        with serve(app) as base:
            yield base, browser, people, statuses
    finally:
        browser.close()


def viewport(browser, width: int, height: int) -> None:
    browser.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                          "deviceScaleFactor": 1, "mobile": False})


def sign_in(browser, base: str, name: str, lang: str) -> None:
    browser.login(base, name, PASSWORD, lang=lang)
    browser.wait(lambda: "/login" not in browser.driver.current_url, what="sign-in")


def type_date(browser, css: str, day_month_year: str) -> None:
    """Type a date into a date picker (as dd/mm/yyyy), commit it, close its calendar."""
    field = browser.find(css)
    field.click()
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(day_month_year, Keys.ENTER)
    browser.find("body").send_keys(Keys.ESCAPE)


#: how far the register's table sticks out of its panel (0: it fits, nothing to scroll to)
OVERFLOW_JS = """const host = document.getElementById('register-table-host');
return host.scrollWidth - host.clientWidth;"""


def test_an_admin_edits_an_entry_in_the_browser_a_viewer_only_reads(site, register, db):
    base, browser, people, statuses = site
    admin = people["admin"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewport(browser, 1920, 1080)
    sign_in(browser, base, admin, "vi")
    browser.get(f"{base}/console/register?lang=vi")
    browser.wait_text("Huỳnh Văn Lộc", "#reg-row-gis")
    assert [c.text for c in browser.all("#reg-row-gis .reg-cov")][1] == "Thiếu"  # no monitoring organisation
    assert browser.driver.execute_script(OVERFLOW_JS) <= 0
    browser.driver.save_screenshot(str(SHOTS / "register-admin-1920x1080.png"))
    browser.driver.execute_script("document.getElementById(arguments[0]).click()",
                                  json.dumps({"system": "gis", "type": "reg-pick"}, separators=(",", ":")))
    contact = "Huỳnh Văn Lộc – 0945 210 877"
    browser.wait(lambda: browser.find("#reg-f-onsite_contact").get_attribute("value") == contact,
                 what="the form filled with gis")
    browser.wait_text("(phiên bản đầu)", "#register-history")
    versions = len(register.history("gis"))

    type_date(browser, "#reg-f-next_inspection", "01/01/2020")  # before the last inspection (02/09/2024)
    browser.find("#reg-reason").send_keys("Lịch kiểm tra mới")
    browser.find("#reg-save").click()
    browser.wait_text("Lần kiểm tra kế tiếp: trước lần kiểm tra gần nhất — chưa lưu gì.",
                      "#register-result")
    assert len(register.history("gis")) == versions and events(db, admin) == []

    next_time = date.today() + timedelta(days=200)  # beyond the 30 days in which an inspection is due
    type_date(browser, "#reg-f-next_inspection", next_time.strftime("%d/%m/%Y"))
    org = "Trung tâm Giám sát điều hành đô thị thông minh (SOC)"
    browser.find("#reg-f-monitoring_org").send_keys(org)
    browser.find("#reg-save").click()
    browser.wait_text("Đã lưu gis, phiên bản #", "#register-result")
    now = register.history("gis")[0]
    assert (now["monitoring_org"], now["next_inspection"], now["changed_by"], now["change_reason"]) == (
        org, next_time, admin, "Lịch kiểm tra mới")
    assert len(register.history("gis")) == versions + 1
    kind, subject, detail = events(db, admin)[-1]
    assert (kind, subject, set(detail["fields"])) == ("register_changed", "gis", {"monitoring_org", "next_inspection"})
    browser.wait_text("Lịch kiểm tra mới", "#register-history")
    layers = ["Đạt", "Đạt", "Đạt", "Thiếu"]
    browser.wait(lambda: [c.text for c in browser.all("#reg-row-gis .reg-cov")] == layers,
                 what="layers 2 and 3 of gis covered")
    browser.driver.execute_script("document.getElementById('register-detail').scrollIntoView()")
    browser.driver.save_screenshot(str(SHOTS / "register-admin-form-1920x1080.png"))
    viewport(browser, 1920, browser.driver.execute_script("return document.documentElement.scrollHeight"))
    browser.driver.save_screenshot(str(SHOTS / "register-admin-full-1920.png"))

    viewport(browser, 1920, 1080)
    sign_in(browser, base, people["viewer"], "en")
    browser.get(f"{base}/console/register?lang=en")
    browser.wait_text("Missing", "#reg-row-gis")  # layer 4: not connected
    browser.find(".reg-pick").click()
    browser.wait_text("(first version)", "#register-history")
    assert not browser.all("#reg-form-panel") and not browser.all("#reg-upload") and browser.all("#register-read-only")
    browser.driver.save_screenshot(str(SHOTS / "register-viewer-en-1920x1080.png"))

    marked = {k: hostile(k) for k in ("org", "contact", "authority", "reason")}  # markup typed into an entry
    call = current(register)["callcenter"]
    register.save(replace(call, monitoring_org=marked["org"], onsite_contact=marked["contact"],
                          approval_authority=marked["authority"]), actor="tests", reason=marked["reason"])
    browser.get(f"{base}/console/register?lang=en")
    browser.wait_text(marked["org"], "#reg-row-callcenter")
    browser.driver.execute_script("document.getElementById(arguments[0]).click()",
                                  json.dumps({"system": "callcenter", "type": "reg-pick"}, separators=(",", ":")))
    browser.wait_text(marked["reason"], "#register-history")
    seen = browser.driver.execute_script(CHECK_JS, INJECTED)
    assert not seen["pwned"] and not seen["injected"]  # shown as the characters they are, never run
    assert all(text in seen["text"] for text in marked.values())
    assert browser.driver.execute_script(OVERFLOW_JS) <= 0  # long words wrap
    assert statuses and set(statuses) == {200}  # nothing the pages asked for was refused

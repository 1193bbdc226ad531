"""/console/register: the security register of the information systems (``docs/security-register.md``).

Every role that may view reads the table (each system of the province file and of the register,
with its four-layer coverage) and a chosen system's versions; signed-in users, not wall screens,
export it as CSV or XLSX (``/console/register.csv``, ``/console/register.xlsx``).  Admins
(``register.manage``) edit an entry with a reason, retire it, and import a file: all of it, or
nothing when a row is wrong.  The callbacks that change anything are refused before they run for
any other role (``guard_outputs``) and check again themselves; every change goes through
``RegisterStore``, which keeps the version with who and why and writes an ``auth_event``.
"""
from __future__ import annotations

import base64
import binascii
import threading

from dash import ALL, Input, Output, State, ctx, dcc, hooks, html, no_update
from flask import Response, abort, current_app

from agents.indicators.register import EDITABLE, Entry, entry_from_row, from_rows, load_policy, parse_entry
from agents.indicators.register_files import CSV_TYPE, XLSX_TYPE, csv_bytes, read_rows, xlsx_bytes
from agents.indicators.register_store import RegisterStore
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, lang_store, settings
from ioc_dash.console.register_view import (CSV_HREF, IMPORT_RESULT, PICK, RESULT, XLSX_HREF, edit_form, explain,
                                            exports, field_id, field_prop, form_values, history_table, import_panel,
                                            legend, register_table, systems_in_order, user_options,
                                            values_from_form)
from ioc_dash.console.views import forbidden, nav
from ioc_dash.i18n import t
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError, IOCError
from streams.core.geography import load_province

PATH = "/console/register"
CSV_ROUTE, XLSX_ROUTE = CSV_HREF.lstrip("/"), XLSX_HREF.lstrip("/")
SYSTEM, TABLE, HISTORY = "register-system", "register-table-host", "register-history"
SAVED, IMPORTED = "register-saved", "register-imported"  # bumped after a change: the table and history redraw
guard_outputs({RESULT: "register.manage", IMPORT_RESULT: "register.manage", "reg-reason": "register.manage",
               **{field_id(name): "register.manage" for name in EDITABLE}})
_lock = threading.Lock()


def store() -> RegisterStore:
    """One store (a small connection pool) per dashboard process."""
    ext = current_app.extensions
    with _lock:
        if "ioc_register" not in ext:
            ext["ioc_register"] = RegisterStore(settings().dsn, max_connections=4)
        return ext["ioc_register"]


def province_names(lang: str) -> dict[str, str]:
    """Code -> name of the province file's systems, in its order (read once per process)."""
    ext = current_app.extensions
    if "ioc_register_systems" not in ext:
        wall = current_app.config.get("IOC_CONTEXT")
        province = wall.province if wall is not None else load_province(settings().province_file)
        ext["ioc_register_systems"] = [(s.code, s.name, s.name_en) for s in province.systems]
    return {code: (name_en if lang == "en" else name) for code, name, name_en in ext["ioc_register_systems"]}


def _today():
    return utcnow().astimezone(LOCAL_TZ).date()


def _error(text: str, element_id: str | None = None) -> html.Div:
    return html.Div(text, className="console-error", id=element_id)


# --- the page ------------------------------------------------------------------------------------


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, PATH)
    admin = can(principal, "register.manage")
    users: list[str] = []
    if admin:
        try:
            users = sorted(name for name, active in store().user_states().items() if active)
        except IOCError:
            users = []  # the table's callback says what failed
    return html.Div([
        nav(principal, lang, PATH),
        lang_store(lang),
        dcc.Store(id=SAVED, data=0),
        dcc.Store(id=IMPORTED, data=0),
        dcc.Store(id="register-scroll"),
        html.H1(t("con_register", lang)),
        html.P(t("con_reg_intro", lang), className="reg-intro"),
        None if principal.is_wall else exports(lang),
        html.Div(html.Div(html.P(t("con_reg_loading", lang)), id=TABLE, className="reg-table-host"), className="panel"),
        html.Div([html.Label([html.Span(t("con_reg_choose", lang), className="reg-label"),
                              dcc.Dropdown([], None, id=SYSTEM, clearable=False)], className="reg-field reg-choose")],
                 className="panel", id="register-detail"),
        edit_form(lang, users) if admin else html.P(t("con_reg_read_only", lang), id="register-read-only",
                                                    className="panel"),
        html.Div([html.H2(t("con_reg_history", lang)), html.Div(id=HISTORY)], className="panel"),
        import_panel(lang) if admin else None,
    ], className="console console-register")


# --- reading -------------------------------------------------------------------------------------


@hooks.callback(
    Output(TABLE, "children"),
    Output(SYSTEM, "options"),
    Input(SAVED, "data"),
    Input(IMPORTED, "data"),
    State(LANG_STORE, "data"),
)
def show_table(_saved, _imported, lang):
    require("view")
    try:
        names = province_names(lang)
        s = store()
        entries = {e.system: e for e in s.entries()}
        users = s.user_states()
        policy = load_policy()
    except IOCError as exc:
        return _error(t("con_failed", lang).format(error=exc), "register-failed"), no_update
    table = [legend(lang, policy.due_within_days), register_table(names, entries, users, _today(), policy, lang)]
    options = [{"label": f"{names.get(code, code)} ({code})", "value": code}
               for code in systems_in_order(names, entries)]
    return table, options


@hooks.callback(
    Output(SYSTEM, "value"),
    Input({"type": PICK, "system": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def pick(clicks):
    """A system's name clicked in the table chooses it."""
    require("view")
    if not isinstance(ctx.triggered_id, dict) or not any(clicks or ()):
        return no_update
    return ctx.triggered_id.get("system")


hooks.clientside_callback(  # bring the chosen system's form and history into view
    "function(system) { const el = document.getElementById('register-detail');"
    " if (system && el) { el.scrollIntoView({behavior: 'smooth', block: 'start'}); } return ''; }",
    Output("register-scroll", "data"),
    Input(SYSTEM, "value"),
    prevent_initial_call=True,
)


@hooks.callback(
    Output(HISTORY, "children"),
    Input(SYSTEM, "value"),
    Input(SAVED, "data"),
    Input(IMPORTED, "data"),
    State(LANG_STORE, "data"),
)
def show_history(system, _saved, _imported, lang):
    require("view")
    if not isinstance(system, str) or not system:
        return html.P(t("con_reg_choose_first", lang))
    try:
        return history_table(store().history(system), lang)
    except IOCError as exc:
        return _error(t("con_failed", lang).format(error=exc))


# --- changing (admins) ---------------------------------------------------------------------------


def _current(s: RegisterStore, system: str) -> Entry | None:
    versions = s.history(system)
    return entry_from_row(versions[0]) if versions and versions[0]["valid_to"] is None else None


@hooks.callback(
    *[Output(field_id(name), field_prop(name)) for name in EDITABLE],
    Output(field_id("onsite_users"), "options"),
    Output("reg-retire", "message"),
    Output("reg-reason", "value"),
    Input(SYSTEM, "value"),
    Input(IMPORTED, "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def fill_form(system, _imported, lang):
    """The chosen system's current entry in the form (the defaults for a system not registered)."""
    require("register.manage")
    if not isinstance(system, str) or not system:
        return (no_update,) * (len(EDITABLE) + 3)
    s = store()
    try:
        entry = _current(s, system) or Entry(system)
        users = sorted(name for name, active in s.user_states().items() if active)
    except IOCError:
        return (no_update,) * (len(EDITABLE) + 3)
    confirm = t("con_reg_confirm_retire", lang).format(system=system)
    return (*form_values(entry), user_options(users, entry.onsite_users, lang), confirm, "")


def known_systems(s: RegisterStore, lang: str) -> set[str]:
    """What the form may change: the province file's systems and those already in the register."""
    return set(province_names(lang)) | {e.system for e in s.entries()}


@hooks.callback(
    Output(RESULT, "children"),
    Output(SAVED, "data"),
    Output("reg-reason", "value", allow_duplicate=True),  # emptied once used: each change gives its own
    Input("reg-save", "n_clicks"),
    Input("reg-retire", "submit_n_clicks"),
    State(SYSTEM, "value"),
    *[State(field_id(name), field_prop(name)) for name in EDITABLE],
    State("reg-reason", "value"),
    State(SAVED, "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def change(_save, _retire, system, *rest):
    principal = require("register.manage")
    *values, reason, version, lang = rest
    reason = reason.strip() if isinstance(reason, str) else ""
    s = store()
    try:
        if not isinstance(system, str) or system not in known_systems(s, lang):
            return _error(t("con_reg_need_system", lang), "register-error"), no_update, no_update
        if not reason:
            return _error(t("con_reg_need_reason", lang), "register-error"), no_update, no_update
        if ctx.triggered_id == "reg-retire":
            done = s.retire(system, actor=principal.name, reason=reason)
            text = t("con_reg_retired" if done else "con_reg_not_there", lang).format(system=system)
            return (html.Div(text, className="console-ok" if done else "console-error"), (version or 0) + 1,
                    "" if done else no_update)
        saved = s.save(parse_entry(system, values_from_form(values)), actor=principal.name, reason=reason)
    except InputError as exc:
        return _error(explain(str(exc), lang), "register-error"), no_update, no_update
    except IOCError as exc:
        return _error(t("con_failed", lang).format(error=exc), "register-error"), no_update, no_update
    if saved.version is None:
        return html.Div(t("con_reg_unchanged", lang).format(system=system), className="console-ok"), no_update, \
            no_update
    fields = ", ".join(t(f"con_reg_f_{f}", lang) for f in saved.changed)
    return (html.Div(t("con_reg_saved", lang).format(system=system, version=saved.version, fields=fields),
                     className="console-ok", id="register-saved-msg"), (version or 0) + 1, "")


def decode_upload(contents: str) -> bytes:
    """The bytes of a ``dcc.Upload`` (``data:…;base64,…``)."""
    head, sep, data = (contents or "").partition(",")
    if not sep or ";base64" not in head:
        raise InputError("the upload is not a file")
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InputError("the upload is not a file") from None


@hooks.callback(
    Output(IMPORT_RESULT, "children"),
    Output(IMPORTED, "data"),
    Input("reg-upload", "contents"),
    State("reg-upload", "filename"),
    State("reg-import-reason", "value"),
    State(IMPORTED, "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def import_file(contents, filename, reason, version, lang):
    principal = require("register.manage")
    if not isinstance(contents, str) or not isinstance(filename, str) or not filename:
        return no_update, no_update
    reason = reason.strip() if isinstance(reason, str) else ""
    try:
        result = from_rows(read_rows(decode_upload(contents), filename), known=province_names(lang))
        if result.errors:
            return html.Div([
                html.P(t("con_reg_import_refused", lang).format(n=len(result.errors), file=filename),
                       className="console-error"),
                html.Ul([html.Li(explain(e, lang)) for e in result.errors], id="register-import-errors"),
            ], id="register-import-refused"), no_update
        saved = store().import_entries(result.entries, actor=principal.name, reason=reason, source=filename)
    except InputError as exc:
        return _error(t("con_reg_import_bad", lang).format(file=filename, why=explain(str(exc), lang)),
                      "register-import-refused"), no_update
    except IOCError as exc:
        return _error(t("con_failed", lang).format(error=exc), "register-import-refused"), no_update
    changed = sum(x.version is not None for x in saved)
    text = t("con_reg_imported", lang).format(file=filename, changed=changed, same=len(saved) - changed)
    return html.Div(text, className="console-ok", id="register-import-done"), (version or 0) + 1


# --- files ---------------------------------------------------------------------------------------


def _export(kind: str) -> Response:
    principal = require("view")
    if principal.is_wall:  # a wall screen shows the register; the department's files are for people
        abort(403, description="a wall screen cannot export the register")
    try:
        entries = store().entries()
    except IOCError as exc:
        return Response(f"{exc}\n", status=503, mimetype="text/plain")
    name = f"security-register-{_today().isoformat()}.{kind}"
    body, mimetype = (csv_bytes(entries), CSV_TYPE) if kind == "csv" else (xlsx_bytes(entries), XLSX_TYPE)
    return Response(body, content_type=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@hooks.route(CSV_ROUTE)
def export_register_csv():
    return _export("csv")


@hooks.route(XLSX_ROUTE)
def export_register_xlsx():
    return _export("xlsx")

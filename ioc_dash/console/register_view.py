"""Pure pieces of /console/register: the register table with its four-layer coverage, one system's
versions, the edit form, and what a refused value means, in the page's language.

No Flask, no database: tests call these with entries, rows and plain dicts.  Every text an entry
holds (names, organisations, notes) is shown as text, never as HTML.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from dash import dcc, html

from agents.indicators.register import (BOOL_FIELDS, DATE_FIELDS, EDITABLE, ENVIRONMENTS, LAYERS, LEVELS,
                                        PLAN_STATUSES, Entry, Policy, changed_fields, coverage, entry_from_row,
                                        gone_users)
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from ioc_dash.console.views import badge

CSV_HREF, XLSX_HREF = "/console/register.csv", "/console/register.xlsx"
RESULT, IMPORT_RESULT = "register-result", "register-import-result"  # what a change or an import did
PICK = "reg-pick"  # the pattern id of a system's button in the table: {"type": PICK, "system": code}
YES = "yes"  # the one option of a yes/no field's checklist
#: the form's groups: classification, running, then the four layers (every editable field once)
GROUPS: tuple[tuple[str, int | None, tuple[str, ...]], ...] = (
    ("con_reg_g_class", None, ("level", "plan_status", "approval_number", "approval_date", "approval_authority")),
    ("con_reg_g_run", None, ("environment", "real_data", "ipv6_ready", "live", "cleared_on")),
    ("con_reg_col_onsite", 1, ("onsite_users", "onsite_contact")),
    ("con_reg_col_monitoring", 2, ("monitoring_org",)),
    ("con_reg_col_inspection", 3, ("last_inspection", "next_inspection", "inspection_findings", "inspection_org")),
    ("con_reg_col_layer4", 4, ("layer4_connected", "note")),
)
COVERAGE_CLASS = {"ok": "reg-cov-ok", "due": "reg-cov-due", "missing": "reg-cov-missing"}
PLAN_BADGE = {"approved": "ok", "submitted": "degraded", "drafting": "degraded", "none": "down"}


def field_id(name: str) -> str:
    return f"reg-f-{name}"


def field_prop(name: str) -> str:
    """The property of the field's control that holds its value."""
    return "date" if name in DATE_FIELDS else "value"


def label(name: str, lang: str) -> str:
    return t(f"con_reg_f_{name}", lang)


def day(d: date | None) -> str:
    return d.strftime("%d/%m/%Y") if d else "—"


# --- the table -----------------------------------------------------------------------------------


def systems_in_order(names: Mapping[str, str], entries: Iterable[str]) -> list[str]:
    """The province file's systems in its order, then any other system of the register."""
    return list(dict.fromkeys([*names, *sorted(entries)]))


def _small(*parts: Any) -> html.Div:
    return html.Div([p for p in parts if p not in (None, "")], className="reg-small")


def _classification(e: Entry, lang: str) -> list[Any]:
    """Level and plan, then the approval decision: number, date, authority."""
    level = t("con_reg_level", lang).format(n=e.level) if e.level else t("con_reg_no_level", lang)
    dated = " · ".join(x for x in (day(e.approval_date) if e.approval_date else "", e.approval_authority) if x)
    return [html.Div([html.Span(level, className="reg-level"), " ",
                      badge(t(f"con_reg_plan_{e.plan_status}", lang), PLAN_BADGE.get(e.plan_status, "unknown"))],
                     className="reg-nowrap"),
            html.Div(e.approval_number or t("con_reg_no_approval", lang), className="reg-nowrap"), _small(dated)]


def _running(e: Entry, lang: str, today: date) -> list[Any]:
    """Environment (and real data), live or not, and the go-live clearance."""
    env: list[Any] = [t(f"con_reg_env_{e.environment}", lang)]
    if e.real_data and e.environment == "test":  # an obligation: test systems with real data follow production's
        env += [" ", badge(t("con_reg_real_data", lang), "down")]
    elif e.real_data:
        env.append(html.Span(f" · {t('con_reg_real_data', lang)}", className="reg-small"))
    state = t("con_reg_live_yes" if e.live else "con_reg_live_no", lang)
    if e.cleared_on and e.cleared_on <= today:
        cleared = _small(t("con_reg_cleared", lang).format(date=day(e.cleared_on)))
    elif e.live and e.environment == "production":
        cleared = html.Div(t("con_reg_not_cleared", lang), className="reg-small console-error")
    else:
        cleared = _small(t("con_reg_not_cleared", lang))
    ipv6 = t("con_reg_ipv6", lang).format(yes_no=_yes_no(e.ipv6_ready, lang))
    return [html.Div(env), html.Div(state), cleared, html.Div(ipv6)]


def _onsite(e: Entry, users: Mapping[str, bool], lang: str) -> Any:
    if not e.onsite_users and not e.onsite_contact:
        return "—"
    gone = set(gone_users(e, users))
    people = [html.Span(t("con_reg_gone", lang).format(name=u), className="console-error") if u in gone
              else html.Span(u) for u in e.onsite_users]
    names = [x for i, p in enumerate(people) for x in ((", ", p) if i else (p,))]
    return [html.Div(names) if names else None, html.Div(e.onsite_contact) if e.onsite_contact else None]


def _inspection(e: Entry, lang: str) -> Any:
    if not (e.last_inspection or e.next_inspection or e.inspection_org):
        return "—"
    findings = t("con_reg_findings", lang).format(n=e.inspection_findings) if e.inspection_findings is not None else ""
    return [html.Div(t("con_reg_last_next", lang).format(last=day(e.last_inspection), next=day(e.next_inspection)),
                     className="reg-nowrap"),
            _small(findings, (" · " if findings and e.inspection_org else ""), e.inspection_org)]


def coverage_cell(layer: int, state: str, lang: str) -> html.Td:
    """A layer's cell: its colour and its word (never the colour alone)."""
    return html.Td(t(f"con_reg_cov_{state}", lang), className=f"reg-cov {COVERAGE_CLASS[state]}",
                   title=f"{t(f'con_reg_layer_{layer}', lang)}: {t(f'con_reg_cov_{state}', lang)}")


def _yes_no(value: bool, lang: str) -> str:
    return t("con_reg_yes" if value else "con_reg_no", lang)


HEAD = ("con_reg_col_system", "con_reg_g_class", "con_reg_g_run", "con_reg_col_onsite", "con_reg_col_monitoring",
        "con_reg_col_inspection", "con_reg_col_layer4")


def register_row(code: str, name: str, e: Entry | None, users: Mapping[str, bool], today: date, policy: Policy,
                 lang: str, in_province: bool) -> html.Tr:
    layers = coverage(e, users, today, policy)
    pick = html.Button(name, id={"type": PICK, "system": code}, n_clicks=0, className="reg-pick",
                       title=t("con_reg_pick", lang))
    first = html.Td([pick, html.Div(code if in_province else f"{code} · {t('con_reg_not_in_province', lang)}",
                                    className="sys-code")])
    covered = [coverage_cell(layer, layers[layer], lang) for layer in LAYERS]
    if e is None:
        missing = html.Td(t("con_reg_not_registered", lang), colSpan=len(HEAD) - 1, className="reg-missing")
        return html.Tr([first, missing, *covered], id=f"reg-row-{code}", className="reg-row reg-row-missing")
    return html.Tr([
        first,
        html.Td(_classification(e, lang)),
        html.Td(_running(e, lang, today), className="reg-run"),
        html.Td(_onsite(e, users, lang), className="reg-people"),
        html.Td(e.monitoring_org or "—", className="reg-org"),
        html.Td(_inspection(e, lang)),
        html.Td(_yes_no(e.layer4_connected, lang)),
        *covered,
    ], id=f"reg-row-{code}", className="reg-row")


def register_table(names: Mapping[str, str], entries: Mapping[str, Entry], users: Mapping[str, bool], today: date,
                   policy: Policy, lang: str) -> html.Table:
    """Every system of the province file (``names``: code -> name, in its order) and of the register."""
    head = [html.Th(t(k, lang)) for k in HEAD] + [
        html.Th(t("con_reg_layer_n", lang).format(n=layer), title=t(f"con_reg_layer_{layer}", lang),
                className="reg-cov-head") for layer in LAYERS]
    body = [register_row(code, names.get(code, code), entries.get(code), users, today, policy, lang, code in names)
            for code in systems_in_order(names, entries)]
    return html.Table([html.Thead(html.Tr(head)), html.Tbody(body)], className="status-table reg-table",
                      id="register-table")


def legend(lang: str, due_days: int) -> html.Div:
    """What the four layers are and what each colour says (an obligation is due within ``due_days``)."""
    layers = [html.Span(f"{layer} {t(f'con_reg_layer_{layer}', lang)}", className="reg-legend-layer")
              for layer in LAYERS]
    texts = {s: t(f"con_reg_cov_{s}_long", lang) for s in COVERAGE_CLASS}
    texts["due"] = texts["due"].format(days=due_days)
    states = [html.Span(text, className=f"reg-legend-state {COVERAGE_CLASS[s]}") for s, text in texts.items()]
    return html.Div([html.Span(t("con_reg_layers", lang), className="reg-legend-title"), *layers, *states],
                    className="reg-legend", id="register-legend")


# --- one system's versions -----------------------------------------------------------------------


def _until(v: Mapping[str, Any], lang: str) -> str:
    if v["valid_to"] is None:
        return t("con_reg_current", lang)
    if v.get("retired_by"):
        return t("con_reg_retired_by", lang).format(at=local_time(v["valid_to"]), name=v["retired_by"])
    return local_time(v["valid_to"])


def history_table(versions: Sequence[Mapping[str, Any]], lang: str) -> Any:
    """Every version, newest first: from, to, by whom, why, which fields it changed."""
    if not versions:
        return html.P(t("con_reg_no_history", lang), id="register-no-history")
    rows = []
    for i, v in enumerate(versions):
        older = versions[i + 1] if i + 1 < len(versions) else None
        changed = ", ".join(label(f, lang) for f in changed_fields(entry_from_row(older) if older else None,
                                                                  entry_from_row(v)))
        if older is None:
            changed = f"{t('con_reg_first', lang)} {changed}".strip()
        rows.append(html.Tr([html.Td(f"#{v['id']}"), html.Td(local_time(v["valid_from"]), className="reg-nowrap"),
                             html.Td(_until(v, lang)), html.Td(v["changed_by"]),
                             html.Td(v.get("change_reason") or "—"), html.Td(changed or "—")],
                            className="reg-version"))
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "con_reg_col_version", "con_reg_col_from", "con_reg_col_to", "con_col_actor", "con_reg_col_reason",
        "con_reg_col_changed")]))
    return html.Table([head, html.Tbody(rows)], className="status-table reg-history", id="register-history-table")


# --- the form ------------------------------------------------------------------------------------


def _control(name: str, lang: str, users: Sequence[str]) -> Any:
    fid = field_id(name)
    if name == "level":
        return dcc.Dropdown([{"label": t("con_reg_level", lang).format(n=n), "value": n} for n in LEVELS], id=fid)
    if name == "plan_status":
        return dcc.Dropdown([{"label": t(f"con_reg_plan_{s}", lang), "value": s} for s in PLAN_STATUSES],
                            "none", id=fid, clearable=False)
    if name == "environment":
        return dcc.Dropdown([{"label": t(f"con_reg_env_{s}", lang), "value": s} for s in ENVIRONMENTS],
                            "production", id=fid, clearable=False)
    if name == "onsite_users":
        return dcc.Dropdown(list(users), [], id=fid, multi=True, placeholder=t("con_reg_users_hint", lang))
    if name in DATE_FIELDS:
        return dcc.DatePickerSingle(id=fid, display_format="DD/MM/YYYY", placeholder="dd/mm/yyyy", clearable=True,
                                    first_day_of_week=1)
    if name in BOOL_FIELDS:
        return dcc.Checklist([{"label": label(name, lang), "value": YES}], [], id=fid, className="reg-check")
    if name == "inspection_findings":
        return dcc.Input(id=fid, type="number", step=1)
    if name == "note":
        return dcc.Textarea(id=fid, maxLength=500)
    return dcc.Input(id=fid, type="text", maxLength=500)


def _field(name: str, lang: str, users: Sequence[str]) -> html.Div:
    if name in BOOL_FIELDS:  # the checkbox carries its own label
        return html.Div(_control(name, lang, users), className="reg-field")
    return html.Label([html.Span(label(name, lang), className="reg-label"), _control(name, lang, users)],
                      className="reg-field")


def edit_form(lang: str, users: Sequence[str]) -> html.Div:
    """Every field of an entry (filled when a system is chosen), the reason, Save and Retire."""
    def legend_text(key: str, layer: int | None) -> str:
        return f"{t('con_reg_layer_n', lang).format(n=layer)} · {t(key, lang)}" if layer else t(key, lang)

    groups = [html.Fieldset([html.Legend(legend_text(key, layer)), *(_field(n, lang, users) for n in names)],
                            className="reg-group") for key, layer, names in GROUPS]
    return html.Div([
        html.H2(t("con_reg_edit", lang)),
        html.Div(groups, className="reg-form"),
        html.Label([html.Span(t("con_reg_reason", lang), className="reg-label"),
                    dcc.Input(id="reg-reason", type="text", maxLength=500, className="reg-reason")],
                   className="reg-field"),
        html.Div([html.Button(t("con_reg_btn_save", lang), id="reg-save", n_clicks=0, className="btn-save"),
                  dcc.ConfirmDialogProvider(  # the browser asks first; the message names the system once chosen
                      html.Button(t("con_reg_btn_retire", lang), id="reg-retire-btn", className="btn-retire"),
                      id="reg-retire", message=t("con_reg_confirm_retire", lang).format(system="—"))],
                 className="console-buttons"),
        html.Div(id=RESULT, role="status"),
    ], className="panel", id="reg-form-panel")


def exports(lang: str) -> html.Div:
    """The register as files, for the department that keeps the official records."""
    return html.Div([html.A(t("con_export_csv", lang), href=CSV_HREF, id="register-export-csv",
                            className="console-export", download="security-register.csv"),
                     html.A(t("con_reg_export_xlsx", lang), href=XLSX_HREF, id="register-export-xlsx",
                            className="console-export", download="security-register.xlsx")],
                    className="reg-exports")


def import_panel(lang: str) -> html.Div:
    """A CSV or XLSX file in: all of it, or nothing when a row is wrong."""
    return html.Div([
        html.H2(t("con_reg_import", lang)),
        html.Label([html.Span(t("con_reg_import_reason", lang), className="reg-label"),
                    dcc.Input(id="reg-import-reason", type="text", maxLength=500, className="reg-reason")],
                   className="reg-field"),
        dcc.Upload(html.Div(t("con_reg_import_drop", lang)), id="reg-upload", accept=".csv,.xlsx", multiple=False,
                   className="reg-upload"),
        html.Div(id=IMPORT_RESULT, role="status"),
    ], className="panel", id="reg-import-panel")


def form_values(e: Entry) -> list[Any]:
    """The controls' values for ``e``, in ``EDITABLE`` order."""
    out: list[Any] = []
    for name in EDITABLE:
        value = getattr(e, name)
        if name in BOOL_FIELDS:
            out.append([YES] if value else [])
        elif name in DATE_FIELDS:
            out.append(value.isoformat() if value else None)
        elif name == "onsite_users":
            out.append(list(value))
        else:
            out.append(value)
    return out


def values_from_form(values: Sequence[Any]) -> dict[str, Any]:
    """The form's values (``EDITABLE`` order) as ``parse_entry`` takes them."""
    out = {}
    for name, value in zip(EDITABLE, values, strict=True):
        if name in BOOL_FIELDS:
            out[name] = YES in (value or [])
        elif name == "onsite_users":
            out[name] = [v for v in value or [] if isinstance(v, str)]
        else:
            out[name] = value
    return out


def user_options(names: Iterable[str], chosen: Iterable[str], lang: str) -> list[dict[str, str]]:
    """The users to choose from, with anyone already chosen who is no longer a user."""
    known = list(dict.fromkeys(names))
    return [{"label": n, "value": n} for n in known] + [
        {"label": t("con_reg_gone", lang).format(name=n), "value": n} for n in chosen if n not in known]


# --- what a refused value means ------------------------------------------------------------------

#: the reasons ``parse_entry``, ``from_rows`` and ``read_rows`` give, and their texts
_WHY: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p, re.S), key) for p, key in (
    (r"^before last_inspection$", "con_reg_why_before_last"),
    (r"^(?P<value>.*) is not a date\b.*$", "con_reg_why_date"),
    (r"^(?P<value>.*) is not yes or no$", "con_reg_why_yes_no"),
    (r"^(?P<value>.*) is not a number$", "con_reg_why_number"),
    (r"^(?P<value>.*) must be a whole number (?P<range>.+)$", "con_reg_why_whole"),
    (r"^(?P<value>.*) is not one of (?P<choices>.+)$", "con_reg_why_choice"),
    (r"^longer than (?P<n>\d+) characters$", "con_reg_why_long"),
    (r"^.*contains a NUL character.*$", "con_reg_why_nul"),
    (r"^.*is not valid Unicode.*$", "con_reg_why_unicode"),
    (r"^empty$", "con_reg_why_empty"),
    (r"^(?P<value>.*) is not in the province file$", "con_reg_why_not_province"),
    (r"^(?P<value>.*) appears twice$", "con_reg_why_twice"),
    (r"^(?P<file>.+): a \.csv or \.xlsx file is expected$", "con_reg_why_file_type"),
    (r"^(?P<file>.+): larger than (?P<n>\d+) MB$", "con_reg_why_file_big"),
    (r"^(?P<file>.+): more than (?P<n>\d+) rows$", "con_reg_why_file_rows"),
    (r"^(?P<file>.+): not UTF-8 text.*$", "con_reg_why_file_utf8"),
    (r"^(?P<file>.+): not a readable XLSX file.*$", "con_reg_why_file_xlsx"),
    (r"^the file is empty.*$", "con_reg_why_file_empty"),
    (r"^the first row must name the columns.*$", "con_reg_why_file_header"),
    (r"^unknown column\(s\): (?P<cols>[^;]+);.*$", "con_reg_why_file_columns"),
    (r"^a column is named twice$", "con_reg_why_file_twice"),
))
_ROW = re.compile(r"^row (?P<n>\d+): (?P<rest>.*)$", re.S)
_FIELD = re.compile(r"^(?P<field>[a-z_0-9]+)(?::\s*|\s+)(?P<rest>.*)$", re.S)


def _why(text: str, lang: str) -> str:
    for pattern, key in _WHY:
        if m := pattern.match(text):
            return t(key, lang).format(**m.groupdict())
    return text  # a reason not listed above: as the register gave it


def explain(message: str, lang: str) -> str:
    """A refusal of the register (``InputError``) in the page's language: the row, the field as the
    form names it, and what is wrong."""
    if m := _ROW.match(message):
        return t("con_reg_row", lang).format(n=m["n"], why=explain(m["rest"], lang))
    m = _FIELD.match(message)
    if m and m["field"] in ("system", "reason", *EDITABLE):
        return t("con_reg_bad_field", lang).format(field=label(m["field"], lang), why=_why(m["rest"], lang))
    return _why(message, lang)

"""/console/reports: the archive of operations reports (daily, weekly, monthly; PDF and XLSX), newest
first, each downloadable (``/console/reports/file?id=N``, every signed-in role, not a wall screen);
operators and admins make one on demand (kind, period, language), archived like the scheduled ones."""
from __future__ import annotations

from dash import Input, Output, State, dcc, hooks, html, no_update
from flask import Response, abort, request

from agents.indicators.ops_report import last_complete, parse_period
from agents.indicators.report_archive import ReportArchive
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, settings
from ioc_dash.console.views import page
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError, IOCError

PATH = "/console/reports"
FILE_HREF = "/console/reports/file"
RESULT = "reports-result"
TYPES = {"pdf": "application/pdf", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BY_KEYS = {"schedule": "con_rep_by_schedule", "command line": "con_rep_by_cli"}  # else a user's name
guard_outputs({RESULT: "alerts.act"})


def archive() -> ReportArchive:
    return ReportArchive(settings().dsn)


def listing(lang: str) -> html.Div:
    try:
        rows = archive().recent(200)
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error")
    if not rows:
        return html.P(t("con_rep_empty", lang), id="reports-table")
    head = ("con_rep_kind", "con_rep_period", "con_rep_lang", "con_rep_file", "con_rep_size", "con_rep_made",
            "con_rep_by")
    body = [html.Tr([
        html.Td(t(f"con_rep_kind_{a.kind}", lang)), html.Td(a.period), html.Td(a.lang.upper()),
        html.Td(html.A(a.format.upper(), href=f"{FILE_HREF}?id={a.id}", id=f"report-file-{a.id}")),
        html.Td(f"{a.size / 1024:,.0f} KiB", className="num"), html.Td(local_time(a.generated_at, "%H:%M %d/%m/%Y")),
        html.Td(t(BY_KEYS[a.generated_by], lang) if a.generated_by in BY_KEYS else a.generated_by),
    ]) for a in rows]
    return html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])), html.Tbody(body)],
                      className="status-table", id="reports-table")


def make_form(lang: str) -> html.Div:
    today = utcnow().astimezone(LOCAL_TZ).date()
    return html.Div([
        html.H2(t("con_rep_make", lang)),
        html.Div([
            html.Label([t("con_rep_kind", lang), dcc.Dropdown(
                id="reports-kind", clearable=False, value="day",
                options=[{"label": t(f"con_rep_kind_{k}", lang), "value": k} for k in ("day", "week", "month")])]),
            html.Label([t("con_rep_period", lang), dcc.Input(id="reports-period", type="text",
                                                             value=last_complete("day", today).label)]),
            html.Label([t("con_rep_lang", lang), dcc.Dropdown(id="reports-lang", clearable=False, value="vi",
                                                              options=[{"label": "Tiếng Việt", "value": "vi"},
                                                                       {"label": "English", "value": "en"}])]),
            html.Button(t("con_rep_make_btn", lang), id="reports-make", n_clicks=0),
        ], className="console-form reports-form"),
        html.P(t("con_rep_period_help", lang)),
        dcc.Loading(html.Div(id=RESULT)),
    ], className="panel")


def layout(lang: str) -> html.Div:
    principal = current_principal()
    return page(principal, lang, PATH, lambda: [
        html.H1(t("con_reports", lang)),
        html.P(t("con_rep_help", lang)),
        make_form(lang) if can(principal, "alerts.act") else None,
        html.Div([html.H2(t("con_rep_archive", lang)), html.Div(listing(lang), id="reports-list")],
                 className="panel"),
    ], "console-reports")


@hooks.callback(Output(RESULT, "children"), Output("reports-list", "children"),
                Input("reports-make", "n_clicks"), State("reports-kind", "value"), State("reports-period", "value"),
                State("reports-lang", "value"), State(LANG_STORE, "data"), prevent_initial_call=True)
def make(_n, kind, period, report_lang, lang):
    from ioc_dash.reports.ops_report import make_report

    principal = require("alerts.act")
    try:
        label = parse_period(kind, period).label
        made = make_report(settings(), kind, label, [report_lang], by=principal.name)
    except InputError as exc:
        return html.P(str(exc), className="console-error", id="reports-error"), no_update
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error", id="reports-error"), \
            no_update
    return (html.Div([t("con_rep_made_ok", lang), " ", *[html.A(name, href=f"{FILE_HREF}?id={i}",
                                                               className="report-made") for i, name in made]],
                     className="console-ok", id="reports-done"), listing(lang))


@hooks.route(FILE_HREF.lstrip("/"))
def report_file():
    principal = require("view")
    if principal.is_wall:
        abort(403, description="a wall screen cannot download reports")
    raw = request.args.get("id", "")
    if not raw.isascii() or not raw.isdigit():
        return Response("id=N is required\n", status=400, mimetype="text/plain")
    try:
        row = archive().file(int(raw))
    except IOCError as exc:
        return Response(f"{exc}\n", status=503, mimetype="text/plain")
    if row is None:
        return Response(f"no report #{raw}\n", status=404, mimetype="text/plain")
    name = f"ioc-report-{row['period']}-{row['lang']}.{row['format']}"
    return Response(bytes(row["content"]), content_type=TYPES[row["format"]],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

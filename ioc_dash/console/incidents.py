"""/console/incidents and /console/incident?id=N: incidents (related alerts grouped by the alert engine,
``agents/alerting/incidents.py``), one incident's alerts and timeline, and the operators' actions —
take ownership, add a note, rename, close with a closing note — and ``/console/incident/report?id=N``,
its report for the national incident-response network (``&format=json|html|pdf``).

Every role that may view the console sees incidents and downloads their reports; the actions are
in the page of a role with ``alerts.act`` only, refused before the callback runs for any other
(``guard_outputs``) and checked again inside.  ``IncidentStore`` audits each in ``incident_event``.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from dash import Input, Output, State, ctx, dcc, hooks, html, no_update
from flask import Response, request

from agents.alerting.incidentstore import IncidentStore
from agents.indicators.register_store import RegisterStore
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, lang_store, settings
from ioc_dash.console.incident_views import (INCIDENT_PATH, INCIDENTS_PATH, REPORT_FORMATS, REPORT_ROUTE,
                                             incident_card, incidents_table, members_table, timeline_table)
from ioc_dash.console.views import attempt, forbidden, nav, parse_alert_id
from ioc_dash.i18n import LANGS, t
from ioc_dash.reports.incident_report import build, render_html, render_pdf, reporter
from streams.core.clock import utcnow
from streams.core.errors import IOCError
from streams.core.geography import Province, load_province

REFRESH_MS = 5000
RESULT = "incident-action-result"
BUTTONS = {  # component id -> action
    "incident-take": "take",
    "incident-note-btn": "note",
    "incident-rename": "rename",
    "incident-close": "close",
}
guard_outputs({RESULT: "alerts.act"})


def store() -> IncidentStore:
    return IncidentStore(settings().dsn)


@lru_cache(maxsize=4)
def _province(path: Path) -> Province:
    return load_province(path)


def perform(s: IncidentStore, action: str, incident_id: int, actor: str, *, note: str = "", title: str = "",
            closing: str = "") -> dict:
    """One operator action through the incident store; ``ValueError`` names the missing input's text key."""
    if action == "take":
        return s.take(incident_id, actor)
    if action == "note":
        if not (note or "").strip():
            raise ValueError("con_inc_need_note")
        return s.note(incident_id, actor, note)
    if action == "rename":
        if not (title or "").strip():
            raise ValueError("con_inc_need_title")
        return s.rename(incident_id, actor, title)
    if action == "close":
        if not (closing or "").strip():
            raise ValueError("con_inc_need_closing")
        return s.close(incident_id, actor, closing)
    raise ValueError(f"unknown action {action!r}")


# --- pages ----------------------------------------------------------------------------------------


def list_layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, INCIDENTS_PATH)
    return html.Div([
        nav(principal, lang, INCIDENTS_PATH),
        lang_store(lang),
        dcc.Interval(id="incidents-tick", interval=REFRESH_MS),
        html.H1(t("con_incidents", lang)),
        html.P(t("con_inc_intro", lang), className="console-count"),
        html.Div(id="incidents-list", className="panel"),
    ], className="console")


def actions_panel(lang: str) -> html.Div:
    def row(label: str, control, button_id: str) -> html.Div:
        return html.Div([html.Label([t(label, lang), control]),
                         html.Button(t(f"con_inc_btn_{BUTTONS[button_id]}", lang), id=button_id, n_clicks=0,
                                     className=f"console-btn btn-{BUTTONS[button_id]}")], className="incident-action")

    return html.Div([
        html.H2(t("con_actions", lang)),
        html.Div(html.Button(t("con_inc_btn_take", lang), id="incident-take", n_clicks=0,
                             className="console-btn btn-acknowledge"), className="console-buttons"),
        row("con_inc_note", dcc.Textarea(id="incident-note", maxLength=4000), "incident-note-btn"),
        row("con_inc_new_title", dcc.Input(id="incident-title", type="text", maxLength=200), "incident-rename"),
        row("con_inc_closing_note", dcc.Textarea(id="incident-closing", maxLength=4000), "incident-close"),
        html.P(t("con_inc_close_hint", lang), className="console-count"),
        html.Div(id=RESULT, role="status"),
    ], className="panel console-actions", id="incident-actions")


def detail_layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, INCIDENT_PATH)
    acting = actions_panel(lang) if can(principal, "alerts.act") else \
        html.P(t("con_inc_read_only", lang), id="incident-read-only", className="panel")
    return html.Div([
        nav(principal, lang, INCIDENTS_PATH),
        lang_store(lang),
        dcc.Location(id="incident-loc", refresh=False),
        dcc.Store(id="incident-version", data=0),
        dcc.Interval(id="incident-tick", interval=REFRESH_MS),
        html.Div([html.Div(id="incident-detail"), acting], className="incident-columns"),
        html.Div([html.H2(t("con_inc_alerts_title", lang)), html.Div(id="incident-alerts")], className="panel"),
        html.Div([html.H2(t("con_timeline", lang)), html.Div(id="incident-timeline")], className="panel"),
    ], className="console")


@hooks.callback(Output("incidents-list", "children"), Input("incidents-tick", "n_intervals"),
                State(LANG_STORE, "data"))
def show_list(_n, lang):
    require("view")
    try:
        return incidents_table(store().incidents(), utcnow(), lang)
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error")


@hooks.callback(
    Output("incident-detail", "children"),
    Output("incident-alerts", "children"),
    Output("incident-timeline", "children"),
    Input("incident-loc", "search"),
    Input("incident-version", "data"),
    Input("incident-tick", "n_intervals"),
    State(LANG_STORE, "data"),
)
def show(search, _version, _n, lang):
    require("view")
    incident_id = parse_alert_id(search)
    missing = html.P(t("con_inc_missing", lang).format(id=incident_id if incident_id is not None else "?"),
                     id="incident-missing")
    if incident_id is None:
        return missing, None, None
    s = store()
    try:
        incident = s.incident(incident_id)
        alerts = s.alerts(incident_id)
        entries = s.timeline(incident_id)
    except IOCError as exc:
        if str(exc).startswith("no incident"):
            return missing, None, None
        return html.P(t("con_failed", lang).format(error=exc), className="console-error"), no_update, no_update
    return incident_card(incident, alerts, utcnow(), lang), members_table(alerts, lang), timeline_table(entries, lang)


@hooks.callback(
    Output(RESULT, "children"),
    Output("incident-version", "data"),
    *[Input(cid, "n_clicks") for cid in BUTTONS],
    State("incident-loc", "search"),
    State("incident-note", "value"),
    State("incident-title", "value"),
    State("incident-closing", "value"),
    State("incident-version", "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def act(*args):
    principal = require("alerts.act")
    search, note, title, closing, version, lang = args[len(BUTTONS):]
    action = BUTTONS.get(ctx.triggered_id)
    incident_id = parse_alert_id(search)
    if action is None or incident_id is None:
        return no_update, no_update
    said, done = attempt(
        lambda: perform(store(), action, incident_id, principal.name, note=note, title=title, closing=closing),
        lambda _: t("con_inc_done", lang).format(kind=t(f"con_inc_btn_{action}", lang), id=incident_id), lang)
    return said, (version or 0) + 1 if done else no_update


# --- the report -----------------------------------------------------------------------------------


def report_of(incident_id: int) -> dict:
    """The report's dict (``ioc_dash.reports.incident_report.build``) from the database and the province file."""
    cfg = settings()
    s = store()
    incident = s.incident(incident_id)
    province = _province(cfg.province_file)
    try:
        levels = {e.system: e.level for e in RegisterStore(cfg.dsn).entries()}
    except IOCError:  # the register is optional for a report
        levels = {}
    return build(incident, s.alerts(incident_id), s.timeline(incident_id), reporter(cfg, province),
                 names=province.names(), levels=levels, province_code=province.code, now=utcnow())


@hooks.route(REPORT_ROUTE)
def report():
    require("view")
    incident_id = parse_alert_id(request.query_string.decode("ascii", "replace"))
    fmt = request.args.get("format", "json")
    lang = request.args.get("lang", "vi")
    if incident_id is None or fmt not in REPORT_FORMATS or lang not in LANGS:
        return Response("id=N is required; format is json, html or pdf; lang is vi or en\n", status=400,
                        mimetype="text/plain")
    try:
        doc = report_of(incident_id)
    except IOCError as exc:
        return Response(f"{exc}\n", status=404 if str(exc).startswith("no incident") else 503, mimetype="text/plain")
    name = f"incident-{incident_id}"
    if fmt == "json":
        return Response(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{name}.json"'})
    if fmt == "html":
        return Response(render_html(doc, lang), mimetype="text/html")
    return Response(render_pdf(doc, lang), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{lang}.pdf"'})

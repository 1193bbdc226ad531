"""/console/handover: the shift handover log.

An operator (or admin) writes a handover at the end of a shift: to whom, and notes pre-filled with
the open incidents and alerts as they are now; those are saved with it as a snapshot, read again
on the server when it is saved.  The incoming operator acknowledges it (who, when).  The log shows
the latest first, the unacknowledged ones marked.  Viewers and wall screens read it only.
``HandoverStore`` audits writing and acknowledging in ``auth_event``.
"""
from __future__ import annotations

from dash import ALL, Input, Output, State, ctx, dcc, hooks, html, no_update

from agents.alerting.handoverstore import HandoverStore
from agents.alerting.incidentstore import IncidentStore
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, lang_store, settings, user_store
from ioc_dash.console.incident_views import (HANDOVER_PATH, draft_notes, handover_list, snapshot_view,
                                             user_options)
from ioc_dash.console.views import attempt, forbidden, nav
from ioc_dash.i18n import t
from streams.core.errors import IOCError

REFRESH_MS = 15000
SAVED, ACKED = "handover-result", "handover-ack-result"
guard_outputs({SAVED: "alerts.act", ACKED: "alerts.act"})


def store() -> HandoverStore:
    return HandoverStore(settings().dsn)


def form(principal, lang: str) -> html.Div:
    """The form of a new handover, pre-filled with what is open now."""
    try:
        now = IncidentStore(settings().dsn).shift_state()
        users = user_options(user_store().users(), principal.name)
    except IOCError as exc:
        return html.Div(html.P(t("con_failed", lang).format(error=exc), className="console-error"), className="panel")
    return html.Div([
        html.H2(t("con_hov_write", lang)),
        html.Label([t("con_hov_to", lang),
                    dcc.Input(id="handover-to", type="text", list="handover-users", maxLength=64, autoComplete="off",
                              placeholder=t("con_hov_to_placeholder", lang)),
                    html.Datalist([html.Option(value=o["value"]) for o in users], id="handover-users")],
                   className="handover-to"),
        html.Label([t("con_hov_notes", lang), dcc.Textarea(id="handover-notes", value=draft_notes(now, lang),
                                                          maxLength=8000, className="handover-textarea")]),
        html.Details([html.Summary(t("con_hov_now", lang).format(incidents=len(now["incidents"]),
                                                                 alerts=len(now["alerts"]))),
                      snapshot_view(now, lang, "handover-now")], open=True),
        html.Div(html.Button(t("con_hov_btn_save", lang), id="handover-save", n_clicks=0,
                             className="console-btn btn-acknowledge"), className="console-buttons"),
        html.Div(id=SAVED, role="status"),
    ], className="panel", id="handover-form")


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, HANDOVER_PATH)
    writing = form(principal, lang) if can(principal, "alerts.act") else \
        html.P(t("con_hov_read_only", lang), id="handover-read-only", className="panel")
    return html.Div([
        nav(principal, lang, HANDOVER_PATH),
        lang_store(lang),
        dcc.Store(id="handover-version", data=0),
        dcc.Interval(id="handover-tick", interval=REFRESH_MS),
        html.H1(t("con_handover", lang)),
        html.Div([
            writing,
            html.Div([html.H2(t("con_hov_log", lang)), html.Div(id=ACKED, role="status"),
                      html.Div(id="handover-list")], className="panel"),
        ], className="handover-columns"),
    ], className="console")


@hooks.callback(Output("handover-list", "children"), Input("handover-version", "data"),
                Input("handover-tick", "n_intervals"), State(LANG_STORE, "data"))
def show(_version, _n, lang):
    principal = require("view")
    try:
        rows = store().handovers()
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error")
    return handover_list(rows, None if principal.is_wall else principal.name, can(principal, "alerts.act"), lang)


@hooks.callback(
    Output(SAVED, "children"),
    Output("handover-version", "data", allow_duplicate=True),
    Input("handover-save", "n_clicks"),
    State("handover-to", "value"),
    State("handover-notes", "value"),
    State("handover-version", "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def save(_n, handed_to, notes, version, lang):
    principal = require("alerts.act")

    def write():
        allowed = {o["value"] for o in user_options(user_store().users(), principal.name)}
        to = handed_to.strip().lower() if isinstance(handed_to, str) else None
        if to not in allowed:
            raise ValueError("con_hov_need_to")
        if not (notes or "").strip():
            raise ValueError("con_hov_need_notes")
        return store().write(principal.name, to, notes, IncidentStore(settings().dsn).shift_state())

    said, done = attempt(write, lambda row: t("con_hov_saved", lang).format(id=row["id"], to=row["handed_to"]), lang)
    return said, (version or 0) + 1 if done else no_update


@hooks.callback(
    Output(ACKED, "children"),
    Output("handover-version", "data", allow_duplicate=True),
    Input({"type": "handover-ack", "index": ALL}, "n_clicks"),
    State("handover-version", "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def acknowledge(clicks, version, lang):
    principal = require("alerts.act")
    trigger = ctx.triggered_id
    # the list re-renders its buttons (n_clicks None): only a real click acts
    if not isinstance(trigger, dict) or not any(ctx.triggered[i]["value"] for i in range(len(ctx.triggered))):
        return no_update, no_update
    handover_id = trigger.get("index")
    if not isinstance(handover_id, int) or isinstance(handover_id, bool):
        return no_update, no_update
    said, done = attempt(lambda: store().acknowledge(handover_id, principal.name),
                         lambda _: t("con_hov_acked_now", lang).format(id=handover_id), lang)
    return said, (version or 0) + 1 if done else no_update

"""/console/alert?id=N: one alert, its history and audit, and the operator's actions.

The action buttons are only in the page of a role that may act; the callback is refused before
it runs for any other (``guard_outputs``) and checks again itself.  Every action goes through
``AlertStore``, which audits it in ``alert_event`` with the signed-in user as actor.
"""
from __future__ import annotations

from datetime import datetime

from dash import Input, Output, State, ctx, dcc, hooks, html, no_update

from agents.alerting.incidentstore import IncidentStore
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, alert_store, lang_store
from ioc_dash.console.incident_views import incident_link
from ioc_dash.console.views import (alert_card, attempt, forbidden, history_table, nav, parse_alert_id,
                                    parse_until)
from ioc_dash.i18n import t
from streams.core.errors import IOCError
from streams.core.clock import utcnow

PATH = "/console/alert"
REFRESH_MS = 5000
RESULT = "console-action-result"
BUTTONS = {  # component id -> action
    "console-ack": "acknowledge",
    "console-assign": "assign",
    "console-comment-btn": "comment",
    "console-silence": "silence",
    "console-silence-resolved": "silence_resolved",
    "console-resolve": "resolve",
}
guard_outputs({RESULT: "alerts.act"})


def perform(store, action: str, alert_id: int, actor: str, *, comment: str = "", assignee: str = "",
            until: str = "", now: datetime | None = None) -> dict:
    """One operator action through the alert store; ``ValueError`` says what input is missing."""
    comment, assignee = (comment or "").strip(), (assignee or "").strip()
    if action == "acknowledge":
        return store.acknowledge(alert_id, actor, comment)
    if action == "assign":
        if not assignee:
            raise ValueError("con_need_assignee")
        return store.assign(alert_id, actor, assignee)
    if action == "comment":
        if not comment:
            raise ValueError("con_need_comment")
        return store.comment(alert_id, actor, comment)
    if action == "silence":
        return store.silence(alert_id, actor, until=parse_until(until, now or utcnow()),
                             comment=comment)
    if action == "silence_resolved":
        return store.silence(alert_id, actor, until_resolved=True, comment=comment)
    if action == "resolve":
        return store.resolve(alert_id, actor, comment)
    raise ValueError(f"unknown action {action!r}")


def actions_panel(lang: str) -> html.Div:
    buttons = [html.Button(t(f"con_btn_{action}", lang), id=cid, n_clicks=0, className=f"console-btn btn-{action}")
               for cid, action in BUTTONS.items()]
    return html.Div([
        html.H2(t("con_actions", lang)),
        html.Label([t("con_comment", lang), dcc.Textarea(id="console-comment", maxLength=2000)]),
        html.Label([t("con_assignee", lang), dcc.Input(id="console-assignee", type="text", maxLength=64)]),
        html.Label([t("con_silence_until", lang), dcc.Input(id="console-until", type="text", maxLength=32,
                                                            placeholder="2h")]),
        html.Div(buttons, className="console-buttons"),
        html.Div(id=RESULT, role="status"),
    ], className="panel console-actions", id="console-actions")


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, PATH)
    acting = actions_panel(lang) if can(principal, "alerts.act") else \
        html.P(t("con_read_only", lang), id="console-read-only", className="panel")
    return html.Div([
        nav(principal, lang, "/console/alerts"),
        lang_store(lang),
        dcc.Location(id="console-alert-loc", refresh=False),
        dcc.Store(id="console-alert-version", data=0),
        dcc.Interval(id="console-alert-tick", interval=REFRESH_MS),
        html.Div(id="console-alert-detail"),
        acting,
        html.Div([html.H2(t("con_history", lang)), html.Div(id="console-alert-history")], className="panel"),
    ], className="console")


@hooks.callback(
    Output("console-alert-detail", "children"),
    Output("console-alert-history", "children"),
    Input("console-alert-loc", "search"),
    Input("console-alert-version", "data"),
    Input("console-alert-tick", "n_intervals"),
    State(LANG_STORE, "data"),
)
def show(search, _version, _n, lang):
    require("view")
    alert_id = parse_alert_id(search)
    missing = html.P(t("con_no_alert", lang).format(id=alert_id if alert_id is not None else "?"),
                     id="console-no-alert")
    if alert_id is None:
        return missing, None
    store = alert_store()
    try:
        rows = store.fetch("SELECT * FROM alert WHERE id = %s", (alert_id,))
        events = store.history(alert_id) if rows else []
        incident = IncidentStore(store.dsn).incident_of(alert_id) if rows else None
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error"), no_update
    if not rows:
        return missing, None
    return [alert_card(rows[0], lang), incident_link(incident, lang)], history_table(events, lang)


@hooks.callback(
    Output(RESULT, "children"),
    Output("console-alert-version", "data"),
    *[Input(cid, "n_clicks") for cid in BUTTONS],
    State("console-alert-loc", "search"),
    State("console-comment", "value"),
    State("console-assignee", "value"),
    State("console-until", "value"),
    State("console-alert-version", "data"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def act(*args):
    principal = require("alerts.act")
    search, comment, assignee, until, version, lang = args[len(BUTTONS):]
    action = BUTTONS.get(ctx.triggered_id)
    alert_id = parse_alert_id(search)
    if action is None or alert_id is None:
        return no_update, no_update
    said, done = attempt(
        lambda: perform(alert_store(), action, alert_id, principal.name, comment=comment, assignee=assignee,
                        until=until),
        lambda _: t("con_done", lang).format(kind=t(f"con_btn_{action}", lang), id=alert_id), lang, "con_bad_until")
    return said, (version or 0) + 1 if done else no_update


# a done action empties the comment field: the next action does not carry the same words again
hooks.clientside_callback("function(_) { return ''; }", Output("console-comment", "value"),
                          Input("console-alert-version", "data"), prevent_initial_call=True)

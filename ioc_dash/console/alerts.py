"""/console/alerts: open and recent alerts, filtered by state, severity, rule, entity and text."""
from __future__ import annotations

from dash import Input, Output, State, dcc, hooks, html

from ioc_dash.auth import can, current_principal, require
from ioc_dash.console.common import LANG_STORE, alert_store, lang_store
from ioc_dash.console.views import (OPEN_STATES, SEVERITIES, STATES, AlertFilter, alerts_table, filter_alerts,
                                    forbidden, nav, options)
from ioc_dash.i18n import rule_title, t
from streams.core.clock import utcnow
from streams.core.errors import IOCError
from streams.core.inputs import problem

PATH = "/console/alerts"
REFRESH_MS = 5000
LIMIT = 500  # newest alerts read per refresh
FILTERS = "console-filters-box"
#: on a phone (the media query of console.css's phone layout) the filters start folded: the list comes first
PHONE_QUERY = "(max-width: 700px), (pointer: coarse) and (max-height: 500px)"
FOLD_ON_PHONE_JS = f"function(_) {{ return !window.matchMedia('{PHONE_QUERY}').matches; }}"


def _filter(label: str, control) -> html.Label:
    return html.Label([html.Span(label, className="console-filter-label"), control], className="console-filter")


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, PATH)
    return html.Div([
        nav(principal, lang, PATH),
        lang_store(lang),
        dcc.Interval(id="console-alerts-tick", interval=REFRESH_MS),
        html.H1(t("con_alerts", lang)),
        html.Details([html.Summary(t("con_filters", lang), className="console-filters-summary"), html.Div([
            _filter(t("con_f_state", lang), dcc.Checklist(options(STATES, lang, "state_"), list(OPEN_STATES),
                                                          id="console-f-state", inline=True)),
            _filter(t("con_f_severity", lang), dcc.Checklist(options(SEVERITIES, lang, "severity_"), [],
                                                             id="console-f-severity", inline=True)),
            _filter(t("con_f_rule", lang), dcc.Dropdown([], [], id="console-f-rule", multi=True)),
            _filter(t("con_f_entity", lang), dcc.Input(id="console-f-entity", type="text", debounce=True)),
            _filter(t("con_f_text", lang), dcc.Input(id="console-f-text", type="text", debounce=True)),
        ], className="console-filters")], open=True, id=FILTERS, className="panel console-filters-box"),
        html.Div(id="console-alerts", className="panel"),
    ], className="console")


@hooks.callback(
    Output("console-alerts", "children"),
    Output("console-f-rule", "options"),
    Input("console-alerts-tick", "n_intervals"),
    Input("console-f-state", "value"),
    Input("console-f-severity", "value"),
    Input("console-f-rule", "value"),
    Input("console-f-entity", "value"),
    Input("console-f-text", "value"),
    State(LANG_STORE, "data"),
)
def refresh(_n, states, severities, rules, entity, text, lang):
    require("view")
    states = tuple(s for s in (states or STATES) if s in STATES)  # the checklist's own values only
    try:
        rows = alert_store().alerts(states=states, limit=LIMIT) if states else []
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error"), []
    rules = [r for r in rules or () if isinstance(r, str) and problem(r) is None]  # echoed back as options
    chosen = AlertFilter(states, tuple(severities or ()), tuple(rules), entity or "", text or "")
    rule_names = sorted({a["rule"] for a in rows} | set(rules or ()))
    return (alerts_table(filter_alerts(rows, chosen), lang, utcnow()),
            [{"label": rule_title(r, lang), "value": r} for r in rule_names])


hooks.clientside_callback(FOLD_ON_PHONE_JS, Output(FILTERS, "open"), Input(LANG_STORE, "data"))

"""/console/quiet: silences by matcher and maintenance windows — who may see them, who may change them.

Every role that may view sees the silences in force or to come and the maintenance windows with
their next occurrence; operators and admins (``alerts.act``) add a silence (rule and entity as names
or patterns, an optional label, for how long, why), end one, add a one-off or weekly maintenance
window and delete one.  The store checks and audits (``auth_event``: ``silence_added``,
``silence_ended``, ``maintenance_added``, ``maintenance_deleted``); the callbacks check the role
again on the server.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dash import Input, Output, State, ctx, dcc, hooks, html

from agents.alerting.rules import load_rules, parse_duration
from ioc_dash.auth import can, current_principal, guard_outputs, require
from ioc_dash.console.common import LANG_STORE, alert_store, lang_store, settings, user_store
from ioc_dash.console.views import forbidden, nav
from ioc_dash.figures import local_time
from ioc_dash.i18n import rule_title, t
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import IOCError, InputError
from streams.core.geography import load_province

PATH = "/console/quiet"
S_MSG, M_MSG, LISTS = "quiet-silence-msg", "quiet-maint-msg", "quiet-lists"
DURATIONS = ("1h", "2h", "4h", "8h", "24h", "72h")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
guard_outputs({S_MSG: "alerts.act", M_MSG: "alerts.act"})


def local(text: str | None, what: str) -> datetime:
    """A local time typed as ``2026-12-05 22:00`` (or ISO with an offset)."""
    try:
        ts = datetime.fromisoformat(str(text or "").strip().replace(" ", "T", 1))
    except ValueError:
        raise InputError(f"{what}: write the time as 2026-12-05 22:00") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=LOCAL_TZ)


def _rules() -> list[str]:
    try:
        return sorted(r.name for r in load_rules(settings().alert_rule_files()))
    except IOCError:
        return []


def _systems() -> list[tuple[str, str]]:
    try:
        return [(s.code, s.name) for s in load_province(settings().province_file).systems]
    except IOCError:
        return []


def silences_table(rows: list[dict[str, Any]], lang: str) -> Any:
    if not rows:
        return html.P(t("con_q_no_silences", lang), id="quiet-no-silences")
    head = ("con_col_id", "con_f_rule", "con_f_entity", "con_q_labels", "con_q_from", "con_q_to", "con_col_actor",
            "con_q_comment")
    return html.Table([
        html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])),
        html.Tbody([html.Tr([
            html.Td(str(s["id"])), html.Td(t("con_q_any", lang) if s["rule"] == "*" else rule_title(s["rule"], lang),
                                           title=s["rule"]),
            html.Td(t("con_q_any", lang) if s["entity"] == "*" else s["entity"]),
            html.Td(", ".join(f"{k}={v}" for k, v in (s["labels"] or {}).items()) or "—"),
            html.Td(local_time(s["starts_at"]), className="num"), html.Td(local_time(s["ends_at"]), className="num"),
            html.Td(s["created_by"]), html.Td(s["comment"])]) for s in rows])],
        className="status-table", id="quiet-silences")


def windows_table(rows: list[dict[str, Any]], names: dict[str, str], lang: str) -> Any:
    if not rows:
        return html.P(t("con_q_no_windows", lang), id="quiet-no-windows")

    def when(w: dict[str, Any]) -> str:
        r = w.get("recurrence")
        if r:
            days = ", ".join(t(f"con_q_day_{d}", lang) for d in r.get("days", []))
            return t("con_q_weekly", lang).format(days=days, start=r.get("start"), minutes=r.get("minutes"))
        return f"{local_time(w['starts_at'])} → {local_time(w['ends_at'])}"

    head = ("con_col_id", "con_q_system", "con_q_when", "con_q_next", "con_q_reason", "con_col_actor")
    return html.Table([
        html.Thead(html.Tr([html.Th(t(k, lang)) for k in head])),
        html.Tbody([html.Tr([
            html.Td(str(w["id"])), html.Td(names.get(w["system"], w["system"]) if w["system"]
                                           else t("con_q_every_system", lang)),
            html.Td(when(w)), html.Td(local_time(w["next_start"]) if w.get("next_start") else "—", className="num"),
            html.Td(w["reason"]), html.Td(w["created_by"])]) for w in rows])],
        className="status-table", id="quiet-windows")


def lists(lang: str) -> list[Any]:
    store = alert_store()
    names = dict(_systems())
    return [html.Div([html.H2(t("con_q_silences", lang)), silences_table(store.silences(), lang)], className="panel"),
            html.Div([html.H2(t("con_q_windows", lang)), windows_table(store.maintenance_windows(), names, lang)],
                     className="panel")]


def forms(lang: str) -> list[Any]:
    rules = [{"label": t("con_q_any", lang), "value": "*"}] + [{"label": rule_title(r, lang), "value": r}
                                                               for r in _rules()]
    systems = [{"label": t("con_q_every_system", lang), "value": ""}] + [{"label": n, "value": c}
                                                                        for c, n in _systems()]
    silence = html.Div([
        html.H2(t("con_q_new_silence", lang)),
        html.Label([t("con_f_rule", lang), dcc.Dropdown(rules, "*", id="quiet-rule", clearable=False)]),
        html.Label([t("con_q_entity_pattern", lang), dcc.Input(id="quiet-entity", type="text", value="",
                                                               placeholder="cam-hatien-*")]),
        html.Label([t("con_q_label", lang), dcc.Input(id="quiet-label", type="text", value="", placeholder="team=camera")]),
        html.Label([t("con_q_for", lang), dcc.Dropdown([{"label": d, "value": d} for d in DURATIONS], "2h",
                                                       id="quiet-for", clearable=False)]),
        html.Label([t("con_q_comment", lang), dcc.Input(id="quiet-comment", type="text", value="")]),
        html.Button(t("con_q_btn_silence", lang), id="quiet-add-silence", n_clicks=0),
        html.Label([t("con_q_end_id", lang), dcc.Input(id="quiet-end-id", type="number", min=1)]),
        html.Button(t("con_q_btn_end", lang), id="quiet-end-silence", n_clicks=0),
        html.Div(id=S_MSG, role="status"),
    ], className="panel quiet-form")
    maintenance = html.Div([
        html.H2(t("con_q_new_window", lang)),
        html.Label([t("con_q_system", lang), dcc.Dropdown(systems, "", id="quiet-system", clearable=False)]),
        html.Label([t("con_q_start", lang), dcc.Input(id="quiet-start", type="text", placeholder="2026-12-05 22:00")]),
        html.Label([t("con_q_end", lang), dcc.Input(id="quiet-end", type="text", placeholder="2026-12-06 02:00")]),
        html.P(t("con_q_or_weekly", lang), className="muted"),
        dcc.Checklist([{"label": t(f"con_q_day_{d}", lang), "value": d} for d in DAYS], [], id="quiet-days",
                      inline=True),
        html.Label([t("con_q_at", lang), dcc.Input(id="quiet-at", type="text", value="01:00")]),
        html.Label([t("con_q_minutes", lang), dcc.Input(id="quiet-minutes", type="number", value=120, min=1)]),
        html.Label([t("con_q_reason", lang), dcc.Input(id="quiet-reason", type="text", value="")]),
        html.Button(t("con_q_btn_window", lang), id="quiet-add-window", n_clicks=0),
        html.Label([t("con_q_delete_id", lang), dcc.Input(id="quiet-delete-id", type="number", min=1)]),
        html.Button(t("con_q_btn_delete", lang), id="quiet-delete-window", n_clicks=0),
        html.Div(id=M_MSG, role="status"),
    ], className="panel quiet-form")
    return [silence, maintenance]


def layout(lang: str) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, PATH)
    try:
        body = lists(lang)
    except IOCError as exc:
        body = [html.P(t("con_failed", lang).format(error=exc), className="console-error")]
    return html.Div([
        nav(principal, lang, PATH), lang_store(lang),
        html.H1(t("con_quiet", lang)), html.P(t("con_q_intro", lang)),
        html.Div(forms(lang) if can(principal, "alerts.act") else [html.P(t("con_q_read_only", lang),
                                                                          id="quiet-read-only")],
                 className="quiet-forms"),
        html.Div(body, id=LISTS),
    ], className="console")


def _ok(text: str) -> html.Span:
    return html.Span(text, className="console-ok")


def _failed(exc: Exception, lang: str) -> html.Span:
    return html.Span(t("con_failed", lang).format(error=exc), className="console-error")


@hooks.callback(
    Output(S_MSG, "children"),
    Input("quiet-add-silence", "n_clicks"), Input("quiet-end-silence", "n_clicks"),
    State("quiet-rule", "value"), State("quiet-entity", "value"), State("quiet-label", "value"),
    State("quiet-for", "value"), State("quiet-comment", "value"), State("quiet-end-id", "value"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def silence_action(_a, _e, rule, entity, label, duration, comment, end_id, lang):
    principal = require("alerts.act")
    store = alert_store()
    try:
        if ctx.triggered_id == "quiet-end-silence":
            if not end_id or not store.end_silence(int(end_id), principal.name):
                raise InputError(t("con_q_no_such_silence", lang).format(id=end_id))
            return _ok(t("con_q_silence_ended", lang).format(id=int(end_id)))
        labels = {}
        if label and label.strip():
            key, sep, value = label.strip().partition("=")
            if not sep or not key.strip():
                raise InputError(t("con_q_bad_label", lang))
            labels[key.strip()] = value.strip()
        if duration not in DURATIONS:
            raise InputError(t("con_q_bad_duration", lang))
        start = utcnow()
        sid = store.add_silence(rule=rule or "*", entity=(entity or "").strip() or "*", labels=labels,
                                starts_at=start, ends_at=start + parse_duration(duration), comment=comment or "",
                                actor=principal.name)
    except IOCError as exc:
        return _failed(exc, lang)
    return _ok(t("con_q_silence_added", lang).format(id=sid))


@hooks.callback(
    Output(M_MSG, "children"),
    Input("quiet-add-window", "n_clicks"), Input("quiet-delete-window", "n_clicks"),
    State("quiet-system", "value"), State("quiet-start", "value"), State("quiet-end", "value"),
    State("quiet-days", "value"), State("quiet-at", "value"), State("quiet-minutes", "value"),
    State("quiet-reason", "value"), State("quiet-delete-id", "value"), State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def maintenance_action(_a, _d, system, start, end, days, at, minutes, reason, delete_id, lang):
    principal = require("alerts.act")
    store = alert_store()
    try:
        if ctx.triggered_id == "quiet-delete-window":
            if not delete_id or not store.delete_maintenance(int(delete_id)):
                raise InputError(t("con_q_no_such_window", lang).format(id=delete_id))
            user_store().audit(principal.name, "maintenance_deleted", str(int(delete_id)))
            return _ok(t("con_q_window_deleted", lang).format(id=int(delete_id)))
        if system and system not in dict(_systems()):
            raise InputError(t("con_q_bad_system", lang))
        if not (reason or "").strip():
            raise InputError(t("con_q_need_reason", lang))
        if days:
            from agents.indicators.maintenance import WeeklyRule

            rule = {"days": [d for d in days if d in DAYS], "start": (at or "").strip(), "minutes": int(minutes or 0)}
            WeeklyRule.parse(rule)
            wid = store.add_maintenance(system=system or None, reason=reason.strip(), actor=principal.name,
                                        recurrence=rule)
        else:
            s, e = local(start, t("con_q_start", lang)), local(end, t("con_q_end", lang))
            if e <= s:
                raise InputError(t("con_q_end_before_start", lang))
            if e <= utcnow():
                raise InputError(t("con_q_in_the_past", lang))
            if e - s > timedelta(days=14):
                raise InputError(t("con_q_too_long", lang))
            wid = store.add_maintenance(system=system or None, reason=reason.strip(), actor=principal.name,
                                        starts_at=s, ends_at=e)
        user_store().audit(principal.name, "maintenance_added", str(wid), {"system": system or None,
                                                                          "reason": reason.strip()})
    except IOCError as exc:
        return _failed(exc, lang)
    return _ok(t("con_q_window_added", lang).format(id=wid))


@hooks.callback(
    Output(LISTS, "children"),
    Input(S_MSG, "children"), Input(M_MSG, "children"),
    State(LANG_STORE, "data"),
    prevent_initial_call=True,
)
def refresh_lists(_s, _m, lang):
    require("view")
    try:
        return lists(lang)
    except IOCError as exc:
        return [_failed(exc, lang)]

"""/console/drills/runs and /console/drills/run?id=N: the drill runs and one run's after-action
review — its timeline (steps and its alerts' events), its alerts with their times, the score
(``agents.indicators.drill_score``) — and ``/console/drills/run.csv?id=N``, the same as CSV.

Every role that may view the console may read them (they show alerts, which it sees anyway).
"""
from __future__ import annotations

from typing import Any

from dash import Input, Output, State, dcc, hooks, html
from flask import Response, request

from agents.indicators.drill_score import DrillScore, TimelineEntry, duration_text, score, timeline, to_csv
from ioc_dash.auth import can, current_principal, require
from ioc_dash.console.common import LANG_STORE, lang_store, settings
from ioc_dash.console.views import badge, forbidden, nav, parse_alert_id
from ioc_dash.figures import local_time
from ioc_dash.i18n import t
from streams.core.errors import IOCError
from agents.alerting.drillstore import DrillStore

RUNS_PATH, RUN_PATH = "/console/drills/runs", "/console/drills/run"
CSV_ROUTE = "console/drills/run.csv"
STATUS_BADGE = {"running": "degraded", "done": "ok", "stopped": "unknown", "failed": "down"}
REFRESH_MS = 5000


def store() -> DrillStore:
    return DrillStore(settings().dsn)


# --- pure components ------------------------------------------------------------------------------


def _title(run: dict[str, Any], lang: str) -> str:
    return run.get(f"title_{lang}") or run.get("title_vi") or run["scenario"]


def runs_table(runs: list[dict[str, Any]], lang: str) -> Any:
    if not runs:
        return html.P(t("con_no_runs", lang), id="drill-runs-empty")
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in (
        "con_col_id", "con_drill", "con_col_started", "con_col_status", "con_col_by", "con_col_alerts")]))
    body = [html.Tr([
        html.Td(html.A(f"#{r['id']}", href=f"{RUN_PATH}?id={r['id']}", id=f"drill-run-link-{r['id']}")),
        html.Td([html.Strong(r["scenario"]), " · ", _title(r, lang)]),
        html.Td(local_time(r["started_at"]), className="num"),
        html.Td(badge(t(f"drill_status_{r['status']}", lang), STATUS_BADGE.get(r["status"], "unknown"))),
        html.Td(r["started_by"]),
        html.Td(f"{r.get('alerts', 0)} / {len(r.get('expected') or [])}", className="num"),
    ], className=f"drill-run-row drill-{r['status']}") for r in runs]
    return html.Table([head, html.Tbody(body)], className="status-table", id="drill-runs-table")


def score_panel(result: DrillScore, lang: str) -> html.Div:
    promised = result.promised
    mean = duration_text(result.mean_detect_s) or "—"
    head = html.P(t("con_score_line", lang).format(detected=result.detected, promised=len(promised),
                                                   acked=result.acknowledged, mean=mean,
                                                   signals_ok=result.signals_ok, signals=len(result.signals)),
                  id="drill-score-line", className="drill-score-line")
    cols = ("con_f_rule", "con_f_entity", "con_col_id", "con_col_fired", "con_col_detect", "con_col_ack",
            "con_col_ack_time", "con_col_verdict")
    rows = []
    for a in result.alerts:
        verdict = "missed" if a.missed else ("detected" if a.promised else "unexpected")
        rows.append(html.Tr([
            html.Td(a.rule), html.Td(a.entity),
            html.Td(html.A(f"#{a.alert_id}", href=f"/console/alert?id={a.alert_id}") if a.alert_id else "—"),
            html.Td(local_time(a.fired_at) if a.fired_at else "—", className="num"),
            html.Td(duration_text(a.detect_s) or "—", className="num"),
            html.Td(f"{a.acknowledged_by} · {local_time(a.acknowledged_at)}" if a.acknowledged_at else "—"),
            html.Td(duration_text(a.ack_s) or "—", className="num"),
            html.Td(badge(t(f"drill_verdict_{verdict}", lang),
                          {"missed": "down", "detected": "ok", "unexpected": "unknown"}[verdict])),
        ], className=f"drill-alert-row drill-{verdict}"))
    table = html.Table([html.Thead(html.Tr([html.Th(t(k, lang)) for k in cols])), html.Tbody(rows)],
                       className="status-table", id="drill-score-table") if rows else \
        html.P(t("con_no_promises", lang), id="drill-score-empty")
    signals = [html.Li([badge("✓" if s.ok else "✗", "ok" if s.ok else "down"), " ",
                        s.says_en if lang == "en" else s.says_vi, html.Small(f" — {s.observed}")])
               for s in result.signals]
    return html.Div([html.H2(t("con_score", lang)), head, table,
                     html.H2(t("con_signals", lang)),
                     html.Ul(signals, id="drill-signals") if signals else html.P(t("con_no_signals", lang))],
                    className="panel", id="drill-score")


def timeline_table(entries: list[TimelineEntry], lang: str) -> html.Table:
    head = html.Thead(html.Tr([html.Th(t(k, lang)) for k in ("con_col_at", "con_col_offset", "con_col_kind",
                                                            "con_col_detail")]))
    body = [html.Tr([html.Td(local_time(e.at), className="num"),
                     html.Td(("-" if e.offset_s < 0 else "+") + duration_text(abs(e.offset_s)), className="num"),
                     html.Td(e.kind), html.Td(e.what)], className=f"event-{e.kind}") for e in entries]
    return html.Table([head, html.Tbody(body)], className="status-table", id="drill-timeline")


def run_view(run: dict[str, Any], alerts: list[dict[str, Any]], events: list[dict[str, Any]], lang: str) -> list:
    result = score(run, alerts)
    fields = [("con_drill", f"{run['scenario']} · {_title(run, lang)}"),
              ("con_col_status", badge(t(f"drill_status_{run['status']}", lang),
                                       STATUS_BADGE.get(run["status"], "unknown"))),
              ("con_col_started", local_time(run["started_at"])),
              ("con_col_finished", local_time(run["finished_at"]) if run.get("finished_at") else "—"),
              ("con_col_by", run["started_by"]), ("con_speed", f"{run.get('speed', 1):g}"),
              ("con_col_targets", ", ".join(run.get("targets") or []) or "—")]
    card = html.Div([
        html.H2([f"#{run['id']} ", _title(run, lang)]),
        html.Dl([x for key, value in fields for x in (html.Dt(t(key, lang)), html.Dd(value))], className="alert-fields"),
        html.A(t("con_export_csv", lang), href=f"/{CSV_ROUTE}?id={run['id']}", id="drill-export-csv",
               className="console-export", download=f"drill-run-{run['id']}.csv"),
    ], className="panel", id="drill-run-card")
    return [card, score_panel(result, lang),
            html.Div([html.H2(t("con_timeline", lang)), timeline_table(timeline(run, events), lang)], className="panel")]


# --- pages ----------------------------------------------------------------------------------------


def _page(lang: str, path: str, title: str, *body) -> html.Div:
    principal = current_principal()
    if not can(principal, "view"):
        return forbidden(principal, lang, path)
    return html.Div([nav(principal, lang, RUNS_PATH), lang_store(lang), *body[:-1], html.H1(t(title, lang)), body[-1]],
                    className="console")


def runs_layout(lang: str) -> html.Div:
    return _page(lang, RUNS_PATH, "con_drill_runs", dcc.Interval(id="drill-runs-tick", interval=REFRESH_MS),
                 html.Div(id="drill-runs", className="panel"))


def run_layout(lang: str) -> html.Div:
    return _page(lang, RUN_PATH, "con_after_action", dcc.Location(id="drill-run-loc", refresh=False),
                 dcc.Interval(id="drill-run-tick", interval=REFRESH_MS), html.Div(id="drill-run"))


@hooks.callback(Output("drill-runs", "children"), Input("drill-runs-tick", "n_intervals"), State(LANG_STORE, "data"))
def show_runs(_n, lang):
    require("view")
    try:
        return runs_table(store().runs(), lang)
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error")


@hooks.callback(Output("drill-run", "children"), Input("drill-run-loc", "search"),
                Input("drill-run-tick", "n_intervals"), State(LANG_STORE, "data"))
def show_run(search, _n, lang):
    require("view")
    run_id = parse_alert_id(search)
    if run_id is None:
        return html.P(t("con_no_run", lang).format(id="?"), id="drill-run-missing")
    s = store()
    try:
        return run_view(s.run(run_id), s.alerts(run_id), s.alert_events(run_id), lang)
    except IOCError as exc:
        return html.P(t("con_failed", lang).format(error=exc), className="console-error", id="drill-run-missing")


@hooks.route(CSV_ROUTE)
def export_csv():
    require("view")
    run_id = parse_alert_id(request.query_string.decode("ascii", "replace"))
    if run_id is None:
        return Response("id=N is required\n", status=400, mimetype="text/plain")
    s = store()
    try:
        run = s.run(run_id)
    except IOCError as exc:
        return Response(f"{exc}\n", status=404, mimetype="text/plain")
    body = to_csv(run, score(run, s.alerts(run_id)), timeline(run, s.alert_events(run_id)))
    return Response("\ufeff" + body, mimetype="text/csv",  # the BOM: spreadsheets then read UTF-8 (Vietnamese)
                    headers={"Content-Disposition": f'attachment; filename="drill-run-{run_id}.csv"'})

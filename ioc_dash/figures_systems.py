"""Information systems: the status table with sparklines, the status grid and the status timeline.

Inputs are the snapshot's ``systems`` (recent window), ``history`` (60 s rows of the last hour)
and ``uptime``; statuses per minute come from the same ``agents.indicators.health.health_status`` as the
live status, so the timeline and the table never disagree about what "degraded" means.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from dash import dcc, html

from streams.core import sketch
from agents.indicators.health import HealthStatus, StatusRules, health_status
from agents.indicators.history import Entity, entity_href
from streams.core.windows import window_start
from ioc_dash.figures import (COLORS, STATUS_ORDER, ago, badge, data_table, figure_layout, local_time, ms, pct,
                              rgba, system_name)
from ioc_dash.i18n import t
from streams.core.geography import Province

HISTORY_MINUTES = 60
#: heatmap value of each status (worst = 0), and the discrete colour scale that draws it
TIMELINE_Z = STATUS_ORDER
TIMELINE_COLORS = [[0, COLORS["down"]], [1 / 6, COLORS["down"]], [1 / 6, COLORS["degraded"]],
                   [0.5, COLORS["degraded"]], [0.5, COLORS["unknown"]], [5 / 6, COLORS["unknown"]],
                   [5 / 6, COLORS["ok"]], [1, COLORS["ok"]]]
SPARK_CONFIG = {"staticPlot": True, "displayModeBar": False}


def history_by_system(rows: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    out: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        out.setdefault(r["system"], []).append(r)
    for series in out.values():
        series.sort(key=lambda r: r["time"])
    return out


def minute_status(row: Mapping[str, Any], rules: StatusRules) -> HealthStatus:
    """The status of one 60 s window, judged as if read at its end (a minute with a row has data)."""
    end = row["time"] + timedelta(seconds=60)
    return health_status(row["system"], {**row, "last_event": end}, now=end, rules=rules)


def minutes(now: datetime, n: int = HISTORY_MINUTES) -> list[datetime]:
    """The starts of the last ``n`` complete minutes before ``now``."""
    last = window_start(now, 60) - timedelta(minutes=1)
    return [last - timedelta(minutes=n - 1 - i) for i in range(n)]


def timeline(history: Mapping[str, list[Mapping[str, Any]]], systems: list[str],
             now: datetime, rules: StatusRules) -> tuple[list[datetime], list[list[str]]]:
    """Per system, the status of each minute of the last hour (``stale`` without data)."""
    xs = minutes(now)
    out = []
    for code in systems:
        by_minute = {r["time"]: minute_status(r, rules).status for r in history.get(code, [])}
        out.append([by_minute.get(m, "stale") for m in xs])
    return xs, out


def timeline_legend(lang: str) -> html.Div:
    """What the timeline's colours mean: a key of each status, worst first."""
    return html.Div([html.Span([html.Span(className=f"status-key cell-{s}"), t(f"status_{s}", lang)])
                     for s in TIMELINE_Z], className="status-legend", id="sys-timeline-legend")


def timeline_figure(xs: list[datetime], statuses: list[list[str]], labels: list[str], lang: str,
                    scale: float = 1.0) -> dict[str, Any]:
    z = [[TIMELINE_Z[s] for s in row] for row in statuses]
    text = [[t(f"status_{s}", lang) for s in row] for row in statuses]
    trace = {"type": "heatmap", "x": [local_time(x, "%H:%M") for x in xs], "y": labels, "z": z, "text": text,
             "zmin": 0, "zmax": 3, "colorscale": TIMELINE_COLORS, "showscale": False, "xgap": 1, "ygap": 3,
             "hovertemplate": "%{y}<br>%{x}: %{text}<extra></extra>"}
    return {"data": [trace],
            "layout": figure_layout(scale, margin={"l": round(10 * scale), "r": round(10 * scale),
                                                   "t": round(5 * scale), "b": round(35 * scale)},
                                    yaxis={"autorange": "reversed", "automargin": True, "dtick": 1},  # every name
                                    xaxis={"nticks": 13, "showgrid": False})}


def series(rows: list[Mapping[str, Any]], metric: str) -> tuple[list[str], list[float | None]]:
    """(local times, values) of ``p95_ms`` or ``error_rate`` per minute."""
    xs, ys = [], []
    for r in rows:
        xs.append(local_time(r["time"], "%H:%M"))
        if metric == "p95_ms":
            ys.append(sketch.quantile(r.get("latency_hist"), 0.95))
        else:
            ys.append(r["errors"] / r["requests"] if r["requests"] else None)
    return xs, ys


def sparkline(xs: list[str], ys: list[float | None], color: str, *, y_floor: float = 0.0,
              scale: float = 1.0) -> dict[str, Any]:
    known = [y for y in ys if y is not None]
    top = max([y_floor, *known]) * 1.1 or 1.0
    trace = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "line": {"color": color, "width": 2 * scale},
             "fill": "tozeroy", "fillcolor": rgba(color, 0.25), "connectgaps": False}
    return {"data": [trace],
            "layout": figure_layout(scale, margin={"l": 0, "r": 0, "t": 2, "b": 2}, showlegend=False,
                                    xaxis={"visible": False}, yaxis={"visible": False, "range": [0, top]})}


def spark_graph(fig: dict[str, Any], id: dict[str, str]) -> dcc.Graph:
    return dcc.Graph(figure=fig, config=SPARK_CONFIG, className="spark", id=id, style={"height": "1.9rem"})


def status_table(statuses: list[HealthStatus], province: Province, now: datetime, lang: str,
                 uptime: Mapping[str, tuple[float | None, float | None]] | None = None,
                 history: Mapping[str, list[Mapping[str, Any]]] | None = None, scale: float = 1.0) -> html.Table:
    """Every system, worst first; with sparklines of the last hour when ``history`` is given."""
    uptime = uptime or {}
    keys = ["system", "status", "availability", "error_rate", "p95", "uptime_24h", "uptime_30d", "last_event"]
    if history is not None:
        keys[5:5] = ["p95_hour", "errors_hour"]
    rows = []
    for s in statuses:
        up24, up30 = uptime.get(s.system, (None, None))
        row: list[Any] = [
            [dcc.Link(system_name(province, s.system, lang), href=entity_href(Entity("system", s.system), lang=lang),
                      className="sys-name entity-link", id={"type": "system-history", "system": s.system}),
             html.Div(s.system, className="sys-code")],
            badge(t(f"status_{s.status}", lang), s.status), pct(s.availability), pct(s.error_rate), ms(s.p95_ms),
            pct(up24, 2), pct(up30, 2), ago(s.last_event, now, lang),
        ]
        if history is not None:
            rows_h = history.get(s.system, [])
            row[5:5] = [
                spark_graph(sparkline(*series(rows_h, "p95_ms"), COLORS["accent"], y_floor=100, scale=scale),
                            {"type": "spark-p95", "system": s.system}),
                spark_graph(sparkline(*series(rows_h, "error_rate"), COLORS["down"], y_floor=0.05, scale=scale),
                            {"type": "spark-errors", "system": s.system}),
            ]
        rows.append(row)
    numeric = [2, 3, 4, 5, 6, 7] if history is None else [2, 3, 4, 7, 8, 9]
    return data_table([t(k, lang) for k in keys], rows, id="status-table", numeric=numeric,
                      row_ids=[{"type": "system-row", "system": s.system} for s in statuses],
                      row_classes=[f"row-{s.status}" for s in statuses])


def status_grid(statuses: list[HealthStatus], province: Province, lang: str) -> html.Div:
    """One cell per system, coloured by its status: the overview's at-a-glance view."""
    return html.Div([
        html.Div([html.Div(system_name(province, s.system, lang), className="cell-name",
                           title=system_name(province, s.system, lang)),
                  html.Div([t(f"status_{s.status}", lang), html.Span(" · " + pct(s.availability, 0)
                                                                      if s.availability is not None else "")],
                           className="cell-status")],
                 className=f"grid-cell cell-{s.status}", id={"type": "system-cell", "system": s.system})
        for s in statuses
    ], className="status-grid", id="status-grid")

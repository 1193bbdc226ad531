"""History over a range: figures and tables from rollup rows (``agents/indicators/queries/history.py``).

Pure functions, like every ``figures_*`` module: a page's history (every system, every link ...)
and one entity's (a system's availability and latency, a station's min/mean/max, a zone's tracks,
a link's polls, a source's counts).  Every chart says its resolution ("theo giờ", "theo ngày").
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from functools import reduce
from typing import Any

from dash import dcc, html

from agents.indicators.history import Entity, HistoryRange, entity_href
from agents.indicators.sla import MonthSla
from ioc_dash.figures import (COLORS, SEVERITIES, data_table, empty_figure, figure_layout, local_time, ms, num,
                              pct)
from ioc_dash.i18n import rule_title, t
from streams.core import sketch

Row = Mapping[str, Any]
#: availability colours of a heatmap: red below 90 %, amber to 99 %, green above
AVAILABILITY_COLORS = [[0, COLORS["down"]], [0.9, COLORS["down"]], [0.9, COLORS["degraded"]],
                       [0.99, COLORS["degraded"]], [0.99, COLORS["ok"]], [1, COLORS["ok"]]]
#: times in the history's tables: the range says the year
SHORT_TIME = "%H:%M %d/%m"
SERIES_COLORS = ("#4ea1f2", "#2fbf71", "#f2b134", "#e5484d", "#b38cf2", "#f27b35", "#5fd4d4", "#e8eef7", "#8ea0b8")


def share(part: float | None, whole: float | None) -> float | None:
    return None if not whole or part is None else part / whole


def mean(total: float | None, n: float | None) -> float | None:
    return None if not n or total is None else total / n


def grouped(rows: Iterable[Row], key: str) -> dict[str, list[Row]]:
    """Rows by the value of ``key``, each group in time order (rows come ordered by ``at``)."""
    out: dict[str, list[Row]] = {}
    for r in rows:
        out.setdefault(str(r[key]), []).append(r)
    return out


def resolution_label(rng: HistoryRange, lang: str) -> str:
    return t(f"hist_res_{rng.resolution}", lang)


def titled(key: str, rng: HistoryRange, lang: str) -> str:
    """A chart's title with its resolution: "Sẵn sàng (theo ngày)"."""
    return f"{t(key, lang)} ({resolution_label(rng, lang)})"


def _times(rows: Sequence[Row]) -> list[datetime]:
    return [r["at"] for r in rows]


def line(rows: Sequence[Row], value: Callable[[Row], float | None], name: str, color: str, scale: float,
         **extra: Any) -> dict[str, Any]:
    return {"type": "scatter", "mode": "lines", "name": name, "x": _times(rows), "y": [value(r) for r in rows],
            "line": {"color": color, "width": 2.5 * scale}, "connectgaps": False, **extra}


#: tick labels of the time axis per resolution (day/month, the hour on a line of its own)
TICKS = {"window": "%H:%M", "hour": "%H:%M<br>%d/%m", "day": "%d/%m"}


def _figure(traces: list[dict[str, Any]], scale: float, lang: str, res: str = "day", **layout: Any) -> dict[str, Any]:
    if not traces or not any(tr.get("x") or tr.get("z") for tr in traces):
        return empty_figure(t("hist_no_data", lang), scale)
    axes = {"xaxis": {"tickformat": TICKS.get(res, "%d/%m"), "automargin": True, **layout.pop("xaxis", {})},
            "yaxis": {"automargin": True, **layout.pop("yaxis", {})}}
    return {"data": traces, "layout": figure_layout(scale, **axes, **layout)}


def heatmap(groups: Mapping[str, Sequence[Row]], value: Callable[[Row], float | None], labels: Mapping[str, str],
            rng: HistoryRange, scale: float, lang: str) -> dict[str, Any]:
    """One row per entity, one column per bucket, coloured by a share (availability, links up)."""
    xs = sorted({r["at"] for rows in groups.values() for r in rows})
    codes = list(groups)
    z = []
    for code in codes:
        by_at = {r["at"]: value(r) for r in groups[code]}
        z.append([None if by_at.get(x) is None else round(100 * by_at[x], 2) for x in xs])
    trace = {"type": "heatmap", "x": xs, "y": [labels.get(c, c) for c in codes], "z": z, "zmin": 0, "zmax": 100,
             "colorscale": AVAILABILITY_COLORS, "showscale": False, "xgap": 1, "ygap": 2,
             "hovertemplate": "%{y} %{x}: %{z} %<extra></extra>"}
    return _figure([trace], scale, lang, rng.resolution, yaxis={"autorange": "reversed"})


# --- a page's history ------------------------------------------------------------------------------


def systems_figure(rows: Sequence[Row], labels: Mapping[str, str], rng: HistoryRange, scale: float,
                   lang: str) -> dict[str, Any]:
    return heatmap(grouped(rows, "system"), lambda r: share(r["probes_ok"], r["probes"]), labels, rng, scale, lang)


def security_figure(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> dict[str, Any]:
    groups = grouped(rows, "severity")
    traces = [{"type": "bar", "name": t(f"severity_{s}", lang), "x": _times(groups[s]),
               "y": [r["events"] for r in groups[s]], "marker": {"color": COLORS[s]}}
              for s in SEVERITIES if s in groups]
    return _figure(traces, scale, lang, rng.resolution, barmode="stack")


def sensors_figure(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> dict[str, Any]:
    """One metric over every station: the highest reading, the mean, the lowest."""
    return _figure(min_mean_max(rows, scale, lang), scale, lang, rng.resolution, showlegend=False,
                   margin={"t": round(4 * scale), "b": round(4 * scale)})


def min_mean_max(rows: Sequence[Row], scale: float, lang: str) -> list[dict[str, Any]]:
    return [line(rows, lambda r: r["max"], t("hist_max", lang), COLORS["down"], scale),
            line(rows, lambda r: mean(r["total"], r["n"]), t("hist_mean", lang), COLORS["accent"], scale),
            line(rows, lambda r: r["min"], t("hist_min", lang), COLORS["ok"], scale)]


def sources_figure(rows: Sequence[Row], labels: Mapping[str, str], rng: HistoryRange, scale: float,
                   lang: str) -> dict[str, Any]:
    groups = grouped(rows, "source")
    traces = [{"type": "bar", "name": labels.get(s, s), "x": _times(rs), "y": [r["received"] for r in rs],
               "marker": {"color": SERIES_COLORS[i % len(SERIES_COLORS)]}} for i, (s, rs) in enumerate(groups.items())]
    return _figure(traces, scale, lang, rng.resolution, barmode="stack")


def network_figure(rows: Sequence[Row], labels: Mapping[str, str], rng: HistoryRange, scale: float,
                   lang: str) -> dict[str, Any]:
    return heatmap(grouped(rows, "link"), lambda r: share(r["polls_up"], r["polls"]), labels, rng, scale, lang)


def totals(rows: Iterable[Row], key: str, columns: Sequence[str]) -> dict[str, dict[str, float]]:
    """The sums of ``columns`` over the range, per value of ``key``."""
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        acc = out.setdefault(str(r[key]), dict.fromkeys(columns, 0.0))
        for c in columns:
            acc[c] += r[c] or 0
    return out


def entity_links(kind: str, codes: Iterable[str], labels: Mapping[str, str], rng: HistoryRange, lang: str,
                 values: Mapping[str, str] | None = None) -> html.Div:
    """Each entity of a page, as a link to its history over the same range (with a figure beside it)."""
    values = values or {}
    return html.Div([dcc.Link([html.Span(labels.get(c, c), className="hist-link-name"),
                               html.Span(values.get(c, ""), className="hist-link-value")],
                              href=entity_href(Entity(kind, c), rng.query(), lang), className="hist-link",
                              id={"type": "hist-link", "kind": kind, "id": c})
                     for c in codes], className="hist-links")


def metric_name(metric: str, lang: str) -> str:
    key = f"metric_{metric}"
    text = t(key, lang)
    return metric if text == key else text


# --- one entity ------------------------------------------------------------------------------------


def system_figures(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> list[tuple[str, dict]]:
    avail = line(rows, lambda r: share(r["probes_ok"], r["probes"]), t("hist_availability", lang), COLORS["ok"],
                 scale)
    errors = line(rows, lambda r: share(r["errors"], r["requests"]), t("hist_error_rate", lang), COLORS["down"],
                  scale)
    p95 = line(rows, lambda r: sketch.quantile(r["latency_hist"], 0.95), t("hist_p95", lang), COLORS["accent"],
               scale)
    return [(titled("hist_availability_errors", rng, lang),
             _figure([avail, errors], scale, lang, rng.resolution, yaxis={"tickformat": ".0%", "range": [0, 1.02]})),
            (titled("hist_p95_ms", rng, lang), _figure([p95], scale, lang, rng.resolution))]


def station_figures(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> list[tuple[str, dict]]:
    out = []
    for metric, rs in sorted(grouped(rows, "metric").items()):
        out.append((f"{metric_name(metric, lang)} ({resolution_label(rng, lang)})",
                    _figure(min_mean_max(rs, scale, lang), scale, lang, rng.resolution)))
    return out or [(titled("hist_values", rng, lang), empty_figure(t("hist_no_data", lang), scale))]


def zone_figures(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> list[tuple[str, dict]]:
    groups = grouped(rows, "rule")
    traces = [{"type": "bar", "name": rule, "x": _times(rs), "y": [r["tracks"] for r in rs],
               "marker": {"color": SERIES_COLORS[i % len(SERIES_COLORS)]}} for i, (rule, rs) in enumerate(groups.items())]
    return [(titled("hist_tracks", rng, lang), _figure(traces, scale, lang, rng.resolution, barmode="stack"))]


def link_figures(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> list[tuple[str, dict]]:
    up = line(rows, lambda r: share(r["polls_up"], r["polls"]), t("hist_link_up", lang), COLORS["ok"], scale)
    loss = line(rows, lambda r: mean(r["loss_sum"], r["loss_n"]), t("hist_loss", lang), COLORS["down"], scale)
    latency = line(rows, lambda r: mean(r["latency_sum"], r["latency_n"]), t("hist_latency", lang), COLORS["accent"],
                   scale)
    return [(titled("hist_link_up_loss", rng, lang),
             _figure([up, loss], scale, lang, rng.resolution, yaxis={"tickformat": ".0%"})),
            (titled("hist_latency_ms", rng, lang), _figure([latency], scale, lang, rng.resolution))]


def source_figures(rows: Sequence[Row], rng: HistoryRange, scale: float, lang: str) -> list[tuple[str, dict]]:
    traces = [line(rows, lambda r, c=c: r[c], t(f"hist_{c}", lang), color, scale)
              for c, color in (("received", COLORS["accent"]), ("accepted", COLORS["ok"]),
                               ("rejected", COLORS["down"]))]
    return [(titled("hist_counts", rng, lang), _figure(traces, scale, lang, rng.resolution))]


def mark_alerts(fig: dict[str, Any], alerts: Sequence[Row], until: datetime) -> dict[str, Any]:
    """The alerts' spans shaded on a chart (an alert still open: up to the range's end)."""
    if not fig.get("data"):
        return fig
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": a["started_at"], "x1": a.get("resolved_at") or until,
               "y0": 0, "y1": 1, "fillcolor": COLORS[a["severity"]] if a["severity"] in COLORS else COLORS["down"],
               "opacity": 0.25, "line": {"width": 0}, "layer": "below"} for a in alerts]
    return {**fig, "layout": {**fig["layout"], "shapes": shapes}}


ENTITY_FIGURES = {"system": system_figures, "station": station_figures, "zone": zone_figures,
                  "link": link_figures, "source": source_figures}


def alerts_table(rows: Sequence[Row], lang: str) -> html.Table:
    body = [[html.A(f"#{r['id']}", href=f"/console/alert?id={r['id']}",  # what it said: on hover
                    title=r.get(f"summary_{lang}") or r.get("summary_vi") or rule_title(r["rule"], lang)),
             t(f"severity_{r['severity']}", lang), local_time(r["started_at"], SHORT_TIME),
             local_time(r["resolved_at"], SHORT_TIME) if r.get("resolved_at") else t("hist_open", lang)] for r in rows]
    head = [t(k, lang) for k in ("hist_alert", "hist_severity", "hist_from", "hist_to")]
    return data_table(head, body, id="hist-alerts", empty=t("hist_no_alert", lang))


def sla_table(rows: Sequence[MonthSla], lang: str) -> html.Table:
    body = [[f"{r.month.month:02d}/{r.month.year}", pct(r.target, 2), pct(r.availability, 3),
             num(r.down, unit=t("hist_minutes", lang)), t(f"con_sla_{r.verdict}", lang)] for r in rows]
    head = [t(k, lang) for k in ("hist_month", "con_sla_target", "con_sla_availability", "con_sla_down",
                                 "con_sla_verdict")]
    return data_table(head, body, id="hist-sla", numeric=(1, 2, 3), empty=t("hist_no_data", lang))


def outages_table(rows: Sequence[MonthSla], lang: str) -> html.Table:
    body = [[local_time(o.start, SHORT_TIME), local_time(o.end, SHORT_TIME),
             num(o.minutes, unit=t("hist_minutes", lang)),
             html.A(f"#{o.alert_id}", href=f"/console/alert?id={o.alert_id}") if o.alert_id else "—"]
            for r in rows for o in r.outages]
    head = [t(k, lang) for k in ("hist_from", "hist_to", "hist_duration", "hist_alert")]
    return data_table(head, body[-12:], id="hist-outages", numeric=(2,), empty=t("hist_no_outage", lang))


def summary(kind: str, rows: Sequence[Row], lang: str) -> list[tuple[str, str]]:
    """The figures of the whole range: (label, value) pairs shown as tiles."""
    if kind == "system":
        probes, ok = sum(r["probes"] for r in rows), sum(r["probes_ok"] for r in rows)
        hist = reduce(sketch.merge, (r["latency_hist"] for r in rows), None)
        return [(t("hist_availability", lang), pct(share(ok, probes), 2)),
                (t("hist_p95", lang), ms(sketch.quantile(hist, 0.95)) if hist else "—")]
    if kind == "source":
        return [(t(f"hist_{c}", lang), num(sum(r[c] for r in rows))) for c in ("received", "accepted", "rejected")]
    if kind == "link":
        polls, up = sum(r["polls"] for r in rows), sum(r["polls_up"] for r in rows)
        return [(t("hist_link_up", lang), pct(share(up, polls), 2)),
                (t("hist_loss", lang), pct(mean(sum(r["loss_sum"] for r in rows), sum(r["loss_n"] for r in rows)), 2))]
    if kind == "zone":
        return [(t("hist_tracks", lang), num(sum(r["tracks"] for r in rows)))]
    lows = [r["min"] for r in rows if r["min"] is not None]
    highs = [r["max"] for r in rows if r["max"] is not None]
    return [(t("hist_min", lang), num(min(lows), 2) if lows else "—"),
            (t("hist_mean", lang), num(mean(sum(r["total"] for r in rows), sum(r["n"] for r in rows)), 2)),
            (t("hist_max", lang), num(max(highs), 2) if highs else "—")]

"""History on the wall: the range bar of the pages where history helps, a page's history over a range,
and ``/history?kind=…&id=…``: one entity's history.

A page of ``PAGES`` shows the live hour by default, with the range bar above it; ``?range=30d`` (or
``?range=custom&from=…&to=…``) shows, instead of the live panels, the family's history over that
range, read from the rollups (``ioc_dash.history_store``), each entity linked to its own history.
The range is in the URL, so a wall screen can be pinned to it and a link shared.  ``/history`` shows
one entity over the range (24 h by default): its charts, the range's figures, and for a system its
alerts, its outages and its service level for the months the range covers (``agents.indicators.sla``).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import dash
from dash import Input, Output, State, dcc, html

from agents.indicators.history import (CUSTOM, SPANS, Entity, HistoryRange, alert_entity, custom_range, months,
                                       parse_entity,
                                       parse_range, query_params, range_href, with_query)
from agents.indicators.sla import MonthSla, SlaPolicy, load_sla_policy, month_report
from ioc_dash import figures_history as fh
from ioc_dash.context import WallContext
from ioc_dash.figures import SEVERITIES, data_table, num, pct, system_name, tile
from ioc_dash.history_store import HistoryStore
from ioc_dash.i18n import pick_lang, t
from ioc_dash.pages.common import GRAPH_CONFIG, page, panel
from streams.core.clock import LOCAL_TZ, utcnow
from streams.core.errors import InputError, IOCError

PATH, KEY = "/history", "history"
#: the wall pages with a range bar: path -> page key (``queries.history.PAGE_QUERIES``)
PAGES = {"/systems": "systems", "/security": "security", "/environment": "environment", "/sources": "sources",
         "/network": "network"}
#: the sensor metrics the environment page's history draws (one chart each)
ENV_METRICS = ("waterLevel", "salinity", "precipitation", "pm25")
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
#: a screen pinned to a range redraws it this often (the rollups change once an hour at most)
REDRAW_MS = 5 * 60 * 1000
#: how long the service level of a month that has ended is kept before it is counted again
SLA_KEPT = timedelta(hours=1)
SLA_KEPT_MAX = 1000
#: a page's history chart fills the screen below the range bar at 1920x1080
CHART_HEIGHT = "36rem"


def parse_day(text: str | None, field: str) -> date:
    """A date typed in the range bar: ``31/12/2026`` or ``2026-12-31``."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime((text or "").strip(), fmt).date()
        except ValueError:
            continue
    raise InputError(f"{field}: {text!r} is not a date (dd/mm/yyyy)")


def range_bar(path: str, search: str | None, rng: HistoryRange | None, lang: str, error: str | None = None) -> html.Div:
    """The ranges as links (the current one marked), and a custom range from two typed dates."""
    current = rng.key if rng else None
    links = [dcc.Link(t(f"range_{k}", lang), href=range_href(path, search, k), id=f"range-{k}",
                      className="range-link active" if k == current else "range-link") for k in SPANS]
    first = rng.first.strftime("%d/%m/%Y") if rng and rng.first else ""
    last = rng.last.strftime("%d/%m/%Y") if rng and rng.last else ""
    custom = html.Span([
        dcc.Input(id="range-from", value=first, placeholder=t("range_date_hint", lang), className="range-date"),
        html.Span("–", className="range-dash"),
        dcc.Input(id="range-to", value=last, placeholder=t("range_date_hint", lang), className="range-date"),
        html.Button(t("range_show", lang), id="range-go",
                    className="range-link active" if current == CUSTOM else "range-link"),
    ], className="range-custom")
    notes = [html.Span(t("range_invalid", lang), title=error, className="range-error", id="range-error")] if error \
        else [html.Span(id="range-error", className="range-error")]
    resolution = [html.Span(fh.resolution_label(rng, lang), className="range-res", id="range-res")] \
        if rng and not rng.live else []
    return html.Div([html.Span(t("range_label", lang), className="range-label"), *links, custom, *resolution, *notes],
                    className="range-bar", id="range-bar")


def page_body(path: str, search: str | None, lang: str, live: Callable[[str], Any]) -> html.Div:
    """A page of ``PAGES``: the range bar, then the live page or the page's history over the range."""
    try:
        rng = parse_range(query_params(search), utcnow(), LOCAL_TZ)
    except InputError as exc:
        return html.Div([range_bar(path, search, None, lang, str(exc)), live(lang)], className="range-host")
    if rng.live:
        return html.Div([range_bar(path, search, rng, lang), live(lang)], className="range-host")
    key = PAGES[path]
    ask = {"page": key, "search": search or ""}
    return html.Div([range_bar(path, search, rng, lang), dcc.Store(id="hist-ask", data=ask),
                     dcc.Interval(id="hist-tick", interval=REDRAW_MS),
                     page(key, lang, panel(html.Span(id="hist-title"), html.Div(id="hist-chart"), id="hist-chart-panel"),
                          panel(t(f"hist_list_{key}", lang), html.Div(id="hist-list"), id="hist-list-panel"),
                          className="grid-history")],
                    className="range-host")


def entity_and_range(search: str | None) -> tuple[Entity, HistoryRange]:
    """What ``/history?…`` asks for; ``?entity=…`` (an alert's entity: the console's link) leaves the kind to
    be found in the province (``HistoryViews.resolve``)."""
    params = query_params(search)
    entity = Entity("", params["entity"].strip()) if params.get("entity") and not params.get("kind") \
        else parse_entity(params)
    return entity, parse_range(params if params.get("range") else {**params, "range": "24h"}, utcnow(), LOCAL_TZ)


def entity_body(search: str | None, lang: str) -> html.Div:
    """``/history``: the range bar and one entity's history (24 h when no range is asked for)."""
    try:
        entity, rng = entity_and_range(search)
    except InputError as exc:
        return html.Div(html.P(t("hist_bad_entity", lang), title=str(exc), className="page-missing", id="hist-error"),
                        className="range-host")
    ask = {"entity": entity.id, "search": search or ""}
    return html.Div([range_bar(PATH, search, rng, lang), dcc.Store(id="hist-ask", data=ask),
                     dcc.Interval(id="hist-tick", interval=REDRAW_MS),
                     html.Div([html.H2(id="hist-entity", className="hist-entity"),
                               html.Div(id="hist-body", className="hist-body")],
                              className="page page-history", id="page-history")],
                    className="range-host")


@lru_cache(maxsize=4)
def _policy(path: Path) -> SlaPolicy:
    return load_sla_policy(path)


class HistoryViews:
    """What the callbacks show, from the store's rows and the pure figures (``figures_history``)."""

    def __init__(self, ctx: WallContext, store: HistoryStore, dsn: str, sla_file: Path) -> None:
        self.ctx, self.store, self.dsn, self.sla_file = ctx, store, dsn, sla_file
        self.names = ctx.province.names()
        self._slas: dict[tuple[str, date], tuple[datetime, MonthSla]] = {}  # (system, month) -> (counted at, level)

    def labels(self, lang: str) -> dict[str, str]:
        """Code -> name in ``lang`` (systems have an English name; places keep theirs)."""
        systems = {s.code: system_name(self.ctx.province, s.code, lang) for s in self.ctx.province.systems}
        return {**{f: t(f"feed_{f}", lang) for f in self.ctx.families}, **self.names, **systems}

    def page(self, key: str, rng: HistoryRange, lang: str, scale: float) -> tuple[str, Any, Any]:
        rows = self.store.page(key, rng)
        labels = self.labels(lang)
        title = fh.titled(f"hist_title_{key}", rng, lang)
        if key == "systems":
            fig = fh.systems_figure(rows, labels, rng, scale, lang)
            sums = fh.totals(rows, "system", ("probes", "probes_ok"))
            codes = [s.code for s in self.ctx.province.systems]
            values = {c: pct(fh.share(v["probes_ok"], v["probes"]), 2) for c, v in sums.items()}
            return title, graph(fig, "hist-graph", CHART_HEIGHT), fh.entity_links("system", codes, labels, rng, lang, values)
        if key == "network":
            fig = fh.network_figure(rows, labels, rng, scale, lang)
            sums = fh.totals(rows, "link", ("polls", "polls_up"))
            codes = sorted(sums) or [n.code for n in self.ctx.province.networks]
            values = {c: pct(fh.share(v["polls_up"], v["polls"]), 2) for c, v in sums.items()}
            return title, graph(fig, "hist-graph", CHART_HEIGHT), fh.entity_links("link", codes, labels, rng, lang, values)
        if key == "sources":
            fig = fh.sources_figure(rows, labels, rng, scale, lang)
            sums = fh.totals(rows, "source", ("received", "rejected"))
            values = {c: f"{num(v['received'])} / {num(v['rejected'])}" for c, v in sums.items()}
            return title, graph(fig, "hist-graph", CHART_HEIGHT), \
                fh.entity_links("source", sorted(sums) or self.ctx.families, labels, rng, lang, values)
        if key == "environment":  # one chart per metric: their units differ
            groups = fh.grouped((r for r in rows if r["metric"] in ENV_METRICS), "metric")
            charts = [html.Div([html.Div(fh.metric_name(m, lang), className="hist-sub"),
                                graph(fh.sensors_figure(groups.get(m, []), rng, scale, lang), f"hist-graph-{m}",
                                      "15.5rem")]) for m in ENV_METRICS]
            codes = [s.code for s in self.ctx.province.stations]
            return title, html.Div(charts, className="hist-charts"), \
                fh.entity_links("station", codes, labels, rng, lang)
        fig = fh.security_figure(rows, rng, scale, lang)
        sums = fh.totals(rows, "severity", ("events", "blocked"))
        table = data_table([t(k, lang) for k in ("hist_severity", "hist_events", "hist_blocked")],
                              [[t(f"severity_{s}", lang), num(sums[s]["events"]), num(sums[s]["blocked"])]
                               for s in SEVERITIES if s in sums], id="hist-severities", numeric=(1, 2),
                              empty=t("hist_no_data", lang))
        return title, graph(fig, "hist-graph", CHART_HEIGHT), table

    def resolve(self, entity: Entity) -> Entity:
        """An entity without a kind (an alert's) as the system, station, zone, link or source it names."""
        if entity.kind:
            return entity
        p = self.ctx.province
        found = alert_entity(entity.id, {s.code for s in p.systems}, {s.code for s in p.stations},
                             {z.code for z in p.border_zones}, {n.code for n in p.networks}, set(self.ctx.families))
        if found is None:
            raise InputError(f"entity: {entity.id!r} is not a system, station, zone, link or source of the province")
        return found

    def entity(self, entity: Entity, rng: HistoryRange, lang: str, scale: float) -> tuple[str, list[Any]]:
        entity = self.resolve(entity)
        rows = self.store.entity(entity, rng)
        name = self.labels(lang).get(entity.id, entity.id)
        heading = t("hist_entity_title", lang).format(kind=t(f"hist_kind_{entity.kind}", lang), name=name,
                                                      code=entity.id)
        tiles = html.Div([tile(v, label) for label, v in fh.summary(entity.kind, rows, lang)], className="tiles")
        figures = fh.ENTITY_FIGURES[entity.kind](rows, rng, scale, lang)
        alerts = self.store.alerts(entity, rng)
        figures = [(title, fh.mark_alerts(fig, alerts, rng.until)) for title, fig in figures]  # each alert shaded
        charts = [panel(title, graph(fig, f"hist-fig-{i}", "14.5rem")) for i, (title, fig) in enumerate(figures)]
        body: list[Any] = [tiles, html.Div(charts, className="page-grid grid-2")]
        if entity.kind == "system":
            slas = self.sla(entity, rng)
            body.append(html.Div([panel(t("hist_alerts_title", lang), fh.alerts_table(alerts[:8], lang)),
                                  panel(t("hist_sla_title", lang), fh.sla_table(slas[-6:], lang)),
                                  panel(t("hist_outages_title", lang), fh.outages_table(slas, lang))],
                                 className="page-grid grid-history-system"))
        return heading, body

    def sla(self, entity: Entity, rng: HistoryRange) -> list[MonthSla]:
        """The system's service level per month of the range; a month that has ended is counted once an
        hour at most (a year's view would otherwise count 13 months of minutes on every visit)."""
        now = utcnow()
        current = now.astimezone(LOCAL_TZ).date().replace(day=1)
        out = []
        for month in months(rng, LOCAL_TZ, now):
            key = (entity.id, month)
            kept = self._slas.get(key)
            if month == current or kept is None or now - kept[0] > SLA_KEPT:
                kept = (now, month_report(self.dsn, month, [entity.id], _policy(self.sla_file), LOCAL_TZ, now)[0])
                if len(self._slas) >= SLA_KEPT_MAX:  # codes come from URLs: keep the memory bounded
                    self._slas.clear()
                self._slas[key] = kept
            out.append(kept[1])
        return out


def graph(fig: dict[str, Any], id: str, height: str) -> dcc.Graph:
    return dcc.Graph(id=id, figure=fig, config=GRAPH_CONFIG, className="graph", style={"height": height})


def register(app: dash.Dash, views: HistoryViews) -> None:
    @app.callback(Output("hist-title", "children"), Output("hist-chart", "children"), Output("hist-list", "children"),
                  Input("hist-ask", "data"), Input("scale", "data"), Input("hist-tick", "n_intervals"),
                  State("lang", "data"))
    def page_history(ask, scale, _n, lang):
        if not ask or ask.get("page") not in PAGES.values():
            return dash.no_update, dash.no_update, dash.no_update
        lang = pick_lang(lang)
        try:
            rng = parse_range(query_params(str(ask.get("search") or "")), utcnow(), LOCAL_TZ)
            return views.page(ask["page"], rng, lang, float(scale or 1.0))
        except IOCError as exc:  # the reason on hover: the wall speaks Vietnamese, the reason may not
            return t("hist_failed", lang), html.P(t("hist_failed", lang), title=str(exc), className="range-error"), \
                html.Span("—")

    @app.callback(Output("hist-entity", "children"), Output("hist-body", "children"),
                  Input("hist-ask", "data"), Input("scale", "data"), Input("hist-tick", "n_intervals"),
                  State("lang", "data"))
    def entity_history(ask, scale, _n, lang):
        if not ask or "entity" not in ask:
            return dash.no_update, dash.no_update
        lang = pick_lang(lang)
        try:  # the URL is what counts, not what the browser keeps in the store
            entity, rng = entity_and_range(str(ask.get("search") or ""))
            return views.entity(entity, rng, lang, float(scale or 1.0))
        except InputError as exc:
            return t("hist_bad_entity", lang), [html.P(t("hist_bad_entity", lang), title=str(exc), className="range-error")]
        except IOCError as exc:
            return t("hist_failed", lang), [html.P(t("hist_failed", lang), title=str(exc), className="range-error")]

    @app.callback(Output("url", "search"), Output("range-error", "children"), Output("range-error", "title"),
                  Input("range-go", "n_clicks"), State("range-from", "value"), State("range-to", "value"),
                  State("url", "search"), State("lang", "data"), prevent_initial_call=True)
    def custom(n_clicks, first, last, search, lang):
        if not n_clicks:  # the bar drawn anew, not a click
            return dash.no_update, dash.no_update, dash.no_update
        try:
            rng = custom_range(parse_day(first, "from"), parse_day(last, "to"), LOCAL_TZ)
        except InputError as exc:
            return dash.no_update, t("range_invalid", pick_lang(lang)), str(exc)
        return "?" + with_query("", search, **rng.query()).lstrip("?"), "", ""


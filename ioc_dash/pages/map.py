"""The province map: cameras, sensor stations, incidents and citizen reports, with no map tiles."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures_map import incident_list, map_figure
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "map", "/map", "page_map"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("page_map", lang), graph("map-graph", "calc(100vh - 9.5rem)"), className="map-panel"),
        panel(t("incidents_title", lang), html.Div(id="map-incidents")),
        className="grid-map",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("map-graph", "figure"), Output("map-incidents", "children"))
    def province_map(snap: Snapshot, lang: str, scale: float):
        points = ctx.map_points(snap, lang)
        return map_figure(ctx.outline, ctx.province, points, lang, scale), incident_list(points, lang, limit=8)

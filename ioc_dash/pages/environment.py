"""Environment: water level, salinity, rain and air per station, with their statuses."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures_alerts import alert_list
from ioc_dash.figures_env import KIND_TITLES, KINDS, kind_table
from ioc_dash.i18n import t
from ioc_dash.pages.common import on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "environment", "/environment", "page_environment"
LAYOUT_ORDER = ("water_level", "rain", "salinity", "air")  # two columns: the longest lists on top


def layout(lang: str) -> html.Div:
    return page(KEY, lang, *(panel(t(KIND_TITLES[k], lang), html.Div(id=f"env-{k}")) for k in LAYOUT_ORDER),
                panel(t("alerts_title", lang), html.Div(id="env-alerts"), className="span-2"), className="grid-2")


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, *(Output(f"env-{k}", "children") for k in KINDS), Output("env-alerts", "children"))
    def environment(snap: Snapshot, lang: str, scale: float):
        views = ctx.stations(snap)
        return (*(kind_table(views, k, snap.taken_at, lang) for k in KINDS),
                alert_list(snap.alerts, snap.taken_at, lang, limit=4, page=KEY, pages=ctx.rule_pages))

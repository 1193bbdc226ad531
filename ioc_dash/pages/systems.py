"""Information systems: status with sparklines of the last hour, uptime 24 h / 30 d, status timeline."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures import system_name
from ioc_dash.figures_systems import history_by_system, status_table, timeline, timeline_figure, timeline_legend
from ioc_dash.i18n import t
from ioc_dash.pages.common import graph, on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "systems", "/systems", "page_systems"


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("systems_title", lang), html.Div(id="sys-table")),
        panel(t("timeline_title", lang), graph("sys-timeline", "14rem"), timeline_legend(lang)),
        className="grid-stack",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("sys-table", "children"), Output("sys-timeline", "figure"))
    def systems(snap: Snapshot, lang: str, scale: float):
        statuses = ctx.statuses(snap)
        history = history_by_system(snap.history)
        order = [s.system for s in statuses]
        xs, rows = timeline(history, order, snap.taken_at, ctx.status_rules)
        labels = [system_name(ctx.province, code, lang) for code in order]
        return (status_table(statuses, ctx.province, snap.taken_at, lang, snap.uptime, history, scale),
                timeline_figure(xs, rows, labels, lang, scale))

"""Public services: dossier KPIs against the plan's targets, units about to be late, citizen reports."""
from __future__ import annotations

import dash
from dash import Output, html

from ioc_dash.context import WallContext
from ioc_dash.figures_services import agency_table, kpi_tiles, late_units_table, plan_table, plan_title
from ioc_dash.i18n import t
from ioc_dash.pages.common import on_refresh, page, panel
from ioc_dash.repository import Snapshot

KEY, PATH, TITLE = "services", "/services", "page_services"
#: units and agencies shown in each of the right-hand tables: both fit beside the plan at 20 px
ROWS_SHOWN = 6


def layout(lang: str) -> html.Div:
    return page(
        KEY, lang,
        panel(t("svc_kpi_title", lang), html.Div(id="svc-kpis"), className="span-2"),
        panel(html.Span(id="svc-plan-title"), html.Div(id="svc-plan"), className="row-span-2"),
        panel(t("svc_units_title", lang), html.Div(id="svc-units")),
        panel(t("svc_citizen_title", lang), html.Div(id="svc-agencies")),
        className="grid-2",
    )


def register(app: dash.Dash, ctx: WallContext) -> None:
    @on_refresh(app, ctx, Output("svc-kpis", "children"), Output("svc-plan-title", "children"),
                Output("svc-plan", "children"),
                Output("svc-units", "children"), Output("svc-agencies", "children"))
    def services(snap: Snapshot, lang: str, scale: float):
        view = ctx.services(snap)
        plan = ctx.plan(snap)
        return (kpi_tiles(view, lang), plan_title(plan, ctx.day_of(snap), lang),
                plan_table(view.checks, lang) if plan else html.P(t("svc_no_plan_hint", lang), className="muted"),
                late_units_table(view, ctx.province, lang, limit=ROWS_SHOWN),
                agency_table(view, ctx.province, lang, limit=ROWS_SHOWN))
